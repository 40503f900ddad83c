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
import { azuriteBlobMain, startAzuriteService } from '../../worker-service/src/cli/azurite';

/** Azurite's fixed development account (Azurite README "Default Storage Account"). */
export const AZURITE_ACCOUNT_NAME = 'devstoreaccount1';
/** Azurite's well-known development key (public, documented; not a secret). */
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

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
  /** Azurite's process id. */
  pid: number | undefined;
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

/** True when the azurite package is installed (for describeWhenAvailable). */
export function azuriteAvailable(): boolean {
  try {
    azuriteBlobMain();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts Azurite's blob service in memory on a free port of 127.0.0.1 through the production
 * launcher (worker-service/src/cli/azurite.ts startAzuriteService), in a fresh temporary working
 * directory, and adds what tests use: host, connection string.
 * @throws Error when azurite is missing, exits early, or does not listen within the timeout */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteInstance> {
  const s = await startAzuriteService({ timeoutMs: options.timeoutMs ?? 30_000, extentMemoryLimitMb: options.extentMemoryLimitMb ?? 512 });
  const host = `127.0.0.1:${s.port}`;
  return {
    blobEndpoint: s.blobEndpoint,
    host,
    port: s.port,
    accountName: AZURITE_ACCOUNT_NAME,
    accountKey: AZURITE_ACCOUNT_KEY,
    workDir: s.workDir,
    pid: s.pid,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${s.blobEndpoint};`,
    stop: () => s.stop(),
  };
}
