/**
 * `outport sandbox`: starts the sandbox tenant and keeps it running until SIGINT/SIGTERM.
 *
 *   outport sandbox [--port N] [--host H] [--write-config FILE] [--latency-ms N] [--messages N|all]
 *                   [--fault-429 R] [--fault-503 R] [--fault-504 R] [--fault-reset R] [--fault-malformed R]
 *                   [--retry-after S] [--fault-seed N] [--page-size N] [--max-page-size N]
 *                   [--max-concurrent N] [--requests-per-window N] [--window-ms N] [--seed TEXT]
 *                   [--https [--https-port N]]
 *
 * `--https` also serves the token service over HTTPS (self-signed certificate made at start): the
 * tenant config then has an https `authorityUrl` and the `caCertificate` to trust, as MSAL needs.
 * Rates R are in [0, 1]. Exit codes: 0 after a signal, 2 on bad usage or when the server cannot start.
 */
import { writeTenantConfig } from './config';
import { startSandbox, type SandboxOptions } from './server';

/** Default number of corpus messages the CLI loads (all 6,046 take ~25 s to convert; `--messages all`). */
export const DEFAULT_CLI_MESSAGES = 1000;

/** The usage text. */
export const SANDBOX_USAGE = `usage: outport sandbox [--port N] [--host H] [--write-config FILE] [--latency-ms N] [--messages N|all]
       [--fault-429 R] [--fault-503 R] [--fault-504 R] [--fault-reset R] [--fault-malformed R] [--retry-after S] [--fault-seed N]
       [--page-size N] [--max-page-size N] [--max-concurrent N] [--requests-per-window N] [--window-ms N] [--seed TEXT]
       [--https [--https-port N]]`;

/** Parsed `outport sandbox` arguments. */
export interface SandboxCommandArgs {
  options: SandboxOptions;
  writeConfig?: string;
}

/** Parses the flags. @throws Error with a usage message on bad input */
export function parseSandboxArgs(argv: readonly string[]): SandboxCommandArgs {
  const options: SandboxOptions = { mailLimit: DEFAULT_CLI_MESSAGES };
  const faults: NonNullable<SandboxOptions['faults']> = {};
  const throttle: NonNullable<SandboxOptions['throttle']> = {};
  let writeConfig: string | undefined;
  const num = (flag: string, v: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n < min || n > max) throw new Error(`${flag} needs a number in [${min}, ${max}]`);
    return n;
  };
  const int = (flag: string, v: string | undefined, min = 0): number => {
    const n = num(flag, v, min);
    if (!Number.isInteger(n)) throw new Error(`${flag} needs an integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const v = argv[i + 1];
    const take = (): string => { if (v === undefined) throw new Error(`${flag} needs a value`); i++; return v; };
    switch (flag) {
      case '--port': options.port = int(flag, take()); if (options.port > 65535) throw new Error('--port needs a number in [0, 65535]'); break;
      case '--host': options.host = take(); break;
      case '--write-config': writeConfig = take(); break;
      case '--latency-ms': options.latencyMs = int(flag, take()); break;
      case '--messages': { const x = take(); options.mailLimit = x === 'all' ? Infinity : int(flag, x, 1); break; }
      case '--seed': options.seed = take(); break;
      case '--https': options.https = true; break;
      case '--https-port': options.httpsPort = int(flag, take()); if (options.httpsPort > 65535) throw new Error('--https-port needs a number in [0, 65535]'); break;
      case '--fault-429': faults.rate429 = num(flag, take(), 0, 1); break;
      case '--fault-503': faults.rate503 = num(flag, take(), 0, 1); break;
      case '--fault-504': faults.rate504 = num(flag, take(), 0, 1); break;
      case '--fault-reset': faults.rateReset = num(flag, take(), 0, 1); break;
      case '--fault-malformed': faults.rateMalformed = num(flag, take(), 0, 1); break;
      case '--retry-after': faults.retryAfterSeconds = num(flag, take()); throttle.retryAfterSeconds = faults.retryAfterSeconds; break;
      case '--fault-seed': faults.seed = int(flag, take()); break;
      case '--page-size': options.defaultPageSize = int(flag, take(), 1); break;
      case '--max-page-size': options.maxPageSize = int(flag, take(), 1); break;
      case '--max-concurrent': throttle.maxConcurrent = int(flag, take(), 1); break;
      case '--requests-per-window': throttle.requestsPerWindow = int(flag, take(), 1); break;
      case '--window-ms': throttle.windowMs = int(flag, take(), 1); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  const sum = (faults.rate429 ?? 0) + (faults.rate503 ?? 0) + (faults.rate504 ?? 0) + (faults.rateReset ?? 0);
  if (sum > 1) throw new Error('the request fault rates (--fault-429/503/504/reset) add up to more than 1');
  options.faults = faults;
  options.throttle = throttle;
  return { options, writeConfig };
}

/** Output streams and a stop signal (tests pass their own). */
export interface SandboxCommandIo {
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Resolves when the server is to stop; default: the first SIGINT or SIGTERM. */
  until?: Promise<unknown>;
}

/**
 * Runs `outport sandbox`: parses `argv` (the arguments after "sandbox"), starts the server, writes the
 * tenant config when asked, prints the URL, and runs until SIGINT/SIGTERM.
 * @returns the exit code: 0 after a clean stop, 2 for bad usage or a server that cannot start
 */
export async function runSandboxCommand(argv: readonly string[], io: SandboxCommandIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = io.err ?? ((l: string) => process.stderr.write(l + '\n'));
  if (argv.includes('--help') || argv.includes('-h')) { out(SANDBOX_USAGE); return 0; }
  let args: SandboxCommandArgs;
  try { args = parseSandboxArgs(argv); } catch (e) { err(`outport sandbox: ${(e as Error).message}`); err(SANDBOX_USAGE); return 2; }
  let sb;
  try { sb = await startSandbox(args.options); } catch (e) { err(`outport sandbox: cannot start: ${(e as Error).message}`); return 2; }
  try {
    if (args.writeConfig) {
      await writeTenantConfig(sb, args.writeConfig);
      out(`tenant config written to ${args.writeConfig}`);
    }
    const items = [...sb.tenant.allItems()].length;
    out(`sandbox tenant ${sb.tenantId}: ${sb.users.length} users, ${sb.tenant.mailboxes().length} mailboxes, ${items} items`);
    out(`Graph at ${sb.graphUrl}/v1.0, token endpoint ${sb.authorityUrl}/${sb.tenantId}/oauth2/v2.0/token`);
    out(sb.url);
    let onSignal: () => void = () => undefined;
    const signalled = new Promise<void>((resolve) => { onSignal = resolve; });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await Promise.race([signalled, ...(io.until ? [io.until] : [])]);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    return 0;
  } catch (e) {
    err(`outport sandbox: ${(e as Error).message}`);
    return 2;
  } finally {
    await sb.stop();
  }
}
