/**
 * Azurite (the Azure Storage emulator, npm `azurite` 3.35.0) for tests: one blob service per call,
 * on a free port of 127.0.0.1, with in-memory persistence, stopped (and its working directory removed)
 * by `stop()`. Tests of storage/, export/, jobs/ and api/ use it; docs/storage.md "Azurite by hand".
 *
 * Usage:
 *   const az = await startAzurite();
 *   const dest = createDestination(validated.config, …);   // az.blobEndpoint, az.accountKey …
 *   afterAll(() => az.stop());
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** Azurite's fixed development account (Azurite README "Default Storage Account"). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** Azurite's well-known development key (public, documented; not a secret). */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The path of the azurite-blob launcher installed by npm ci. */
export const AZURITE_BLOB_BIN = path.resolve(__dirname, '../../node_modules/.bin/azurite-blob');

/** A running Azurite blob service. */
export interface AzuriteInstance {
  /** Path-style blob endpoint including the account, e.g. "http://127.0.0.1:41234/devstoreaccount1". */
  blobEndpoint: string;
  /** "127.0.0.1:<port>". */
  host: string;
  port: number;
  accountName: 'devstoreaccount1';
  accountKey: string;
  /** `DefaultEndpointsProtocol=http;AccountName=…;AccountKey=…;BlobEndpoint=…;` */
  connectionString: string;
  /** Azurite's temporary working directory (removed by stop()). */
  workDir: string;
  /** Kills the process (SIGTERM, then SIGKILL after 3 s) and removes its working directory. */
  stop(): Promise<void>;
}

/** Options of {@link startAzurite}. */
export interface StartAzuriteOptions {
  /** Startup timeout in ms (default 30,000: the machine is shared). */
  timeoutMs?: number;
  /** Cap of Azurite's in-memory extent store in MB (default 512). */
  extentMemoryLimitMb?: number;
}

/** The environment without AZURITE_ACCOUNTS, so the default development account is the one served. */
function envWithoutAccounts(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AZURITE_ACCOUNTS;
  return env;
}

/** True when node_modules/.bin/azurite-blob exists (for describeWhenAvailable). */
export function azuriteAvailable(): boolean {
  return existsSync(AZURITE_BLOB_BIN);
}

/**
 * Starts `azurite-blob --blobHost 127.0.0.1 --blobPort 0 --inMemoryPersistence --skipApiVersionCheck
 * --loose --silent --disableTelemetry` in a fresh temporary working directory (Azurite refuses
 * --location with --inMemoryPersistence, and writes nothing there, but the directory keeps any stray
 * file out of the repository) and waits for its "successfully listens on http://…" line.
 * @throws Error when the binary is missing, exits early, or does not listen within the timeout */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  if (!azuriteAvailable()) throw new Error(`azurite-blob not found at ${AZURITE_BLOB_BIN} (run npm ci)`);
  const cwd = mkdtempSync(path.join(tmpdir(), 'outport-azurite-'));
  const args = [
    '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence',
    '--extentMemoryLimit', String(options.extentMemoryLimitMb ?? 512),
    '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry',
  ];
  const child: ChildProcess = spawn(AZURITE_BLOB_BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: envWithoutAccounts() });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${options.timeoutMs ?? 30000} ms; output:\n${output}`)), options.timeoutMs ?? 30000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const m = /successfully listens on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      rmSync(cwd, { recursive: true, force: true });
      reject(err);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`Azurite exited (${code ?? signal}) before listening; output:\n${output}`)));
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  // Keep draining its pipes so a chatty Azurite never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  // If the test process exits without stop() (a crash, a forgotten afterAll), do not leave Azurite running.
  const killOnExit = () => { child.kill('SIGKILL'); rmSync(cwd, { recursive: true, force: true }); };
  process.once('exit', killOnExit);
  const host = `127.0.0.1:${port}`;
  const blobEndpoint = `http://${host}/${AZURITE_ACCOUNT_NAME}`;
  let stopped: Promise<void> | undefined;
  return {
    blobEndpoint,
    host,
    port,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    workDir: cwd,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        let killTimer: NodeJS.Timeout | undefined;
        process.removeListener('exit', killOnExit);
        const done = () => { clearTimeout(killTimer); rmSync(cwd, { recursive: true, force: true }); resolve(); };
        if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
        child.once('exit', done);
        killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
