/**
 * `npm run bench:pst`: the PST writer's speed and memory (issue 2, "Must show d"; docs/benchmarks.md).
 *
 * One run:
 *  1. converts the SpamAssassin corpus once (convertMime) and stores the MapiItems in an item file
 *     (bench/item-file.ts) that child processes read one item at a time;
 *  2. throughput: a child process writes a mailbox of --size (default 2 GB) — unique copies of the
 *     corpus items (new Message-ID and subject) spread over 8 folders — through PstWriter into a
 *     FilePstSink, then fsyncs the file; writer MB/s = PST bytes / (write + fsync) wall time. This
 *     child reads the whole item file before it starts (the converted corpus held in memory), so
 *     making a copy in the timed loop is replicateItem alone;
 *  3. raw: writes the same number of bytes to a file in the same directory in 1 MiB chunks
 *     (fs.writeSync), then fsyncs; raw MB/s = bytes / wall time (fsync included on both sides);
 *  4. readpst: `readpst -q -o DIR` on the PST from step 2; MB/s = PST bytes / wall time; its CPU
 *     time (bash `times`) against the writer child's gives the same comparison by CPU;
 *  5. memory: one child process per --sizes entry (default 1GB,4GB) writes a mailbox of that size;
 *     its peak RSS (VmHWM, reset after start-up so it covers the writing only) is reported, with
 *     the heap growth per item sampled every 10% (gc before each sample).
 * The children run the writer as JavaScript compiled by tsc (into node_modules/.cache/outport-bench,
 * compiled at the start of each run), as a deployed worker would run it, not through tsx's
 * on-the-fly transform (`--runner tsx` measures that instead).
 * The last line is key=value pairs. Every file it writes is removed (in --dir, default os.tmpdir()).
 *
 * Usage: npm run bench:pst -- [--quick] [--size 2GB] [--sizes 1GB,4GB] [--dir DIR] [--runner compiled|tsx] [--threads N]
 *   --quick   --size 200MB --sizes 200MB,800MB (a few minutes)
 *   --threads encoder threads (pst/encode/pool.ts): they make the copies and encode them, the
 *             writer's thread admits and lays them out; default 0 = everything on the writer's
 *             thread (PstWriter.addItem), as `outport convert` and the export run today
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { benchBuildDir, compileEntry } from './compile';
import { EncoderPool } from '../worker-service/src/pst/encode/pool';
import { benchDecoderSpec } from './pst-decoder';
import { FilePstSink, PstWriter, type PstSink } from '../worker-service/src/pst/writer';
import { corpusItems, replicaFolderPath, replicateItem } from '../worker-service/src/sandbox/replicate';
import { ItemFile, writeItemFile } from './item-file';

const run = promisify(execFile);
const MB = 1e6;
/** Chunk size of the raw sequential write. */
const RAW_CHUNK_BYTES = 1024 * 1024;
/** Goals of issue 2 "Must show d". */
const GOALS = { ratioVsRaw: 0.5, ratioVsReadpst: 1.0, rssRatio: 1.3, rss4GbMb: 300 };

/** Parses "200MB", "2GB", "1.5GiB", "123456" into bytes (MB/GB decimal, MiB/GiB binary). */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size "${text}" (e.g. 200MB, 2GB, 1GiB)`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
  return Math.round(Number(m[1]) * mult[unit]);
}

/** Formats bytes as "2.00 GB" / "200 MB". */
function fmtSize(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / MB).toFixed(0)} MB`;
}

/** What a child process reports. */
interface ChildResult {
  targetBytes: number;
  pstBytes: number;
  items: number;
  parts: number;
  writeMs: number;
  fsyncMs: number;
  /** Part of writeMs spent making the copies (reading the item file, replicateItem), not writing. */
  copyMs: number;
  /** True when the copies were made from the corpus held in memory (else read from the item file). */
  preloaded: boolean;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** VmHWM after the reset at start (KiB → MB). */
  peakRssMb: number;
  /** RSS before the first item (node, tsx, the writer's modules). */
  startRssMb: number;
  /** [items, heapUsed + external bytes after gc] every 10% of the target (memory runs only). */
  samples: [number, number][];
}

function vmStatus(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A FilePstSink that counts the bytes appended. */
class CountingSink implements PstSink {
  bytes = 0;
  constructor(private readonly inner: FilePstSink) {}
  append(b: Uint8Array): Promise<void> {
    this.bytes += b.length;
    return this.inner.append(b);
  }
  writeAt(o: number, b: Uint8Array): Promise<void> {
    return this.inner.writeAt(o, b);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** True for the throughput child (no memory samples, no encoder threads): it holds the converted corpus. */
function holdsCorpus(sample: boolean, threads: number): boolean {
  return !sample && threads === 0;
}

/**
 * Child: writes copies of the item file's items until the PST reaches `targetBytes`; with
 * `threads` > 0 through an encoder pool whose threads make and encode the copies (bench/pst-decoder.ts).
 */
async function child(itemsPath: string, outPath: string, targetBytes: number, sample: boolean, threads: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const source = new ItemFile(itemsPath);
  // the throughput child (no samples, no threads) holds the converted corpus in memory, so that a
  // copy costs only replicateItem and the figure is the writer's; the memory children read one item
  // at a time from the file, so that their RSS is the writer's and not the corpus's (~100 MB)
  const corpus = holdsCorpus(sample, threads) ? Array.from({ length: source.count }, (_, i) => source.read(i).item) : undefined;
  gc?.();
  try { writeFileSync('/proc/self/clear_refs', '5'); } catch { /* not Linux: VmHWM then covers start-up too */ }
  const startRss = vmStatus('VmRSS') ?? process.memoryUsage().rss;
  const dir = path.dirname(outPath);
  let sink: CountingSink | undefined;
  const writer = PstWriter.open({
    partName: path.basename(outPath),
    splitSizeBytes: 50 * 1024 ** 3,
    openSink: async (name) => (sink = new CountingSink(await FilePstSink.create(path.join(dir, name)))),
  });
  const samples: [number, number][] = [];
  let nextSample = targetBytes / 10;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  let copyMs = 0;
  const pool = threads > 0 ? EncoderPool.start(writer, { threads, decoder: benchDecoderSpec(itemsPath) }) : undefined;
  const empty = new Uint8Array(0);
  let failed: Error | undefined;
  for (; !sink || sink.bytes < targetBytes; n++) {
    const i = n % source.count;
    const folderPath = replicaFolderPath(source.groupOf[i], n, source.count);
    if (pool) {
      await pool.add(folderPath, empty, { n }, (err) => (failed ??= err));
      if (failed) throw failed;
    } else {
      const c0 = performance.now();
      const item = replicateItem(corpus ? corpus[i] : source.read(i).item, n);
      copyMs += performance.now() - c0;
      await writer.addItem(folderPath, item);
    }
    if (sample && gc && sink && sink.bytes >= nextSample) {
      gc();
      const m = process.memoryUsage();
      samples.push([n + 1, m.heapUsed + m.external]);
      nextSample += targetBytes / 10;
    }
  }
  await pool?.close();
  if (failed) throw failed;
  const parts = await writer.close();
  const writeMs = performance.now() - t0;
  const t1 = performance.now();
  for (const p of parts) {
    const fd = openSync(path.join(dir, p.fileName), 'r+');
    fsyncSync(fd);
    closeSync(fd);
  }
  const fsyncMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  source.close();
  const result: ChildResult = {
    targetBytes,
    pstBytes: parts.reduce((a, p) => a + statSync(path.join(dir, p.fileName)).size, 0),
    items: n,
    parts: parts.length,
    writeMs,
    fsyncMs,
    copyMs,
    preloaded: corpus !== undefined,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    peakRssMb: (vmStatus('VmHWM') ?? process.resourceUsage().maxRSS * 1024) / MB,
    startRssMb: startRss / MB,
    samples,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** How children run: compiled JavaScript (its path) or TypeScript through tsx. */
type Runner = { kind: 'compiled'; entry: string } | { kind: 'tsx' };

/** Runs a child writer process and returns its report. */
async function runChild(runner: Runner, itemsPath: string, outPath: string, targetBytes: number, sample: boolean, threads: number): Promise<ChildResult> {
  const entry = runner.kind === 'compiled' ? [runner.entry] : [path.resolve(__dirname, '../bin/run-ts.js'), __filename];
  // The throughput child (it holds the corpus, see child()) runs without V8's allocation-site
  // pretenuring: building the 6,046 held items makes every object of some shared allocation sites
  // survive (PropertyBag.set's value records among them), V8 then allocates those sites' objects
  // straight in the old generation for good, and the writer's short-lived objects from the same
  // sites pile up there (peak RSS 504 MB instead of 317, ~6 % slower). It is the harness's doing:
  // without the held corpus the flag changes nothing measurable (docs/benchmarks.md, 2026-11-23).
  const v8Flags = holdsCorpus(sample, threads) ? ['--no-allocation-site-pretenuring'] : [];
  const args = ['--expose-gc', ...v8Flags, ...entry, '--child', itemsPath, outPath, String(targetBytes), sample ? 'sample' : 'nosample', String(threads)];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Writes `bytes` bytes to `file` in RAW_CHUNK_BYTES chunks, then fsyncs; returns ms. */
function rawWrite(file: string, bytes: number): number {
  const chunk = Buffer.alloc(RAW_CHUNK_BYTES, 0x5a);
  const t0 = performance.now();
  const fd = openSync(file, 'w');
  for (let done = 0; done < bytes; ) {
    const n = Math.min(chunk.length, bytes - done);
    done += writeSync(fd, chunk, 0, n, done);
  }
  fsyncSync(fd);
  closeSync(fd);
  return performance.now() - t0;
}

/** User + system seconds of the children from bash's `times` output (its second line, "0m1.234s 0m0.056s"). */
function childCpuSeconds(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[lines.length - 1] ?? '');
  if (!m) return NaN;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

/** Bytes per item of heap growth between the first and last sample (least squares over all). */
function bytesPerItem(samples: [number, number][]): number {
  if (samples.length < 2) return NaN;
  const k = samples.length;
  const mx = samples.reduce((a, s) => a + s[0], 0) / k, my = samples.reduce((a, s) => a + s[1], 0) / k;
  let num = 0, den = 0;
  for (const [x, y] of samples) { num += (x - mx) * (y - my); den += (x - mx) ** 2; }
  return num / den;
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1], argv[2], Number(argv[3]), argv[4] === 'sample', Number(argv[5]));
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const size = parseSize(opt('--size') ?? (quick ? '200MB' : '2GB'));
  const sizes = (opt('--sizes') ?? (quick ? '200MB,800MB' : '1GB,4GB')).split(',').map(parseSize);
  if (sizes.length !== 2) throw new Error('--sizes takes two sizes, e.g. 1GB,4GB');
  const threads = Number(opt('--threads') ?? 0);
  if (!Number.isSafeInteger(threads) || threads < 0) throw new Error(`--threads ${opt('--threads')}: a whole number ≥ 0 (0: no encoder threads, the writer's thread does everything)`);
  const runnerName = opt('--runner') ?? 'compiled';
  if (runnerName !== 'compiled' && runnerName !== 'tsx') throw new Error(`--runner ${runnerName}: use compiled (default) or tsx`);
  const dir = mkdtempSync(path.join(opt('--dir') ?? tmpdir(), 'outport-bench-'));
  const log = (s: string): void => { process.stdout.write(s + '\n'); };
  try {
    log(`bench:pst on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, files in ${dir}`);
    let t0 = performance.now();
    const runner: Runner = runnerName === 'tsx' ? { kind: 'tsx' } : { kind: 'compiled', entry: compileEntry(__filename, benchBuildDir('outport-bench'), true) };
    log(runner.kind === 'compiled' ? `writer compiled by tsc in ${f1((performance.now() - t0) / 1000)} s (children run ${path.relative(process.cwd(), runner.entry)})` : 'children run TypeScript through tsx');
    t0 = performance.now();
    const items = await corpusItems();
    const itemsPath = path.join(dir, 'corpus-items.bin');
    writeItemFile(itemsPath, items);
    log(`corpus: ${items.length} messages converted in ${f1((performance.now() - t0) / 1000)} s (once; the copies below differ in Message-ID and subject)`);
    items.length = 0;

    // 2. throughput
    const pst = path.join(dir, 'bench.pst');
    const w = await runChild(runner, itemsPath, pst, size, false, threads);
    const writerS = (w.writeMs + w.fsyncMs) / 1000;
    const writerMbS = w.pstBytes / MB / writerS;
    const writerOnlyMbS = w.pstBytes / MB / (writerS - w.copyMs / 1000);
    log(`writer:  ${fmtSize(w.pstBytes)} (${w.items} items, ${w.parts} part) in ${f1(writerS)} s (write ${f1(w.writeMs / 1000)} + fsync ${f1(w.fsyncMs / 1000)}) = ${f1(writerMbS)} MB/s; CPU user ${f1(w.cpuUserMs / 1000)} s, system ${f1(w.cpuSystemMs / 1000)} s; ${f1(w.items / writerS)} items/s; peak RSS ${f1(w.peakRssMb)} MB`);
    log(threads > 0 ? `         ${threads} encoder thread(s) made and encoded the copies; the writer's thread admitted and laid them out` : `         no encoder threads; of which making the copies ${f1(w.copyMs / 1000)} s (${w.preloaded ? 'from the corpus held in memory, so peak RSS includes it' : 'read from the item file'}); without it ${f1(writerOnlyMbS)} MB/s`);

    // 3. raw write of the same bytes
    const rawFile = path.join(dir, 'raw.bin');
    const rawS = rawWrite(rawFile, w.pstBytes) / 1000;
    rmSync(rawFile);
    const rawMbS = w.pstBytes / MB / rawS;
    log(`raw:     ${fmtSize(w.pstBytes)} in ${RAW_CHUNK_BYTES / 1024} KiB writeSync chunks + fsync in ${f1(rawS)} s = ${f1(rawMbS)} MB/s`);

    // 4. readpst
    const rpDir = mkdtempSync(path.join(dir, 'readpst-'));
    t0 = performance.now();
    // through bash so that its `times` reports readpst's CPU time (children's user and system)
    const rp = await run('bash', ['-c', 'readpst -q -o "$1" "$2" && times', 'bash', rpDir, pst], { maxBuffer: 64 * 1024 * 1024 });
    const readpstS = (performance.now() - t0) / 1000;
    const readpstCpuS = childCpuSeconds(rp.stdout);
    const readpstOut = Number(execFileSync('du', ['-sb', rpDir], { encoding: 'utf8' }).split('\t')[0]);
    rmSync(rpDir, { recursive: true, force: true });
    rmSync(pst, { force: true });
    const readpstMbS = w.pstBytes / MB / readpstS;
    log(`readpst: read ${fmtSize(w.pstBytes)} (wrote ${fmtSize(readpstOut)} of mbox) in ${f1(readpstS)} s = ${f1(readpstMbS)} MB/s; CPU ${f1(readpstCpuS)} s`);

    // 5. memory
    const mem: ChildResult[] = [];
    for (const target of sizes) {
      const r = await runChild(runner, itemsPath, path.join(dir, 'mem.pst'), target, true, threads);
      rmSync(path.join(dir, 'mem.pst'), { force: true });
      mem.push(r);
      log(`memory:  ${fmtSize(r.pstBytes)} (${r.items} items) peak RSS ${f1(r.peakRssMb)} MB (start ${f1(r.startRssMb)} MB); heap+external grows ${f1(bytesPerItem(r.samples))} B/item; ${f1(r.pstBytes / MB / ((r.writeMs + r.fsyncMs) / 1000))} MB/s`);
    }

    const ratioRaw = writerMbS / rawMbS, ratioReadpst = writerMbS / readpstMbS;
    // CPU seconds per PST byte, writer (copies included) against readpst: what the ratio would be
    // if each had a core to itself — the machine this runs on is often shared
    const cpuRatioReadpst = readpstCpuS / ((w.cpuUserMs + w.cpuSystemMs) / 1000);
    const rssRatio = mem[1].peakRssMb / mem[0].peakRssMb;
    log('');
    log(`goal writer ≥ ${GOALS.ratioVsRaw}× raw write: ${f2(ratioRaw)}× — ${verdict(ratioRaw >= GOALS.ratioVsRaw)}`);
    log(`goal writer ≥ ${GOALS.ratioVsReadpst}× readpst: ${f2(ratioReadpst)}× — ${verdict(ratioReadpst >= GOALS.ratioVsReadpst)} (by CPU time: ${f2(cpuRatioReadpst)}×)`);
    log(`goal RSS at ${fmtSize(sizes[1])} ≤ ${GOALS.rssRatio}× RSS at ${fmtSize(sizes[0])}: ${f2(rssRatio)}× — ${verdict(rssRatio <= GOALS.rssRatio)}`);
    log(`goal RSS at ${fmtSize(sizes[1])} ≤ ${GOALS.rss4GbMb} MB: ${f1(mem[1].peakRssMb)} MB — ${verdict(mem[1].peakRssMb <= GOALS.rss4GbMb)}`);
    const label = (b: number): string => (b >= 1e9 ? `${Math.round(b / 1e9)}gb` : `${Math.round(b / MB)}mb`);
    log([
      `pst_mb=${f1(w.pstBytes / MB)}`,
      `items=${w.items}`,
      `threads=${threads}`,
      `writer_mb_s=${f1(writerMbS)}`,
      `writer_excl_copies_mb_s=${f1(writerOnlyMbS)}`,
      `raw_mb_s=${f1(rawMbS)}`,
      `ratio_vs_raw=${f2(ratioRaw)}`,
      `readpst_mb_s=${f1(readpstMbS)}`,
      `ratio_vs_readpst=${f2(ratioReadpst)}`,
      `cpu_ratio_vs_readpst=${f2(cpuRatioReadpst)}`,
      `rss_${label(sizes[0])}_mb=${f1(mem[0].peakRssMb)}`,
      `rss_${label(sizes[1])}_mb=${f1(mem[1].peakRssMb)}`,
      `rss_ratio=${f2(rssRatio)}`,
    ].join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// An entry point (bin/run-ts.js requires it): the parent run, or a child with --child.
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err) + '\n');
  process.exitCode = 1;
});
