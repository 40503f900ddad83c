/**
 * `npm run bench:fts-decode` (node bin/run-ts.js bench/fts-decode.ts): the CPU cost of the Graph source's per-item path for
 * full-fidelity items (docs/benchmarks.md, section Graph): base64 decode of exportItems `data`,
 * FastTransfer decode (convert/fts, MS-OXCFXICS) into a MapiItem, SHA-256 of the bytes.
 *
 * Items are made the way bench/graph.ts makes them: corpus copies (sandbox/replicate.ts), encoded by
 * the sandbox's FTS encoder (exportDataBase64). Each round times, over the same items:
 *  - `baseline`: base64 decode + SHA-256 only (the floor of any reader: no decoder can beat it);
 *  - `decode`: decodeExportItem of the already decoded bytes;
 *  - `path`: base64ToBytes + decodeExportItem + sha256Hex, as source.ts exportBatch does;
 *  - with `--before DIR` (a copy of an older worker-service/src, e.g.
 *    `git archive <rev> worker-service/src | tar -x -C DIR`), the same `decode` and `path` with that
 *    copy's decoder, interleaved in the same rounds, so that machine load hits both alike.
 * Rounds alternate the variants; each figure is the median over rounds of the process's CPU time. Reported per variant:
 * items/s, ns per byte of decoded data, and the ratio of its time to the baseline's.
 * The last line is key=value pairs.
 *
 * Usage: node bin/run-ts.js bench/fts-decode.ts [--items N] [--rounds N] [--before DIR] [--profile-seconds S]
 *   --items   distinct items (default 400; corpus copies, ~10 KB each)
 *   --rounds  timed rounds (default 7)
 *   --profile-seconds S  only loop `path` for S seconds (for `node --cpu-prof`), no report
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { base64ToBytes, decodeExportItem } from '../worker-service/src/convert/fts/decode';
import { sha256Hex } from '../worker-service/src/graph/source';
import { exportDataBase64 } from '../worker-service/src/sandbox/mailbox-routes';
import { corpusItems, replicaStream } from '../worker-service/src/sandbox/replicate';

type Decoder = (data: Uint8Array) => { complete: boolean };
type Base64 = (text: string) => Uint8Array;

function arg(argv: string[], k: string): string | undefined {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Times `fn` over all items once; returns the process's CPU time in ms (user + system, all of its
 *  threads: GC helpers included). CPU time rather than wall time, because on a shared machine the
 *  wall time mostly measures the wait for a core. */
function time(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const count = Number(arg(argv, 'items') ?? 400);
  const rounds = Number(arg(argv, 'rounds') ?? 7);
  const before = arg(argv, 'before');
  const profileSeconds = arg(argv, 'profile-seconds');

  const source = await corpusItems(Math.min(400, count));
  const texts: string[] = [];
  for (const { item } of replicaStream(source, count, 0)) texts.push(exportDataBase64(item));
  const bytes = texts.map((t) => new Uint8Array(Buffer.from(t, 'base64')));
  const totalBytes = bytes.reduce((a, b) => a + b.length, 0);

  const variants: { name: string; run: () => void }[] = [];
  const sink = { n: 0 };
  variants.push({
    name: 'baseline',
    run: () => { for (const t of texts) { const b = Buffer.from(t, 'base64'); sink.n += createHash('sha256').update(b).digest('hex').length; } },
  });
  const add = (label: string, decode: Decoder, b64: Base64): void => {
    variants.push({ name: `decode${label}`, run: () => { for (const b of bytes) if (!decode(b).complete) throw new Error('incomplete item'); } });
    variants.push({
      name: `path${label}`,
      run: () => {
        for (const t of texts) {
          const b = b64(t);
          if (!decode(b).complete) throw new Error('incomplete item');
          sink.n += sha256Hex(b).length;
        }
      },
    });
  };
  add('', (b) => decodeExportItem(b), base64ToBytes);
  if (before) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const old = require(path.resolve(before, 'worker-service/src/convert/fts/decode')) as { decodeExportItem: Decoder; base64ToBytes: Base64 };
    add('_before', (b) => old.decodeExportItem(b), old.base64ToBytes);
  }

  if (profileSeconds) {
    const until = Date.now() + Number(profileSeconds) * 1000;
    const p = variants.find((v) => v.name === 'path')!;
    let n = 0;
    while (Date.now() < until) { p.run(); n += texts.length; }
    console.log(`profiled ${n} items`);
    return;
  }

  // Warm-up (JIT), then rounds with the variants in rotating order.
  for (const v of variants) { v.run(); v.run(); }
  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + r) % variants.length];
      times.get(v.name)!.push(time(v.run));
    }
  }
  const base = median(times.get('baseline')!);
  console.log(`fts-decode: ${count} items, ${fmt(totalBytes / 1e6, 2)} MB decoded (${fmt(totalBytes / count)} B/item), ${rounds} rounds, load average ${fmt(loadavg()[0], 1)}`);
  console.log('variant           items/s    ns/byte   µs/item   × baseline');
  const key: Record<string, string | number> = { bench: 'fts-decode', items: count, bytes_per_item: Math.round(totalBytes / count) };
  for (const v of variants) {
    const ms = median(times.get(v.name)!);
    const perSec = (count * 1000) / ms;
    const nsPerByte = (ms * 1e6) / totalBytes;
    console.log(`${v.name.padEnd(16)} ${fmt(perSec).padStart(8)} ${fmt(nsPerByte, 2).padStart(10)} ${fmt((ms * 1000) / count, 1).padStart(9)} ${fmt(ms / base, 2).padStart(12)}`);
    key[`${v.name}_items_per_s`] = Math.round(perSec);
    key[`${v.name}_ns_per_byte`] = Number(nsPerByte.toFixed(2));
    key[`${v.name}_x_baseline`] = Number((ms / base).toFixed(2));
  }
  if (before) {
    key.speedup_decode = Number((median(times.get('decode_before')!) / median(times.get('decode')!)).toFixed(2));
    key.speedup_path = Number((median(times.get('path_before')!) / median(times.get('path')!)).toFixed(2));
  }
  key.load_avg_1m = Number(loadavg()[0].toFixed(1));
  console.log(Object.entries(key).map(([k, v]) => `${k}=${v}`).join(' '));
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
