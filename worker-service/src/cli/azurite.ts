/**
 * Azurite's blob service (npm `azurite` 3.35.0, the Azure Storage emulator) as a child process, for
 * `outport start`'s embedded default and the tests' harness (test/harness/azurite.ts): it runs Azurite's entry point with this Node (no shell, so it works
 * on Windows too), on a free port of 127.0.0.1, in memory or persisted in a directory.
 *
 * Azurite README: "Default Storage Account" (devstoreaccount1 and its well-known key, which is public
 * and not a secret), `--blobPort`, `--inMemoryPersistence`, `--location`, `--loose`,
 * `--skipApiVersionCheck`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVELOPMENT_STORAGE } from '../storage/validate';

/** A running Azurite blob service. */
export interface AzuriteService {
  /** Path-style blob endpoint with the account, e.g. `http://127.0.0.1:41234/devstoreaccount1`. */
  blobEndpoint: string;
  port: number;
  accountName: string;
  /** Azurite's documented development key (public). */
  accountKey: string;
  /** Azurite's working directory: the `location`, or a temporary one removed at stop. */
  workDir: string;
  /** Azurite's process id (for CPU accounting in benchmarks). */
  pid: number | undefined;
  /** Stops the process (SIGTERM, SIGKILL after 3 s) and removes a temporary working directory. */
  stop(): Promise<void>;
}

/** Options of {@link startAzuriteService}. */
export interface AzuriteServiceOptions {
  /** Keep blobs in this directory (created); default in memory (gone at stop). */
  location?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** Startup timeout, ms; default 30,000. */
  timeoutMs?: number;
  /** In memory only: cap of Azurite's extent store, MB (`--extentMemoryLimit`); default Azurite's own. */
  extentMemoryLimitMb?: number;
}

/** The path of Azurite's blob entry point (node_modules/azurite/dist/src/blob/main.js). @throws Error when azurite is not installed */
export function azuriteBlobMain(): string {
  let pkg: string;
  try { pkg = require.resolve('azurite/package.json'); } catch {
    throw new Error('the azurite package is not installed: run npm ci');
  }
  const main = path.join(path.dirname(pkg), 'dist', 'src', 'blob', 'main.js');
  if (!existsSync(main)) throw new Error(`azurite's blob service is missing at ${main}: run npm ci`);
  return main;
}

/**
 * Starts `azurite-blob` and waits for its "successfully listens on http://…:<port>" line.
 * @throws Error when it exits early or does not listen in time (its output in the message)
 */
export async function startAzuriteService(options: AzuriteServiceOptions = {}): Promise<AzuriteService> {
  const main = azuriteBlobMain();
  const tempDir = options.location ? undefined : mkdtempSync(path.join(tmpdir(), 'outport-azurite-'));
  if (options.location) mkdirSync(options.location, { recursive: true });
  const args = [
    main, '--blobHost', '127.0.0.1', '--blobPort', String(options.port ?? 0),
    ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence']),
    ...(!options.location && options.extentMemoryLimitMb ? ['--extentMemoryLimit', String(options.extentMemoryLimitMb)] : []),
    '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry',
  ];
  const env = { ...process.env };
  delete env.AZURITE_ACCOUNTS; // serve the default development account
  const child: ChildProcess = spawn(process.execPath, args, { cwd: options.location ?? tempDir, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const cleanup = (): void => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); };
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (err: Error): void => { clearTimeout(timer); child.kill('SIGKILL'); cleanup(); reject(err); };
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${options.timeoutMs ?? 30_000} ms; output:\n${output}`)), options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const m = /successfully listens on https?:\/\/[^:\s]+:(\d+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`Azurite exited (${code ?? signal}) before listening; output:\n${output}`)));
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.stdout!.resume();
  child.stderr!.resume();
  const killOnExit = (): void => { child.kill('SIGKILL'); cleanup(); };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    blobEndpoint: `http://127.0.0.1:${port}/${DEVELOPMENT_STORAGE.accountName}`,
    port,
    accountName: DEVELOPMENT_STORAGE.accountName,
    accountKey: DEVELOPMENT_STORAGE.accountKey,
    workDir: (options.location ?? tempDir)!,
    pid: child.pid,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        let killTimer: NodeJS.Timeout | undefined;
        const done = (): void => { clearTimeout(killTimer); cleanup(); resolve(); };
        if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
        child.once('exit', done);
        killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
