/**
 * `npm run bench:scale`: does adding `outport worker` processes speed up a migration? (issue 6,
 * "Must show g"; docs/reliability.md "Scale".) 8 sandbox mailboxes of unique corpus copies
 * (sandbox/replicate.ts) at 50 ms Graph latency per request, exported to Azurite by 1, then 2, then
 * 3 worker processes on the BullMQ backend (a private redis-server), each process running
 * `--concurrency` jobs (default 1: one process, one mailbox at a time, as one machine per process
 * would run it) — the test/faults/cluster.ts harness, the real `outport worker`
 * command. Each run is timed from the enqueue (workers already started) to the last item Completed,
 * then checked: every manifest against the source (items lost / duplicated must be 0).
 *
 * With the per-process concurrency fixed, 1 process runs 1 mailbox at a time, 2 run 2, 3 run 3
 * (with --concurrency 2: 2, 4, 6 of 8, the last round partly idle). While Graph latency bounds each mailbox (4 requests in
 * flight × 20 items per exportItems per 50 ms), 2 processes should take about half the time
 * (goal: speedup_2_workers ≥ 1.7); when the CPU bounds instead (the machine's cores shared by the
 * sandbox, Azurite, Redis and the workers), the speedup shows that, and `cpu_busy` (load average
 * per core during the runs) and `graph_bound_share` (items/s against Graph's bound for the
 * mailboxes read at once) say so. Each run's line also splits the CPU seconds it took between the
 * processes (`cpu_s_workers`, `cpu_s_sandbox`, `cpu_s_azurite`, `cpu_s_redis`, from /proc; Linux)
 * and gives `cores_used`, their sum over the wall time. For each run after the first, the last line
 * also gives `cpu_ceiling_W_workers`: the 1-worker wall time over the least wall time the W-worker
 * run's measured CPU seconds allow on this machine's cores (their sum / cores) — the speedup that
 * run could have reached had every core been busy all the time. When it is below the goal, the CPU,
 * not Graph latency, bounds the speedup on this machine, whatever the workers do.
 * The last line is key=value pairs.
 *
 * The workers run the compiled build, as a deployed worker does: the bench runs `npm run build`
 * (dist/, bin/compiled.js) first; `--runner tsx` skips it (workers then run whatever bin/outport.js
 * picks: a current dist/ or the sources through tsx).
 *
 * Usage: npm run bench:scale -- [--items 2000] [--mailboxes 8] [--latency 50] [--concurrency 1] [--workers 1,2,3] [--runner tsx] [--worker-logs DIR]
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { cpus, loadavg } from 'node:os';
import * as path from 'node:path';
import { startCluster, TENANT, type Cluster } from '../test/faults/cluster';
import { processCpuSeconds, processTreeCpuSeconds } from './proc-cpu';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
}

const ITEMS = Number(arg('items', '2000'));
const MAILBOXES = Number(arg('mailboxes', '8'));
const LATENCY = Number(arg('latency', '50'));
const CONCURRENCY = Number(arg('concurrency', '1'));
const WORKERS = arg('workers', '1,2,3').split(',').map(Number);
for (const [k, v] of Object.entries({ items: ITEMS, mailboxes: MAILBOXES, latency: LATENCY, concurrency: CONCURRENCY })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} needs a whole number ≥ 1`);
}
if (WORKERS.some((w) => !Number.isInteger(w) || w < 1)) throw new Error('--workers needs whole numbers ≥ 1, e.g. 1,2,3');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds spent during a run, by process (NaN off Linux). */
interface CpuSplit { workers: number; sandbox: number; azurite: number; redis: number }

interface RunResult { workers: number; wallS: number; itemsPerS: number; lost: number; duplicated: number; load: number; requests: number; cpu: CpuSplit }

/** CPU seconds so far of the run's processes: the worker launchers and their node children, the sandbox (this process: also the bench's own polling), Azurite, Redis. */
function cpuNow(c: Cluster, procs: { child: { pid?: number } }[]): CpuSplit {
  const u = process.cpuUsage();
  return {
    workers: procs.reduce((a, p) => a + (p.child.pid ? processTreeCpuSeconds(p.child.pid) : NaN), 0),
    sandbox: (u.user + u.system) / 1e6,
    azurite: c.az.pid ? processCpuSeconds(c.az.pid) : NaN,
    redis: c.redis.pid ? processCpuSeconds(c.redis.pid) : NaN,
  };
}

/**
 * items/s of a run against what Graph allows the mailboxes it reads at once: min(workers ×
 * concurrency, mailboxes) × 4 requests × 20 items / latency. Near 1: Graph's latency bounds the run;
 * well below with cpu_busy near 1: the CPU does.
 */
function graphBoundShare(r: { workers: number; itemsPerS: number }): number {
  const atOnce = Math.min(r.workers * CONCURRENCY, MAILBOXES);
  return r.itemsPerS / ((atOnce * 4 * 20 * 1000) / LATENCY);
}

/**
 * The most speedup `r` could have shown over `base` on this machine: base's wall time over the least
 * wall time r's CPU seconds (all processes: workers, sandbox, Azurite, Redis) need on `cores` cores.
 * NaN where /proc is not there.
 */
function cpuCeiling(base: { wallS: number }, r: { cpu: CpuSplit }, cores = cpus().length): number {
  const cpuS = r.cpu.workers + r.cpu.sandbox + r.cpu.azurite + r.cpu.redis;
  return base.wallS / (cpuS / cores);
}

async function runOnce(c: Cluster, workers: number): Promise<RunResult> {
  const procs = Array.from({ length: workers }, () => c.startWorker({ concurrency: CONCURRENCY, leaseSeconds: 30 }));
  // Timed from the enqueue: wait until every process is up (tsx start-up is not the export's).
  while (!procs.every((p) => p.lines.some((l) => l.includes('worker started')))) {
    if (procs.some((p) => p.child.exitCode !== null)) throw new Error(`a worker exited:\n${procs.map((p) => p.lines.join('\n')).join('\n')}`);
    await sleep(200);
  }
  const container = `scale-${workers}`;
  const { project } = await c.createProject(container, { splitSizeBytes: 10 * 1024 ** 2 });
  c.sb.resetStats();
  const load0 = loadavg()[0];
  const cpu0 = cpuNow(c, procs);
  const t0 = Date.now();
  await c.backend.queue.enqueue({ tenantId: TENANT(), projectId: project.id, action: 'full' });
  const items = await c.waitFinal(project.id, 30 * 60_000);
  const wallS = (Date.now() - t0) / 1000;
  const cpu1 = cpuNow(c, procs);
  const cpu: CpuSplit = { workers: cpu1.workers - cpu0.workers, sandbox: cpu1.sandbox - cpu0.sandbox, azurite: cpu1.azurite - cpu0.azurite, redis: cpu1.redis - cpu0.redis };
  const load = (load0 + loadavg()[0]) / 2 / cpus().length;
  const requests = c.sb.stats().requests;
  const bad = items.filter((i) => i.state !== 'Completed');
  if (bad.length) throw new Error(`items not completed: ${bad.map((i) => `${i.source} ${i.state} ${i.error?.message ?? ''}`).join('; ')}`);
  await c.stopWorkers();
  const logDir = arg('worker-logs', '');
  if (logDir) for (const w of c.workers) appendFileSync(path.join(logDir, `workers-${workers}-${w.id}.log`), w.lines.join('\n') + '\n');
  c.workers.length = 0;
  const v = await c.verify(container);
  if (v.badParts.length) throw new Error(`bad parts: ${v.badParts.join('; ')}`);
  // Azurite keeps blobs in memory (512 MB): the next run starts with an empty store.
  await new BlobServiceClient(c.az.blobEndpoint, new StorageSharedKeyCredential(c.az.accountName, c.az.accountKey)).getContainerClient(container).delete();
  const r = { workers, wallS, itemsPerS: v.itemsExported / wallS, lost: v.itemsLost, duplicated: v.itemsDuplicated, load, requests, cpu };
  process.stdout.write(`workers=${workers} wall_s=${wallS.toFixed(1)} items_per_s=${r.itemsPerS.toFixed(0)} graph_bound_share=${graphBoundShare(r).toFixed(2)} graph_requests=${requests} cpu_busy=${load.toFixed(2)} cpu_s_workers=${cpu.workers.toFixed(1)} cpu_s_sandbox=${cpu.sandbox.toFixed(1)} cpu_s_azurite=${cpu.azurite.toFixed(1)} cpu_s_redis=${cpu.redis.toFixed(1)} cores_used=${((cpu.workers + cpu.sandbox + cpu.azurite + cpu.redis) / wallS).toFixed(2)} items_lost=${r.lost} items_duplicated=${r.duplicated}\n`);
  return r;
}

/** `npm run build`: tsc with tsconfig.build.json into dist/, then its build-info. @returns seconds taken @throws Error when tsc fails */
function build(): number {
  const t0 = Date.now();
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`);
  return (Date.now() - t0) / 1000;
}

async function main(): Promise<void> {
  if (arg('runner', 'compiled') !== 'tsx') process.stdout.write(`bench:scale: workers run the compiled build (npm run build: ${build().toFixed(1)} s)\n`);
  process.stdout.write(`bench:scale: ${MAILBOXES} mailboxes × ${ITEMS} items, ${LATENCY} ms Graph latency, ${CONCURRENCY} jobs per worker process, ${cpus().length} cores\n`);
  // ~12 KB of PST an item, 3 runs' blobs (deleted containers free their extents only later)
  const c = await startCluster({ mailboxes: MAILBOXES, itemsPerMailbox: ITEMS, latencyMs: LATENCY, azuriteMemoryMb: Math.max(512, Math.ceil((MAILBOXES * ITEMS * 12_000 * WORKERS.length * 1.5) / 1e6)) });
  const results: RunResult[] = [];
  try {
    for (const w of WORKERS) results.push(await runOnce(c, w));
  } finally {
    await c.stop();
  }
  const base = results.find((r) => r.workers === 1) ?? results[0];
  const out: Record<string, string | number> = { mailboxes: MAILBOXES, items_per_mailbox: ITEMS, latency_ms: LATENCY, per_worker_concurrency: CONCURRENCY, cores: cpus().length };
  for (const r of results) out[`wall_s_${r.workers}_workers`] = r.wallS.toFixed(1);
  for (const r of results) if (r !== base) out[`speedup_${r.workers}_workers`] = (base.wallS / r.wallS).toFixed(2);
  for (const r of results) if (r !== base) out[`cpu_ceiling_${r.workers}_workers`] = cpuCeiling(base, r).toFixed(2);
  for (const r of results) out[`graph_bound_share_${r.workers}_workers`] = graphBoundShare(r).toFixed(2);
  out.cpu_busy_max = Math.max(...results.map((r) => r.load)).toFixed(2);
  out.items_lost = results.reduce((a, r) => a + r.lost, 0);
  out.items_duplicated = results.reduce((a, r) => a + r.duplicated, 0);
  process.stdout.write(`scale: ${Object.entries(out).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench:scale: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`); process.exit(1); });
