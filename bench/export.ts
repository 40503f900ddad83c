/**
 * `npm run bench:export`: the whole export pipeline — sandbox Graph (50 ms a request) → GraphSource
 * (exportItems, 4 in flight, 20 ids a call) → runExport → PstWriter → AzureBlobDestination on
 * Azurite (8 MiB staged blocks, SHA-256 read-back) — on mailboxes of real corpus mail made unique by
 * sandbox/replicate.ts (issue 4 "Must show e"; docs/benchmarks.md, section Export).
 *
 * Three processes, so each is measured alone: Azurite (disk persistence in a temporary directory),
 * the sandbox (a child: builds the bench mailboxes and serves them), and one export child per
 * mailbox (its peak RSS is the kernel's high-water mark, getrusage ru_maxrss, so nothing between two
 * samples escapes). Reported per mailbox:
 *  - GB/h of source data (the mailbox's size as Graph counts it: the sum of its items' exportItems
 *    bytes) and of PST written, over the export's wall time (folder walk, listing, every part's
 *    commit and read-back included);
 *  - the Graph bound: 4 requests in flight × 20 items per exportItems call / latency items/s, in
 *    bytes by the mailbox's mean item size; and the ratio of the measured rate to it;
 *  - peak RSS, heap and external memory.
 * Memory must be flat: the large mailbox's peak RSS ≤ 1.3 × the small one's, and ≤ 300 MB.
 *
 * Bench mailboxes: unique copies of the first 400 corpus messages in the 8 folders of
 * REPLICA_FOLDERS. Their MapiItems are made on demand (a getter on each sandbox item: the sandbox
 * holds ~0.5 KB per item, not the mail), and mailboxItem.size is exact: a copy's exportItems length
 * depends only on its source message and on the number of digits of its copy number (subject
 * suffix " [#n]", Message-ID `<outport-copy-n@…>`), measured once per pair and spot-checked.
 *
 * Usage: npm run bench:export -- [--quick] [--sizes-mb 1024,4096] [--latency 50] [--split-size-mb 10240] [--keep]
 *                                [--live] [--heap-snapshot DIR] [--node-args "--max-old-space-size=128 …"]
 *   default sizes 1024,4096 MB (mailbox source bytes); --quick: 64,256 MB
 *   --live           the export children run with --expose-gc and collect before each sample, so the
 *                    samples (and live_heap_* keys) are live memory, not garbage (slower)
 *   --heap-snapshot  writes a V8 heap snapshot of each export child at 90 % of its items into DIR
 *   --node-args      extra node flags of the export children (memory experiments), after the ones the
 *                    product's launcher gives `outport export` (bin/heap-cap.js: --max-old-space-size=128 --heap-growing-percent=100,
 *                    left out when --node-args or NODE_OPTIONS give a --max-old-space-size, or OUTPORT_HEAP_MB)
 *   --runner tsx     the export children run TypeScript through tsx (default: JavaScript compiled by
 *                    tsc into node_modules/.cache/outport-bench-export, as a deployed worker runs;
 *                    through tsx the child's peak RSS was ~35-40 MB higher)
 *   --build-dir DIR  where the compiled children go (default node_modules/.cache/outport-bench-export;
 *                    give another one to run two benchmarks at once)
 * The last line is key=value pairs.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { benchBuildDir, compileEntry } from './compile';
import { encodeExportItem } from '../worker-service/src/convert/fts/encode';
import { TAG } from '../worker-service/src/mapi/tags';
import { EXPORT_ENCODE_OPTIONS, buildTenant, startSandbox, type SandboxHandle, type SandboxTenant } from '../worker-service/src/sandbox';
import { mailboxId, stableChangeKey, stableEntityId, stableGuid } from '../worker-service/src/sandbox/ids';
import { setExportCacheLimit } from '../worker-service/src/sandbox/mailbox-routes';
import { corpusItems, replicaFolderPath, replicateItem, REPLICA_FOLDERS, type CorpusItem } from '../worker-service/src/sandbox/replicate';
import type { SandboxFolder, SandboxItem, SandboxMailbox, SandboxUser } from '../worker-service/src/sandbox/tenant';
import { createDestination, validateDestination } from '../worker-service/src/storage';
import type { ExportJob, ExportReport } from './export-child';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { heapCapFlags } = require('../bin/heap-cap.js') as { heapCapFlags: (command: string, args: string[], env: NodeJS.ProcessEnv, execArgv: string[]) => string[] };

/** Graph's per-mailbox concurrency and exportItems' id cap: the bound is IN_FLIGHT × IDS / latency. */
const BOUND_IN_FLIGHT = 4;
const BOUND_IDS = 20;
/** Flatness goals (issue 4 "Must show e"). */
const GOAL_RSS_RATIO = 1.3;
const GOAL_RSS_MB = 300;
const SEED = 'outport-bench-export';
const MB = 1e6;
const MiB = 1024 * 1024;
/** Azurite's fixed development account (public, documented; not a secret). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** The export child (bench/export-child.ts). */
const CHILD_TS = path.join(__dirname, 'export-child.ts');
const RUN_TS = path.join(__dirname, '..', 'bin', 'run-ts.js');

interface Args {
  sizesMb: number[];
  latencyMs: number;
  splitSizeBytes: number;
  keep: boolean;
  live: boolean;
  heapSnapshotDir?: string;
  nodeArgs: string[];
  runner: 'compiled' | 'tsx';
  buildDir: string;
}

function parseArgs(argv: string[]): Args {
  const get = (k: string): string | undefined => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  };
  const quick = argv.includes('--quick');
  const sizesMb = (get('sizes-mb') ?? (quick ? '64,256' : '1024,4096')).split(',').map(Number);
  if (sizesMb.length !== 2 || sizesMb.some((s) => !(s >= 1)) || sizesMb[1] < sizesMb[0]) throw new Error('--sizes-mb needs two sizes in MB, small then large, e.g. 1024,4096');
  const latencyMs = Number(get('latency') ?? 50);
  if (!Number.isInteger(latencyMs) || latencyMs < 1) throw new Error('--latency needs whole milliseconds ≥ 1');
  const splitMb = Number(get('split-size-mb') ?? 10 * 1024);
  if (!(splitMb >= 1)) throw new Error('--split-size-mb needs a size ≥ 1 (MiB)');
  const snap = get('heap-snapshot');
  return {
    sizesMb, latencyMs, splitSizeBytes: Math.round(splitMb * MiB), keep: argv.includes('--keep'), live: argv.includes('--live'),
    ...(snap ? { heapSnapshotDir: path.resolve(snap) } : {}), nodeArgs: (get('node-args') ?? '').split(/\s+/).filter(Boolean),
    runner: get('runner') === 'tsx' ? 'tsx' : 'compiled', buildDir: path.resolve(get('build-dir') ?? DEFAULT_BUILD_DIR),
  };
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

// ---------------------------------------------------------------------------------------------
// The sandbox (child process "--serve")

/** A bench mailbox as the sandbox child reports it. */
interface BenchMailbox { mail: string; items: number; bytes: number }
interface ServerReady { kind: 'ready'; graphUrl: string; tenantId: string; clientId: string; clientSecret: string; mailboxes: BenchMailbox[]; setupMs: number }

/**
 * Exact exportItems sizes of copies: by source index and number of digits of the copy number
 * (see the file comment), measured on first use and spot-checked by full encoding.
 */
class CopySizes {
  private readonly memo = new Map<string, number>();
  constructor(private readonly source: readonly CorpusItem[]) {}
  size(sourceIndex: number, n: number): number {
    const digits = String(n).length;
    const k = `${sourceIndex}:${digits}`;
    let s = this.memo.get(k);
    if (s === undefined) {
      s = encodeExportItem(replicateItem(this.source[sourceIndex].item, n), EXPORT_ENCODE_OPTIONS).length;
      this.memo.set(k, s);
    }
    return s;
  }
  /** Encodes `count` copies spread over [0, total) in full and compares. @throws Error on a mismatch */
  check(total: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const n = Math.floor((i * total) / count);
      const si = n % this.source.length;
      const real = encodeExportItem(replicateItem(this.source[si].item, n), EXPORT_ENCODE_OPTIONS).length;
      if (real !== this.size(si, n)) throw new Error(`copy ${n}: exportItems size ${real}, predicted ${this.size(si, n)}: the digits rule does not hold`);
    }
  }
}

/**
 * Adds a bench user whose primary holds copies [firstCopy, …) of `source` until `targetBytes` of
 * exportItems data; items are made on demand by a getter (nothing of the mail is held).
 */
function addBenchMailbox(tenant: SandboxTenant, source: readonly CorpusItem[], sizes: CopySizes, u: number, targetBytes: number, firstCopy: number): BenchMailbox & { nextCopy: number } {
  const mail = `bench${u + 1}@${tenant.domain}`;
  const user: SandboxUser = {
    id: stableGuid(SEED, 'user', u), displayName: `Bench ${u + 1}`, givenName: 'Bench', surname: String(u + 1), mail, userPrincipalName: mail,
    jobTitle: 'Benchmark', officeLocation: 'Lab', password: `Bench-${u + 1}`, inactive: false,
  };
  tenant.addUser(user);
  const guid = stableGuid(SEED, 'mailbox', u);
  const mb: SandboxMailbox = { id: mailboxId(guid, tenant.tenantId), kind: 'primary', owner: user, rootFolderId: stableEntityId(SEED, 'root', guid), folders: [] };
  tenant.addMailbox(mb);
  user.primary = mb;
  const byPath = new Map<string, SandboxFolder>();
  for (const p of REPLICA_FOLDERS) {
    const key = p.map((f) => f.displayName).join('/');
    const parent = byPath.get(p.slice(0, -1).map((f) => f.displayName).join('/'));
    const f: SandboxFolder = {
      id: stableEntityId(SEED, 'folder', mb.id, key), displayName: p[p.length - 1].displayName, parentFolderId: parent?.id ?? mb.rootFolderId,
      type: 'IPF.Note', wellKnownName: null, children: [], items: [], mailbox: mb, home: mb, createdSeq: 1, removed: [],
    };
    tenant.addFolder(f);
    (parent ? parent.children : mb.folders).push(f);
    byPath.set(key, f);
  }
  const groupIndex = new Map<string, number>();
  for (const s of source) if (!groupIndex.has(s.group)) groupIndex.set(s.group, groupIndex.size);
  const classes = source.map((s) => String(s.item.properties.get(TAG.PidTagMessageClass.id) ?? 'IPM.Note'));
  let bytes = 0;
  let n = firstCopy;
  for (; bytes < targetBytes; n++) {
    const si = n % source.length;
    const folderPath = replicaFolderPath(groupIndex.get(source[si].group)!, n, source.length);
    const folder = byPath.get(folderPath.map((f) => f.displayName).join('/'))!;
    const size = sizes.size(si, n);
    bytes += size;
    const created = new Date(Date.UTC(2002, 0, 1) + n * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const copy = n;
    const rec = {
      id: stableEntityId(SEED, 'item', mb.id, n), changeKey: stableChangeKey(SEED, 'item', n, 0),
      messageClass: classes[si], size, createdDateTime: created, lastModifiedDateTime: created, categories: [], folder, modSeq: 1,
    } as Omit<SandboxItem, 'item'>;
    Object.defineProperty(rec, 'item', { enumerable: true, get: () => replicateItem(source[si].item, copy) });
    tenant.addItem(rec as SandboxItem);
  }
  return { mail, items: n - firstCopy, bytes, nextCopy: n };
}

async function serve(args: Args): Promise<void> {
  const t0 = Date.now();
  const tenant = await buildTenant({ seed: SEED, mailLimit: 20 });
  setExportCacheLimit(0); // every item is exported once; a cache would only hold memory
  const source = await corpusItems(400);
  const sizes = new CopySizes(source);
  const mailboxes: BenchMailbox[] = [];
  let next = 0;
  for (const [u, mb] of args.sizesMb.entries()) {
    const m = addBenchMailbox(tenant, source, sizes, u, mb * MB, next);
    next = m.nextCopy;
    mailboxes.push({ mail: m.mail, items: m.items, bytes: m.bytes });
  }
  sizes.check(next, 200);
  const sb: SandboxHandle = await startSandbox({ tenant, seed: SEED, latencyMs: args.latencyMs, defaultPageSize: 100 });
  const ready: ServerReady = { kind: 'ready', graphUrl: sb.graphUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: sb.clientSecret, mailboxes, setupMs: Date.now() - t0 };
  process.send!(ready);
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'stop') void sb.stop().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// The parent

/** Starts azurite-blob with disk persistence in `dir`; resolves with its port. */
async function startAzurite(dir: string): Promise<{ port: number; proc: ChildProcess }> {
  const bin = path.join(__dirname, '..', 'node_modules', '.bin', 'azurite-blob');
  const proc = spawn(bin, ['--blobHost', '127.0.0.1', '--blobPort', '0', '--location', dir, '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Azurite did not start in 60 s:\n${out}`)), 60_000);
    const on = (d: Buffer) => {
      out += d.toString('utf8');
      const m = /listens on https?:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (c) => { clearTimeout(t); reject(new Error(`Azurite exited (${c}):\n${out}`)); });
  });
  proc.removeAllListeners('exit');
  proc.stdout!.resume();
  proc.stderr!.resume();
  return { port, proc };
}

/** Where the export children's compiled JavaScript goes by default. */
const DEFAULT_BUILD_DIR = benchBuildDir('outport-bench-export');

/** Runs one export child (compiled entry, or through tsx when `entry` is undefined) and returns its report. */
function runExportChild(job: ExportJob, extraNodeArgs: string[], entry: string | undefined): Promise<ExportReport> {
  return new Promise((resolve, reject) => {
    const child = entry
      ? fork(entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: extraNodeArgs })
      : fork(RUN_TS, [CHILD_TS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: extraNodeArgs });
    let report: ExportReport | undefined;
    child.on('message', (m) => {
      const msg = m as { kind: string };
      if (msg.kind === 'want-job') child.send(job);
      if (msg.kind === 'report') report = m as ExportReport;
    });
    child.once('exit', (code) => (report ? resolve(report) : reject(new Error(`the export child exited (${code}) without a report`))));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  if (argv.includes('--serve')) { await serve(args); return; }

  const t0 = performance.now();
  const entry = args.runner === 'compiled' ? compileEntry(CHILD_TS, args.buildDir) : undefined;
  const compileS = (performance.now() - t0) / 1000;
  const azDir = mkdtempSync(path.join(tmpdir(), 'outport-bench-export-azurite-'));
  const az = await startAzurite(azDir);
  const server = fork(RUN_TS, [path.join(__dirname, 'export.ts'), ...argv, '--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<ServerReady>((resolve, reject) => {
      server.once('message', (m) => resolve(m as ServerReady));
      server.once('exit', (code) => reject(new Error(`the sandbox process exited (${code}) before it was ready`)));
    });
    server.removeAllListeners('exit');
    const blobEndpoint = `http://127.0.0.1:${az.port}/${AZURITE_ACCOUNT}`;
    // The node flags `outport export` runs with (bin/heap-cap.js, applied by bin/outport.js), then --node-args.
    const productFlags = heapCapFlags('export', [], process.env, args.nodeArgs);
    const childFlags = [...(args.live ? ['--expose-gc'] : []), ...productFlags, ...args.nodeArgs];
    const heapCap = /--max[-_]old[-_]space[-_]size=(\d+)/.exec([...childFlags, process.env.NODE_OPTIONS ?? ''].join(' '))?.[1];
    const boundItemsPerS = (BOUND_IN_FLIGHT * BOUND_IDS * 1000) / args.latencyMs;
    console.log(`bench:export: mailboxes of ${ready.mailboxes.map((m) => `${fmt(m.items)} items / ${fmt(m.bytes / MB)} MB`).join(' and ')} (unique corpus copies, 8 folders); sandbox set up in ${fmt(ready.setupMs / 1000, 1)} s; Graph latency ${args.latencyMs} ms (bound ${fmt(boundItemsPerS)} items/s); split size ${fmt(args.splitSizeBytes / MiB)} MiB; Azurite on disk; export children ${entry ? `compiled by tsc in ${fmt(compileS, 1)} s (${path.relative(process.cwd(), entry)})` : 'through tsx'} with ${childFlags.length ? childFlags.join(' ') : 'no node flags'} (product's: ${productFlags.join(' ') || 'none'}); load ${loadavg()[0].toFixed(1)}`);
    const reports: ExportReport[] = [];
    for (const [i, m] of ready.mailboxes.entries()) {
      const container = `bench${i + 1}`;
      const r = await runExportChild({
        kind: 'export', graphUrl: ready.graphUrl, tenantId: ready.tenantId, clientId: ready.clientId, clientSecret: ready.clientSecret,
        mail: m.mail, blobEndpoint, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container, pstName: `bench${i + 1}.pst`, splitSizeBytes: args.splitSizeBytes, sampleMs: 1000,
        live: args.live, expectedItems: m.items, ...(args.heapSnapshotDir ? { snapshotFile: path.join(args.heapSnapshotDir, `bench${i + 1}.heapsnapshot`) } : {}),
      }, childFlags, entry);
      if (r.outcome !== 'Completed' || r.items !== m.items || r.sourceBytes !== m.bytes) {
        throw new Error(`${m.mail}: ${r.outcome}, ${r.items} items / ${r.sourceBytes} bytes exported with ${r.errors} errors; expected ${m.items} / ${m.bytes}`);
      }
      reports.push(r);
      const s = r.ms / 1000;
      const gbh = (r.sourceBytes / 1e9) / (s / 3600);
      const meanItem = r.sourceBytes / r.items;
      const boundGbh = (boundItemsPerS * meanItem / 1e9) * 3600;
      console.log(`${m.mail}: ${fmt(r.items)} items, ${fmt(r.sourceBytes / MB)} MB source → ${fmt(r.pstBytes / MB)} MB PST in ${r.parts} part(s), ${fmt(s, 1)} s: ${fmt(gbh, 2)} GB/h source (${fmt(r.items / s)} items/s; bound ${fmt(boundGbh, 1)} GB/h at ${fmt(meanItem)} B an item: ratio ${(gbh / boundGbh).toFixed(3)}), ${fmt((r.pstBytes / 1e9) / (s / 3600), 2)} GB/h PST; CPU ${fmt(r.cpuMs / r.ms * 100)} % of wall; peak RSS ${fmt(r.maxRssBytes / MB)} MB, heap ${fmt(r.peakHeapUsed / MB)} MB, external ${fmt(r.peakExternal / MB)} MB (array buffers ${fmt(r.peakArrayBuffers / MB)} MB)`);
      if (r.liveHeapEarly !== undefined && r.liveHeapLate !== undefined) {
        const d = Math.max(1, r.liveItemsLate! - r.liveItemsEarly!);
        console.log(`  live memory (after a full GC): heap ${fmt(r.liveHeapEarly / MB, 1)} MB at ${fmt(r.liveItemsEarly!)} items, ${fmt(r.liveHeapLate / MB, 1)} MB at ${fmt(r.liveItemsLate!)}: ${fmt((r.liveHeapLate - r.liveHeapEarly) / d)} B an item; external ${fmt(r.liveExternalEarly! / MB, 1)} → ${fmt(r.liveExternalLate! / MB, 1)} MB: ${fmt((r.liveExternalLate! - r.liveExternalEarly!) / d)} B an item`);
      }
      const every = Math.max(1, Math.ceil(r.samples.length / 12));
      console.log(`  memory over time [s, rss MB, heap MB, external MB, items]: ${r.samples.filter((_, j) => j % every === 0 || j === r.samples.length - 1).map((x) => `[${x.join(',')}]`).join(' ')}`);
      if (!args.keep) await deleteContainer(blobEndpoint, container);
    }
    const [small, large] = reports;
    const s = small.ms / 1000;
    const gbh = (small.sourceBytes / 1e9) / (s / 3600);
    const boundGbh = (boundItemsPerS * (small.sourceBytes / small.items) / 1e9) * 3600;
    const largeGbh = (large.sourceBytes / 1e9) / (large.ms / 1000 / 3600);
    const rssSmall = small.maxRssBytes / MB;
    const rssLarge = large.maxRssBytes / MB;
    const ratio = rssLarge / rssSmall;
    const key: Record<string, string | number> = {
      bench: 'export', runner: args.runner, heap_cap_mb: heapCap ?? 'none', latency_ms: args.latencyMs, mailbox_small_mb: Math.round(small.sourceBytes / MB), mailbox_large_mb: Math.round(large.sourceBytes / MB),
      gb_per_hour: gbh.toFixed(2), bound_gb_per_hour: boundGbh.toFixed(1), ratio_to_bound: (gbh / boundGbh).toFixed(3), gb_per_hour_large: largeGbh.toFixed(2),
      pst_gb_per_hour: ((small.pstBytes / 1e9) / (s / 3600)).toFixed(2),
      rss_small_mb: Math.round(rssSmall), rss_large_mb: Math.round(rssLarge),
    };
    if (args.sizesMb[0] === 1024 && args.sizesMb[1] === 4096) Object.assign(key, { rss_1gb_mb: Math.round(rssSmall), rss_4gb_mb: Math.round(rssLarge) });
    Object.assign(key, {
      rss_ratio: ratio.toFixed(3), heap_small_mb: Math.round(small.peakHeapUsed / MB), heap_large_mb: Math.round(large.peakHeapUsed / MB),
      ...(small.liveHeapLate !== undefined && large.liveHeapLate !== undefined ? { live_heap_small_mb: (small.liveHeapLate / MB).toFixed(1), live_heap_large_mb: (large.liveHeapLate / MB).toFixed(1) } : {}),
      flat: ratio <= GOAL_RSS_RATIO && rssLarge <= GOAL_RSS_MB ? 'yes' : 'no', load_avg_1m: loadavg()[0].toFixed(1),
    });
    console.log(Object.entries(key).map(([k, v]) => `${k}=${v}`).join(' '));
  } finally {
    server.send({ kind: 'stop' });
    az.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(azDir, { recursive: true, force: true });
  }
}

/** Deletes a bench container (frees Azurite's disk between mailboxes). */
async function deleteContainer(blobEndpoint: string, container: string): Promise<void> {
  const v = validateDestination({ accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, storageCloud: 'custom', blobEndpoint, container });
  if (!v.ok) return;
  await createDestination(v.config).deleteContainer();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exitCode = 1;
});
