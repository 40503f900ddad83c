/**
 * `outport serve --tenant-config FILE [--port 7071] [--host 127.0.0.1] [--data-dir DIR]
 * [--addin-dir addin/dist] [--concurrency N] [--allow-origin ORIGIN,…]`: the worker service — the HTTP API (docs/api.md) and a
 * job runner in one process, the SQLite jobs backend in the data directory (default `.outport`), and
 * the add-in's built files at `/` when the directory exists. Runs until SIGINT/SIGTERM, then stops
 * claiming, lets running jobs finish for up to 30 s (the rest are released and resume elsewhere or
 * at the next start) and closes.
 *
 * With `--queue redis://HOST:PORT [--prefix P]` the jobs live in Redis (the BullMQ backend,
 * docs/reliability.md) and this process serves the API only: stateless, any number of them behind a
 * load balancer; `outport worker --queue …` processes, on any machines, run the jobs.
 *
 * The tenant config (`outport sandbox --write-config FILE`, or a real tenant's: docs/auth.md) names
 * the Entra app that is both the worker API (tokens' audience) and the Graph client (client
 * credentials, On-Behalf-Of). The destination secrets are encrypted with OUTPORT_SECRET_KEY (base64
 * of 32 bytes; outside production a key is generated into the data directory).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApi } from '../api/server';
import { graphAccessForTenant } from '../api/graph-access';
import { createApiLogger } from '../api/logging';
import { startWorker, type WorkerHandle } from '../api/worker';
import type { ApiAuthConfig } from '../api/auth';
import { cloudOfTenant, readTenantConfig, type GraphTenantConfig } from '../graph/tenant-client';
import { openSqliteBackend } from '../jobs/sqlite/backend';
import { openBullmqBackend } from '../jobs/bullmq/backend';
import { parseRedisUrl, RedisUrlError } from '../jobs/bullmq/redis-url';
import type { JobBackend } from '../jobs/contract';
import { parseArgs, UsageError } from './args';

export const SERVE_USAGE = 'outport serve --tenant-config FILE [--port 7071] [--host 127.0.0.1] [--data-dir .outport] [--addin-dir addin/dist] [--concurrency 4] [--allow-origin https://host[,…]] [--queue redis://HOST:PORT [--prefix outport]]';

/** Default port of `outport serve` (docs/api.md; the add-in takes the API's URL from its settings). */
export const DEFAULT_PORT = 7071;
/** Default data directory (SQLite database, generated secret key). */
export const DEFAULT_DATA_DIR = '.outport';

/** What {@link startServer} needs. */
export interface ServerOptions {
  tenant: GraphTenantConfig;
  dataDir: string;
  port?: number;
  host?: string;
  /** Served at `/` when the directory exists. */
  addinDir?: string;
  /** Browser origins allowed to call the API (CORS), e.g. the add-in's dev server. */
  allowedOrigins?: readonly string[];
  /** Jobs at once in this process; default 4. */
  concurrency?: number;
  /**
   * `redis://HOST:PORT`: the BullMQ backend there (docs/reliability.md) instead of SQLite, and no
   * runner in this process — the API alone, stateless; `outport worker --queue …` processes run the jobs.
   */
  queue?: string;
  /** Key prefix in Redis with `queue` (default `outport`). */
  prefix?: string;
  logger?: Logger | false;
  /** Told about a generated secret key (path only). */
  onNotice?: (message: string) => void;
}

/** A running worker service. */
export interface ServerHandle {
  /** `http://host:port`. */
  url: string;
  app: FastifyInstance;
  backend: JobBackend;
  /** Absent with `queue` (the API alone). */
  worker?: WorkerHandle;
  /** Graceful stop: runner first (jobs finish or are released), then the API and the database. */
  stop(): Promise<void>;
}

/** The API's auth settings for a tenant config: the app is the worker API; its issuer the tenant's. */
export function apiAuthOf(tenant: GraphTenantConfig): ApiAuthConfig {
  return {
    tenantId: tenant.tenantId, clientId: tenant.clientId,
    ...(tenant.authorityUrl ? { authorityUrl: tenant.authorityUrl } : { cloud: tenant.cloud === 'custom' ? 'global' : tenant.cloud }),
    ...(tenant.caCertificate ? { caCertificate: tenant.caCertificate } : {}),
  };
}

/** Whether a tenant config is Outport's sandbox (custom cloud with test users' passwords). */
export function isSandboxTenant(tenant: GraphTenantConfig): boolean {
  return tenant.cloud === 'custom' && !!tenant.users?.some((u) => typeof u.password === 'string');
}

/**
 * Opens the backend, starts the runner and the API, listens.
 * @throws JobsError SecretKey; listen errors (EADDRINUSE); TypeError for an unusable tenant config
 */
export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  const backend = options.queue
    ? await openBullmqBackend({ redis: options.queue, ...(options.prefix ? { prefix: options.prefix } : {}) })
    : await openSqliteBackend({ dataDir: options.dataDir, onNotice: options.onNotice });
  const logger = options.logger === undefined ? createApiLogger() : options.logger;
  const graph = graphAccessForTenant(options.tenant);
  let worker: WorkerHandle | undefined;
  try {
    // Heartbeats every 2 s carry progress to the API (polling and SSE) often enough for a progress bar.
    if (!options.queue) worker = startWorker({ backend, graph, concurrency: options.concurrency ?? 4, leaseMs: 60_000, heartbeatMs: 2_000, ...(logger ? { logger: logger.child({ component: 'runner' }) } : {}) });
    const app = await buildApi({
      auth: apiAuthOf(options.tenant),
      publicConfig: {
        authorityUrl: options.tenant.authorityUrl || cloudOfTenant(options.tenant).loginBaseUrl, cloud: options.tenant.cloud, sandbox: isSandboxTenant(options.tenant),
        ...(isSandboxTenant(options.tenant) && options.tenant.sandboxSignIn ? { sandboxSignIn: { tokenUrl: options.tenant.sandboxSignIn.tokenUrl } } : {}),
      },
      logger,
      ...(options.allowedOrigins?.length ? { allowedOrigins: options.allowedOrigins } : {}),
      ...(options.addinDir && existsSync(options.addinDir) ? { addinDir: options.addinDir } : {}),
    }, { backend, graph, ...(worker ? { onUserAssertion: worker.onUserAssertion } : {}) });
    const host = options.host ?? '127.0.0.1';
    await app.listen({ port: options.port ?? DEFAULT_PORT, host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port ?? DEFAULT_PORT;
    const w = worker;
    let stopped: Promise<void> | undefined;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, app, backend, worker: w,
      stop() {
        stopped ??= (async () => {
          await w?.stop({ graceful: true, timeoutMs: 30_000 });
          await app.close();
          await backend.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await worker?.stop({ graceful: false }).catch(() => undefined);
    await backend.close().catch(() => undefined);
    throw err;
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
      resolve(sig);
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/** `outport serve`. @returns 0 after a clean stop; throws UsageError (exit 2) for bad flags */
export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, ['tenant-config', 'port', 'host', 'data-dir', 'addin-dir', 'concurrency', 'allow-origin', 'queue', 'prefix'], SERVE_USAGE);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"\n${SERVE_USAGE}`);
  const file = flags.get('tenant-config');
  if (!file) throw new UsageError(`--tenant-config FILE is required (write one for the sandbox with "outport sandbox --write-config FILE")\n${SERVE_USAGE}`);
  const port = flags.has('port') ? Number(flags.get('port')) : DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, not ${flags.get('port')}`);
  const concurrency = flags.has('concurrency') ? Number(flags.get('concurrency')) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be 1..64, not ${flags.get('concurrency')}`);
  const allowedOrigins = (flags.get('allow-origin') ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of allowedOrigins) {
    if (!/^https?:\/\/[^/\s]+$/i.test(o)) throw new UsageError(`--allow-origin: "${o}" is not an origin (scheme://host[:port], no path)`);
  }
  const queue = flags.get('queue');
  if (queue !== undefined) {
    try { parseRedisUrl(queue); } catch (e) { if (e instanceof RedisUrlError) throw new UsageError(e.message); throw e; }
  }
  const tenant = await readTenantConfig(file);
  const addinDir = path.resolve(flags.get('addin-dir') ?? 'addin/dist');
  const server = await startServer({
    tenant, dataDir: path.resolve(flags.get('data-dir') ?? DEFAULT_DATA_DIR), port, host: flags.get('host') ?? '127.0.0.1', addinDir, concurrency, allowedOrigins,
    ...(queue ? { queue, ...(flags.get('prefix') ? { prefix: flags.get('prefix') } : {}) } : {}),
    onNotice: (m) => process.stderr.write(`outport serve: ${m}\n`),
  });
  process.stderr.write(`outport serve: API at ${server.url}/api/v1 (OpenAPI: ${server.url}/api/v1/openapi.json)${existsSync(addinDir) ? `, add-in at ${server.url}/taskpane.html` : ''}; Ctrl-C stops\n`);
  const sig = await untilSignal();
  process.stderr.write(`outport serve: ${sig}: stopping (running jobs get 30 s to finish, then resume at the next start)\n`);
  await server.stop();
  return 0;
}
