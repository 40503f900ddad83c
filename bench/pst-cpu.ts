/**
 * `node bin/run-ts.js bench/pst-cpu.ts [--items N] [--items-file PATH]`: the PST writer's CPU cost
 * alone (docs/benchmarks.md "Writer CPU"): corpus copies (as bench/pst.ts makes them) written through
 * PstWriter into a sink that only counts bytes, so disk and page cache play no part. Prints items/s
 * and MB/s of PST, and the share of time spent making the copies (read + replicate) outside the
 * writer; `--threads N` runs the copies through an encoder pool of N threads (all wall time counted); `--digest` prints a SHA-256 of the PST bytes (record key fixed) to compare outputs. The
 * item file is kept at --items-file (default os.tmpdir()/outport-corpus-items.bin) so repeated runs skip the corpus conversion. Use with `node --cpu-prof` to profile the writer.
 */
import { createHash, type Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PstWriter, type PstSink } from '../worker-service/src/pst/writer';
import { corpusItems, replicaFolderPath, replicateItem } from '../worker-service/src/sandbox/replicate';
import { ItemFile, writeItemFile } from './item-file';
import { EncoderPool } from '../worker-service/src/pst/encode/pool';
import { benchDecoderSpec } from './pst-decoder';

/** A sink that keeps nothing: counts appended bytes (and hashes them, with --digest). */
class NullSink implements PstSink {
  bytes = 0;
  constructor(private readonly hash?: Hash) {}
  async append(b: Uint8Array): Promise<void> {
    this.bytes += b.length;
    this.hash?.update(b);
  }
  async writeAt(o: number, b: Uint8Array): Promise<void> {
    this.hash?.update(`writeAt ${o}`);
    this.hash?.update(b);
  }
  async close(): Promise<void> {}
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const count = Number(opt('--items') ?? 12000);
  const itemsPath = opt('--items-file') ?? path.join(tmpdir(), 'outport-corpus-items.bin');
  if (!existsSync(itemsPath) || !existsSync(`${itemsPath}.json`)) writeItemFile(itemsPath, await corpusItems());
  const source = new ItemFile(itemsPath);
  // --digest: SHA-256 of the PST bytes with a fixed store record key, to show that a change to the
  // writer leaves its output byte for byte the same
  const hash = argv.includes('--digest') ? createHash('sha256') : undefined;
  if (hash) (require('node:crypto') as { randomBytes: (n: number) => Buffer }).randomBytes = (n: number) => Buffer.alloc(n, 0x5a);
  let sink: NullSink | undefined;
  const writer = PstWriter.open({ partName: 'cpu.pst', splitSizeBytes: 50 * 1024 ** 3, openSink: async () => (sink = new NullSink(hash)) });
  // copies are made in the loop as bench/pst.ts makes them; their wall time is measured apart, and
  // their CPU time in a pass before (copies made and dropped) to subtract from the loop's
  const cpuCopy0 = process.cpuUsage();
  for (let n = 0; n < count; n++) replicateItem(source.read(n % source.count).item, n);
  const cpuCopy = process.cpuUsage(cpuCopy0);
  const copyCpuUs = cpuCopy.user + cpuCopy.system;
  let copyMs = 0;
  const threads = Number(opt('--threads') ?? 0);
  if (threads > 0) {
    // --threads N: copies made and encoded in an encoder pool (bench/pst-decoder.ts); all wall time counts
    const pool = EncoderPool.start(writer, { threads, decoder: benchDecoderSpec(itemsPath) });
    const t = performance.now();
    const c = process.cpuUsage();
    for (let n = 0; n < count; n++) {
      const i = n % source.count;
      await pool.add(replicaFolderPath(source.groupOf[i], n, source.count), new Uint8Array(0), { n });
    }
    await pool.close();
    await writer.close();
    const s = (performance.now() - t) / 1000;
    const cu = process.cpuUsage(c);
    const mb = sink!.bytes / 1e6;
    if (hash) process.stdout.write(`sha256=${hash.digest('hex')}\n`);
    process.stdout.write(`threads=${threads} items_s=${(count / s).toFixed(0)} mb_s=${(mb / s).toFixed(1)} cpu_s=${((cu.user + cu.system) / 1e6).toFixed(2)} wall_s=${s.toFixed(2)}\n`);
    return;
  }
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  for (let n = 0; n < count; n++) {
    const c0 = performance.now();
    const i = n % source.count;
    const folderPath = replicaFolderPath(source.groupOf[i], n, source.count);
    const item = replicateItem(source.read(i).item, n);
    copyMs += performance.now() - c0;
    await writer.addItem(folderPath, item);
  }
  await writer.close();
  const ms = performance.now() - t1 - copyMs;
  const cpu = process.cpuUsage(cpu0);
  const writerCpuS = (cpu.user + cpu.system - copyCpuUs) / 1e6;
  source.close();
  const mb = sink!.bytes / 1e6;
  process.stdout.write(`writer: ${count} items, ${mb.toFixed(1)} MB of PST in ${(ms / 1000).toFixed(2)} s wall (copies excluded) = ${(count / (ms / 1000)).toFixed(0)} items/s, ${(mb / (ms / 1000)).toFixed(1)} MB/s; writer CPU ${writerCpuS.toFixed(2)} s = ${(mb / writerCpuS).toFixed(1)} MB/s of CPU; copies ${(copyMs / 1000).toFixed(2)} s\n`);
  if (hash) process.stdout.write(`sha256=${hash.digest('hex')}\n`);
  process.stdout.write(`items_s=${(count / (ms / 1000)).toFixed(0)} mb_s=${(mb / (ms / 1000)).toFixed(1)} cpu_items_s=${(count / writerCpuS).toFixed(0)} cpu_mb_s=${(mb / writerCpuS).toFixed(1)} copy_items_s=${(count / (copyMs / 1000)).toFixed(0)}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err) + '\n');
  process.exitCode = 1;
});
