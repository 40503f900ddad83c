/**
 * Property-based round trips of the writer's NDB and LTP layers through our own reader: data trees
 * (single block, XBLOCK, XXBLOCK), subnode trees (SLBLOCK, SIBLOCK), property contexts and table
 * contexts with values inline, in the heap and in subnodes, over multi-block heaps.
 */
import fc from 'fast-check';
import { PropType, type PropValue } from '../../worker-service/src/mapi/types';
import { buildPropertyContext, type PcProperty } from '../../worker-service/src/pst/ltp/write-pc';
import { buildTableContext, layoutColumns, type TcRow } from '../../worker-service/src/pst/ltp/write-tc';
import { LtpNode } from '../../worker-service/src/pst/ltp/read-node';
import { readPcProperties } from '../../worker-service/src/pst/ltp/read-pc';
import { openTable } from '../../worker-service/src/pst/ltp/read-tc';
import { NdbReader } from '../../worker-service/src/pst/ndb/read-ndb';
import { MemoryByteSource } from '../../worker-service/src/pst/ndb/read-source';
import { randomBytes } from 'node:crypto';
import { CryptMethod, cryptPermute, permuteInto, wasmPermute } from '../../worker-service/src/pst/ndb/crypt';
import { PropValueError, encodePropValue, utf16leBytes, writeFixedValue } from '../../worker-service/src/pst/ltp/write-value';
import { fixedSize as fixedSizeOf } from '../../worker-service/src/mapi/types';
import { NdbWriter } from '../../worker-service/src/pst/ndb/write-ndb';
import { NidType, makeNid } from '../../worker-service/src/pst/ndb/nid';
import { MemoryPstSink } from '../../worker-service/src/pst/sink';
import { HeapBuilder } from '../../worker-service/src/pst/ltp/write-heap';
import { ClientSig } from '../../worker-service/src/pst/ltp/constants';
import { writeLtpNode } from '../../worker-service/src/pst/messaging/write-node';
import { AMAP_INTERVAL, FIRST_AMAP_OFFSET } from '../../worker-service/src/pst/ndb/constants';
import { propTag } from '../../worker-service/src/mapi/types';

const NODE = makeNid(NidType.INTERNAL, 0x100);

async function roundTrip(build: (ndb: NdbWriter) => Promise<void>, crypt = CryptMethod.Permute): Promise<{ reader: NdbReader; bytes: Buffer }> {
  const sink = new MemoryPstSink();
  const ndb = new NdbWriter(sink, { cryptMethod: crypt });
  await build(ndb);
  await ndb.close({ rgnid: new Uint32Array(32).fill(0x400) });
  const bytes = sink.bytes();
  return { reader: await NdbReader.open(new MemoryByteSource(bytes)), bytes };
}

/** Values of each type, sized to land inline, in the heap or (for long ones) in subnodes. */
const valueOf: Record<number, fc.Arbitrary<PropValue>> = {
  [PropType.Integer16]: fc.integer({ min: -32768, max: 32767 }),
  [PropType.Integer32]: fc.integer({ min: -2147483648, max: 2147483647 }),
  [PropType.Boolean]: fc.boolean(),
  [PropType.Floating64]: fc.double({ noNaN: true }),
  [PropType.Integer64]: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  [PropType.Time]: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  [PropType.String]: fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 1800, maxLength: 2600 })),
  [PropType.Binary]: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 3000, maxLength: 9000 })),
  [PropType.Guid]: fc.uuid(),
  [PropType.MultipleInteger32]: fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 8 }),
  [PropType.MultipleString]: fc.array(fc.string({ maxLength: 20 }), { maxLength: 6 }),
  [PropType.MultipleBinary]: fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 5 }),
};
const types = Object.keys(valueOf).map(Number);

const propsArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 0x7fff }), { minLength: 1, maxLength: 60 })
  .chain((ids) => fc.tuple(...ids.map((id) => fc.constantFrom(...types).chain((type) => valueOf[type].map((value) => ({ id, type, value } as PcProperty))))));

function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return v.map(normalise);
  if (typeof v === 'number' && Object.is(v, -0)) return 0;
  return v;
}

describe('NDB writer', () => {
  test('data trees of 1 block, an XBLOCK and an XXBLOCK read back byte for byte', async () => {
    const sizes = [0, 1, 8176, 8177, 200_000, 1021 * 8176 + 5];
    const streams = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, j) => (j * 31 + i) & 0xff));
    const bids: number[] = [];
    const { reader } = await roundTrip(async (ndb) => {
      for (const s of streams) bids.push(await ndb.writeStream(s));
    });
    for (let i = 0; i < streams.length; i++) {
      const back = await reader.readData(BigInt(bids[i]));
      expect(Buffer.compare(Buffer.from(back), Buffer.from(streams[i]))).toBe(0);
    }
    // the biggest stream needs an XXBLOCK (more than 1021 data blocks)
    const top = await reader.readBlock(BigInt(bids[bids.length - 1]));
    expect(top.data[0]).toBe(0x01);
    expect(top.data[1]).toBe(2);
  });

  test('a subnode tree of 700 entries (SIBLOCK over SLBLOCKs) reads back in nid order', async () => {
    const entries = Array.from({ length: 700 }, (_, i) => ({ nid: makeNid(NidType.LTP, i + 1), bidData: 0, bidSub: 0 }));
    let root = 0;
    const { reader } = await roundTrip(async (ndb) => {
      for (const e of entries) e.bidData = await ndb.writeStream(Uint8Array.of(e.nid & 0xff));
      root = await ndb.writeSubnodeTree(entries);
    });
    const subs = await reader.readSubnodes(BigInt(root));
    expect([...subs.keys()]).toEqual(entries.map((e) => e.nid));
  });

  test('the file ends on an AMap interval and every block lies inside one interval', async () => {
    const { bytes, reader } = await roundTrip(async (ndb) => {
      for (let i = 0; i < 80; i++) await ndb.writeStream(new Uint8Array(7000 + i));
      ndb.addNode(NODE, await ndb.writeStream(Uint8Array.of(1, 2, 3)), 0, 0);
    });
    expect((bytes.length - FIRST_AMAP_OFFSET) % AMAP_INTERVAL).toBe(0);
    for await (const b of reader.blockEntries()) {
      const ib = Number(b.bref.ib);
      const k = Math.floor((ib - FIRST_AMAP_OFFSET) / AMAP_INTERVAL);
      const end = ib + Math.ceil((b.cb + 16) / 64) * 64;
      expect(end).toBeLessThanOrEqual(FIRST_AMAP_OFFSET + (k + 1) * AMAP_INTERVAL);
    }
  });
});

describe('LTP writer (property-based, read back with our reader)', () => {
  test('property contexts keep every property and value', async () => {
    await fc.assert(
      fc.asyncProperty(propsArb, fc.constantFrom(CryptMethod.Permute, CryptMethod.None), async (props, crypt) => {
        const { reader } = await roundTrip(async (ndb) => {
          let n = 0x20;
          const out = buildPropertyContext(props, () => makeNid(NidType.LTP, n++));
          const node = await writeLtpNode(ndb, out);
          ndb.addNode(NODE, node.bidData, node.bidSub, 0);
        }, crypt);
        const back = await readPcProperties(await LtpNode.open(reader, await reader.getNode(NODE)));
        const got = new Map(back.map((p) => [p.id, { type: p.type, value: normalise(p.value) }]));
        expect(got.size).toBe(props.length);
        for (const p of props) expect(got.get(p.id)).toEqual({ type: p.type, value: normalise(p.value) });
      }),
      { numRuns: 40 },
    );
  });

  test('PtypString values go to the heap as UTF-16LE code units as they are (lone surrogates, astral characters), inline at 1,790 code units, in a subnode past it', async () => {
    // lone high and low surrogates, a pair (cut in two where a length ends inside it), a NUL inside
    // (readers drop a trailing NUL as a terminator, so none ends a value here)
    const odd = 'a\u0000\ud800b\udc00c😀ézy';
    const sized = (n: number) => odd.repeat(Math.ceil(n / odd.length)).slice(0, n);
    const values = ['', 'x', odd, sized(95), sized(96), sized(1789), sized(1790), sized(1791), sized(5000)];
    const props: PcProperty[] = values.map((value, i) => ({ id: 0x6700 + i, type: PropType.String, value }));
    props.push({ id: 0x0001, type: PropType.Binary, value: Uint8Array.from([1, 2, 3]) }); // a small byte allocation beside them
    const { reader } = await roundTrip(async (ndb) => {
      let n = 1;
      const node = await writeLtpNode(ndb, buildPropertyContext(props, () => makeNid(NidType.LTP, n++)));
      ndb.addNode(NODE, node.bidData, node.bidSub, 0);
    });
    const back = await readPcProperties(await LtpNode.open(reader, await reader.getNode(NODE)));
    for (const p of props) {
      const got = back.find((b) => b.id === p.id);
      expect(got?.type).toBe(p.type);
      if (typeof p.value === 'string') expect([p.value.length, Buffer.from(got!.value as string, 'utf16le').equals(Buffer.from(p.value, 'utf16le'))]).toEqual([p.value.length, true]);
      else expect(Buffer.from(got!.value as Uint8Array).equals(Buffer.from(p.value as Uint8Array))).toBe(true);
    }
  });

  test('heap blocks are the same whatever memory they are rendered into (no byte left unwritten)', () => {
    const build = () => {
      const heap = new HeapBuilder(ClientSig.PC);
      // ~30 blocks, so that block 8 is an HNBITMAPHDR block; odd lengths leave pad bytes
      for (let i = 0; i < 2300; i++) heap.allocate(i % 3 === 0 ? `s${i}` : Uint8Array.from({ length: (i % 200) + 1 }, (_, j) => (i + j) & 0xff));
      heap.setUserRoot(0x20);
      return heap.finish().map((b) => Buffer.from(b).toString('hex'));
    };
    // Node's allocation pool and freed memory filled with a byte: one the renderer leaves unwritten would show
    const dirty = (byte: number) => {
      for (let i = 0; i < 300; i++) Buffer.allocUnsafe(i % 2 ? 4000 : 8000).fill(byte);
      for (let i = 0; i < 300; i++) Buffer.allocUnsafe(64 + (i % 50)).fill(byte);
    };
    dirty(0x00);
    const zeros = build();
    dirty(0xa5);
    const garbage = build();
    expect(zeros.length).toBeGreaterThan(9);
    expect(garbage).toEqual(zeros);
  });

  test('table contexts keep every row and cell, with row matrices in the heap or in subnodes', async () => {
    const colsArb = fc.uniqueArray(fc.integer({ min: 1, max: 0x67e0 }), { minLength: 1, maxLength: 12 }).chain((ids) =>
      fc.tuple(...ids.map((id) => fc.constantFrom(PropType.Integer32, PropType.Boolean, PropType.String, PropType.Time, PropType.Binary, PropType.Integer16).map((t) => propTag(id, t)))),
    );
    await fc.assert(
      fc.asyncProperty(colsArb, fc.integer({ min: 0, max: 400 }), fc.integer(), async (tags, rowCount, seed) => {
        const rows: TcRow[] = [];
        for (let r = 0; r < rowCount; r++) {
          const cells = new Map<number, PropValue>();
          tags.forEach((tag, c) => {
            if ((seed + r * 7 + c * 3) % 5 === 0) return; // some cells absent
            const t = tag & 0xffff;
            const v = (r * 131 + c) | 0;
            cells.set(tag, t === PropType.Integer32 ? v : t === PropType.Integer16 ? v % 30000 : t === PropType.Boolean ? v % 2 === 0 : t === PropType.Time ? BigInt(v) * 1000n : t === PropType.String ? `r${r}c${c}`.repeat((r % 3) + 1) : Uint8Array.of(r & 0xff, c));
          });
          rows.push({ rowId: 0x200000 + r * 32 + 4, cells });
        }
        const layout = layoutColumns(tags);
        const { reader } = await roundTrip(async (ndb) => {
          let n = 0x20;
          const node = await writeLtpNode(ndb, buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++)));
          ndb.addNode(NODE, node.bidData, node.bidSub, 0);
        });
        const tc = await openTable(await LtpNode.open(reader, await reader.getNode(NODE)));
        const back = [];
        for await (const r of tc.rows()) back.push(r);
        expect(back.map((r) => r.dwRowID)).toEqual(rows.map((r) => r.rowId));
        back.forEach((r, i) => {
          for (const tag of tags) {
            const want = rows[i].cells.get(tag);
            const got = r.cells.get(tag);
            if (want === undefined) expect(got).toBeUndefined();
            else expect(normalise(got?.value)).toEqual(normalise(want));
          }
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe('value and block encodings used on the hot path', () => {
  it('permuteInto (WebAssembly) equals cryptPermute at every length around its chunking', () => {
    expect(wasmPermute()).not.toBeNull();
    for (const n of [0, 1, 3, 63, 64, 65, 100, 8175, 8176, 65279, 65280, 65281, 200_003]) {
      const src = randomBytes(n);
      const ref = Uint8Array.from(src);
      cryptPermute(ref, true);
      const out = new Uint8Array(n + 16).fill(9);
      permuteInto(src, out, 7);
      expect(Buffer.from(out.subarray(7, 7 + n)).equals(Buffer.from(ref))).toBe(true);
      expect([out[6], out[7 + n]]).toEqual([9, 9]); // nothing written outside
      cryptPermute(ref, false);
      expect(Buffer.from(ref).equals(src)).toBe(true);
    }
  });

  it('writeFixedValue writes what Buffer writes little-endian, and rejects wrong shapes', () => {
    const cases: [PropType, PropValue, (b: Buffer) => void][] = [
      [PropType.Integer16, -2, (b) => b.writeUInt16LE(0xfffe)],
      [PropType.Integer32, -5, (b) => b.writeInt32LE(-5)],
      [PropType.Integer32, 0xfffffffe, (b) => b.writeUInt32LE(0xfffffffe)],
      [PropType.Floating32, 1.5e-7, (b) => b.writeFloatLE(1.5e-7)],
      [PropType.Floating64, -Math.PI, (b) => b.writeDoubleLE(-Math.PI)],
      [PropType.FloatingTime, NaN, (b) => b.writeDoubleLE(NaN)],
      [PropType.Time, 133_000_000_000_000_000n, (b) => b.writeBigUInt64LE(133_000_000_000_000_000n)],
      [PropType.Integer64, -1n, (b) => b.writeBigUInt64LE(0xffffffffffffffffn)],
      [PropType.Currency, -(2n ** 63n), (b) => b.writeBigInt64LE(-(2n ** 63n))],
      [PropType.Boolean, true, (b) => b.writeUInt8(1)],
    ];
    for (const [type, value, expected] of cases) {
      const want = Buffer.alloc(fixedSizeOf(type));
      expected(want);
      const got = new Uint8Array(want.length + 2);
      writeFixedValue(got, 1, type, value);
      expect(Buffer.from(got.subarray(1, 1 + want.length))).toEqual(want);
      expect(Buffer.from(encodePropValue(type, value))).toEqual(want);
    }
    expect(() => writeFixedValue(new Uint8Array(8), 0, PropType.Time, 5)).toThrow(PropValueError);
    expect(() => writeFixedValue(new Uint8Array(8), 0, PropType.Integer32, 5n)).toThrow(PropValueError);
    expect(() => writeFixedValue(new Uint8Array(8), 0, PropType.String, 'x')).toThrow(PropValueError);
  });

  it('utf16leBytes equals Buffer.from(…, "utf16le") below and above its loop threshold', () => {
    for (const s of ['', 'a', 'Grüße — ☃ 😀', 'x'.repeat(95), 'y'.repeat(96), '\uD800 lone surrogate', 'é'.repeat(500)]) {
      expect(Buffer.from(utf16leBytes(s))).toEqual(Buffer.from(s, 'utf16le'));
    }
  });
});
