/**
 * `outport worker --queue redis://HOST:PORT --tenant-config FILE`: a runner process and nothing
 * else (no HTTP API). Any number of them, on any machines, share the BullMQ backend's Redis
 * (jobs/bullmq/backend.ts) with the stateless `outport serve --queue …` API instances; each claims
 * jobs up to `--concurrency` while the project caps (maxConcurrentExports, one running job per
 * mailbox) hold over all of them. docs/reliability.md.
 *
 *   outport worker --queue redis://HOST:PORT[/DB] --tenant-config FILE
 *     [--concurrency 4] [--lease-seconds 60] [--stop-timeout-seconds 30] [--prefix outport] [--worker-id ID]
 *
 * Needs OUTPORT_SECRET_KEY (the key every serve and worker process of the deployment shares). The
 * Redis URL may carry a password (redis://:PASSWORD@host:port); it is never printed.
 * Logs: pino JSON lines on stdout (job claimed, finished, lease lost…), secrets redacted.
 * Signals: SIGTERM or SIGINT stop claiming and let running jobs finish for --stop-timeout-seconds;
 * then (or at a second signal) the open part of each job is abandoned — nothing half-written is
 * recorded — and the job is released for another worker, which resumes after the last finished part.
 * PST record keys: each part's store record key (PidTagRecordKey, embedded in every entry id) is
 * derived from the project id, the item id and the part index (SHA-256, first 16 bytes) instead of
 * drawn at random, so a part written again — after a takeover, or a full pass repeated — is byte for
 * byte the part written before, and still no two PST files of a deployment share a key.
 * Graph retries: --graph-max-retries (default 30) retries of a throttled (429/503/504) request,
 * each after Graph's Retry-After, within the RetryHandler's 5 minutes of waiting in all. (At 10, a
 * storm of 50 % 429s failed about one call in 2,000 — 20 items with an error in a pass of a few
 * hundred calls, test/faults/workers.test.ts d; at 30, one in 2 × 10⁹.)
 * Exit codes: 0 stopped by a signal; 1 the backend failed to open (Redis unreachable, wrong key);
 * 2 bad usage or an unusable tenant config.
 */
import { graphAccessForTenant } from '../api/graph-access';
import { createApiLogger } from '../api/logging';
import { jobDepsBuilder } from '../api/worker';
import { runExport, type ExportDeps } from '../export/run';
import type { ExportRequest } from '../export/types';
import { readTenantConfig, TenantConfigError } from '../graph/tenant-client';
import { JobsError } from '../jobs/contract';
import { openBullmqBackend } from '../jobs/bullmq/backend';
import { parseRedisUrl, RedisUrlError } from '../jobs/bullmq/redis-url';
import { Runner, type JobDeps } from '../jobs/runner';
import { parseArgs, UsageError } from './args';

/** The usage line. */
export const WORKER_USAGE = 'outport worker --queue redis://HOST:PORT --tenant-config FILE [--concurrency 4] [--lease-seconds 60] [--stop-timeout-seconds 30] [--graph-max-retries 30] [--prefix outport] [--worker-id ID]';

function intFlag(flags: Map<string, string>, name: string, def: number, min: number, max: number): number {
  const v = flags.get(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${v}")`);
  return n;
}

/** Parsed command line of `outport worker`. */
export interface WorkerArgs {
  queue: string;
  tenantConfig: string;
  concurrency: number;
  leaseMs: number;
  stopTimeoutMs: number;
  prefix: string;
  workerId?: string;
  graphMaxRetries: number;
}

/** Parses and checks the arguments. @throws UsageError naming the flag */
export function parseWorkerArgs(argv: string[]): WorkerArgs {
  const usage = `usage: ${WORKER_USAGE}`;
  const { positional, flags } = parseArgs(argv, ['queue', 'tenant-config', 'concurrency', 'lease-seconds', 'stop-timeout-seconds', 'graph-max-retries', 'prefix', 'worker-id'], usage);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"\n${usage}`);
  const queue = flags.get('queue') ?? process.env.OUTPORT_QUEUE ?? '';
  if (!queue) throw new UsageError(`--queue is required: the Redis the serve and worker processes share, e.g. --queue redis://127.0.0.1:6379\n${usage}`);
  try { parseRedisUrl(queue); } catch (e) { if (e instanceof RedisUrlError) throw new UsageError(e.message); throw e; }
  const tenantConfig = flags.get('tenant-config') ?? '';
  if (!tenantConfig) throw new UsageError(`--tenant-config is required: the tenant's Graph app (or the file "outport sandbox --write-config FILE" wrote)\n${usage}`);
  const prefix = flags.get('prefix') ?? process.env.OUTPORT_REDIS_PREFIX ?? 'outport';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) throw new UsageError('--prefix must be 1-64 letters, digits, "_", "." or "-"');
  const workerId = flags.get('worker-id');
  const leaseSeconds = intFlag(flags, 'lease-seconds', 60, 1, 3600);
  return {
    queue, tenantConfig, prefix,
    concurrency: intFlag(flags, 'concurrency', 4, 1, 256),
    leaseMs: leaseSeconds * 1000,
    stopTimeoutMs: intFlag(flags, 'stop-timeout-seconds', 30, 0, 86_400) * 1000,
    graphMaxRetries: intFlag(flags, 'graph-max-retries', 30, 0, 100),
    ...(workerId ? { workerId } : {}),
  };
}

/** Runs the worker until SIGTERM/SIGINT. @returns the exit code */
export async function run(argv: string[]): Promise<number> {
  let args: WorkerArgs;
  let config;
  try {
    args = parseWorkerArgs(argv);
    config = await readTenantConfig(args.tenantConfig);
  } catch (e) {
    if (e instanceof UsageError || e instanceof TenantConfigError) {
      process.stderr.write(`outport worker: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createApiLogger();
  let backend;
  try {
    backend = await openBullmqBackend({ redis: args.queue, prefix: args.prefix });
  } catch (e) {
    if (e instanceof JobsError) {
      process.stderr.write(`outport worker: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const graph = graphAccessForTenant(config, { retry: { maxRetries: args.graphMaxRetries } });
  const build = jobDepsBuilder({ backend, graph }, new Map());
  // runExport passed in, not loaded lazily: the tsx CommonJS loader of bin/outport.js cannot resolve
  // the runner's import(). The runner derives each part's record key from project, item and part.
  const runner = new Runner({
    queue: backend.queue, logger: logger.child({ component: 'runner' }), concurrency: args.concurrency, leaseMs: args.leaseMs,
    pollMs: Math.min(1000, Math.max(100, Math.floor(args.leaseMs / 10))),
    ...(args.workerId ? { workerId: args.workerId } : {}),
    buildDeps: (claimed, signal): Promise<JobDeps> => build(claimed, signal),
    runExport,
  });
  runner.start();
  const handle = { runner, stop: (o: { graceful?: boolean; timeoutMs?: number }) => runner.stop(o) };
  logger.info({ workerId: handle.runner.workerId, queue: backend.display, prefix: args.prefix, concurrency: args.concurrency, leaseMs: args.leaseMs }, 'worker started');
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        logger.info({ signal, timeoutMs: args.stopTimeoutMs }, 'stopping: running jobs may finish, then open parts are abandoned and the jobs released');
        void handle.stop({ graceful: args.stopTimeoutMs > 0, timeoutMs: args.stopTimeoutMs }).finally(resolve);
      } else {
        logger.info({ signal }, 'stopping now: open parts abandoned, jobs released');
        void handle.stop({ graceful: false }).finally(resolve);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await backend.close();
  logger.info({}, 'worker stopped');
  return 0;
}
