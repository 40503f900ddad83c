/**
 * The checker (worker-service/src/pst/check.ts): nothing found in Outlook-made samples and in our
 * writer's output; every fault class injected into a valid file is found with its code.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkPst, checkPstSource, formatFindings, type CheckReport } from '../../worker-service/src/pst/check';
import { PageType } from '../../worker-service/src/pst/ndb/constants';
import { cryptBlock, CryptMethod } from '../../worker-service/src/pst/ndb/crypt';
import { blockSizeOnDisk } from '../../worker-service/src/pst/ndb/read-block';
import { UNICODE_FORMAT } from '../../worker-service/src/pst/ndb/read-format';
import { NidType, makeNid, nidIndex } from '../../worker-service/src/pst/ndb/nid';
import { LtpNode } from '../../worker-service/src/pst/ltp/read-node';
import { readBthRecords } from '../../worker-service/src/pst/ltp/read-bth';
import { readTcInfo } from '../../worker-service/src/pst/ltp/read-tc';
import type { BbtEntry } from '../../worker-service/src/pst/ndb/read-page';
import { buildWriterFixture, mapPst, sealBlock, sealHeader, sealPage, type PstMap } from './check-fixtures';
import { SAMPLES_DIR, describeWithShared } from './shared-samples';

const codes = (r: CheckReport) => new Set(r.findings.map((f) => f.code));
const clean = (r: CheckReport) => { if (r.findings.length) throw new Error(formatFindings(r)); };

/** Decodes a block's payload, lets `edit` change it, re-encodes and re-seals the block CRC. */
function editBlock(bytes: Uint8Array, e: BbtEntry, crypt: CryptMethod, edit: (data: Uint8Array) => void): void {
  const ib = Number(e.bref.ib);
  const data = bytes.slice(ib, ib + e.cb);
  const internal = (e.bref.bid & 2n) !== 0n;
  if (!internal) cryptBlock(data, crypt, e.bref.bid, false);
  edit(data);
  if (!internal) cryptBlock(data, crypt, e.bref.bid, true);
  bytes.set(data, ib);
  sealBlock(bytes, ib, e.cb);
}

function blockOf(m: PstMap, bid: bigint): BbtEntry {
  const e = m.blocks.find((b) => (b.bref.bid & ~1n) === (bid & ~1n));
  if (!e) throw new Error(`no block ${bid}`);
  return e;
}

/** Edits the inline value (dwValueHnid) of property `propId` in the PC of node `nid`. */
async function editPcInline(bytes: Uint8Array, nid: number, propId: number, value: (old: number) => number): Promise<void> {
  const m = await mapPst(bytes);
  const node = m.nodes.find((n) => n.nid === nid)!;
  const ltp = await LtpNode.open(m.ndb, node);
  const { records } = readBthRecords(ltp.heap, ltp.heap.hnhdr.hidUserRoot);
  const rec = records.find((r) => (r.key[0] | (r.key[1] << 8)) === propId);
  if (!rec || ltp.heap.blocks.length !== 1) throw new Error('property not found in a one-block PC');
  const at = rec.data.byteOffset + 2;
  editBlock(bytes, blockOf(m, node.bidData), m.ndb.cryptMethod, (d) => {
    const v = new DataView(d.buffer, d.byteOffset);
    v.setUint32(at, value(v.getUint32(at, true)) >>> 0, true);
  });
}

/** Edits a cell of row `rowId` in table node `tableNid` (one-block heap, row matrix in the heap). */
async function editTableCell(bytes: Uint8Array, tableNid: number, rowId: number, tag: number, edit: (d: DataView, at: number) => void): Promise<void> {
  const m = await mapPst(bytes);
  const node = m.nodes.find((n) => n.nid === tableNid)!;
  const ltp = await LtpNode.open(m.ndb, node);
  const info = await readTcInfo(ltp);
  const rowIndex = readBthRecords(ltp.heap, info.hidRowIndex).records.find((r) => new DataView(r.key.buffer, r.key.byteOffset).getUint32(0, true) === rowId)!;
  const index = new DataView(rowIndex.data.buffer, rowIndex.data.byteOffset).getUint32(0, true);
  const rows = ltp.heap.get(info.hnidRows);
  const col = info.columns.find((c) => c.tag === tag)!;
  const at = rows.byteOffset + index * info.rgib[3] + col.ibData;
  editBlock(bytes, blockOf(m, node.bidData), m.ndb.cryptMethod, (d) => edit(new DataView(d.buffer, d.byteOffset), at));
}

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'outport-check-')); });
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });
async function checkBytes(bytes: Uint8Array, name = 'mutated.pst'): Promise<CheckReport> {
  // Half the runs through a file (the public path API), half in memory.
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  return checkPst(file);
}

describe('checker on the writer output', () => {
  let base: Uint8Array;
  let m: PstMap;
  beforeAll(async () => { base = await buildWriterFixture(); m = await mapPst(base); });

  it('finds nothing in a store with folders, recipients, XBLOCK attachments, embedded messages 3 deep and FAI items', async () => {
    const r = await checkBytes(base, 'writer.pst');
    clean(r);
    expect(r.stats.messages).toBe(6);
    expect(r.stats.attachments).toBeGreaterThanOrEqual(6);
    expect(m.blocks.some((b) => (b.bref.bid & 2n) !== 0n && b.cb >= 8)).toBe(true); // internal blocks exist
    expect(formatFindings(r)).toMatch(/clean/);
  });

  it('BlockCrc: a flipped byte inside a data block', async () => {
    const b = base.slice();
    const e = m.blocks.find((x) => (x.bref.bid & 2n) === 0n && x.cb > 100)!;
    b[Number(e.bref.ib) + 50] ^= 0x40;
    expect(codes(await checkBytes(b))).toContain('BlockCrc');
  });

  it('BlockSignature and BlockTrailer: a wrong wSig and a wrong trailer bid', async () => {
    const b = base.slice();
    const e = m.blocks[3];
    const t = Number(e.bref.ib) + blockSizeOnDisk(e.cb, UNICODE_FORMAT) - 16;
    b[t + 2] ^= 1;
    b[t + 8] ^= 0x10;
    const c = codes(await checkBytes(b));
    expect(c).toContain('BlockSignature');
    expect(c).toContain('BlockTrailer');
  });

  it('HeaderCrcPartial / HeaderCrcFull: header bytes changed without new CRCs', async () => {
    const b = base.slice();
    b[40] ^= 1; // dwUnique: inside both ranges
    const c = codes(await checkBytes(b));
    expect(c).toContain('HeaderCrcPartial');
    expect(c).toContain('HeaderCrcFull');
    const b2 = base.slice();
    b2[514] ^= 1; // rgbReserved: only in the full range
    const c2 = codes(await checkBytes(b2));
    expect(c2).toContain('HeaderCrcFull');
    expect(c2).not.toContain('HeaderCrcPartial');
  });

  it('AMapMismatch: a live block marked free, and a free slot marked allocated', async () => {
    const e = m.blocks[m.blocks.length - 1];
    const ib = Number(e.bref.ib);
    const s = 0x4400 + Math.floor((ib - 0x4400) / 253952) * 253952;
    const slot = (ib - s) / 64;
    const b = base.slice();
    b[s + (slot >> 3)] &= ~(0x80 >> (slot & 7));
    sealPage(b, s);
    const r = await checkBytes(b);
    expect(codes(r)).toContain('AMapMismatch');
    expect(r.findings.find((f) => f.code === 'AMapMismatch')!.message).toMatch(/marked free/);

    const b2 = base.slice();
    let free = -1;
    for (let i = 3960; i >= 0 && free < 0; i--) if ((b2[0x4400 + (i >> 3)] & (0x80 >> (i & 7))) === 0) free = i;
    b2[0x4400 + (free >> 3)] |= 0x80 >> (free & 7);
    sealPage(b2, 0x4400);
    const r2 = await checkBytes(b2);
    expect(r2.findings.find((f) => f.code === 'AMapMismatch')?.message).toMatch(/marked allocated/);
  });

  it('BTreeKeyOrder: two NBT leaf entries swapped (page CRC re-sealed)', async () => {
    const b = base.slice();
    const leaf = m.pages.find((p) => p.ptype === PageType.NBT && p.cLevel === 0 && p.cEnt >= 2)!;
    const e0 = b.slice(leaf.ib, leaf.ib + 32);
    b.copyWithin(leaf.ib, leaf.ib + 32, leaf.ib + 64);
    b.set(e0, leaf.ib + 32);
    sealPage(b, leaf.ib);
    expect(codes(await checkBytes(b))).toContain('BTreeKeyOrder');
  });

  it('BTreeKeyMin: an intermediate BTENTRY key that is not its child\'s first key', async () => {
    const inner = m.pages.find((p) => p.cLevel > 0 && p.cEnt >= 2);
    if (!inner) return; // single-level trees: nothing to break
    const b = base.slice();
    const v = new DataView(b.buffer);
    v.setUint32(inner.ib + 24, v.getUint32(inner.ib + 24, true) + 1, true); // second entry's btkey
    sealPage(b, inner.ib);
    expect(codes(await checkBytes(b))).toContain('BTreeKeyMin');
  });

  it('PageTrailer: an NBT page with a wrong ptype', async () => {
    const b = base.slice();
    const p = m.pages.find((x) => x.ptype === PageType.NBT)!;
    b[p.ib + 496] = PageType.BBT;
    expect(codes(await checkBytes(b))).toContain('PageTrailer');
  });

  it('PageCrc: a page byte changed without a new CRC', async () => {
    const b = base.slice();
    const p = m.pages.find((x) => x.ptype === PageType.BBT)!;
    b[p.ib + 400] ^= 0xff;
    expect(codes(await checkBytes(b))).toContain('PageCrc');
  });

  it('BbtRefCount: a cRef changed (page CRC re-sealed)', async () => {
    const b = base.slice();
    const leaf = m.pages.find((p) => p.ptype === PageType.BBT && p.cLevel === 0)!;
    b[leaf.ib + 16 + 2] += 1; // first BBTENTRY: BREF (16) cb (2) cRef (2)
    sealPage(b, leaf.ib);
    expect(codes(await checkBytes(b))).toContain('BbtRefCount');
  });

  it('ContentCount, UnreadCount, Subfolders: folder PC counters changed', async () => {
    const inbox = m.nodes.find((n) => n.nidParent !== n.nid && (n.nid & 0x1f) === NidType.NORMAL_FOLDER && m.nodes.some((c) => c.nidParent === n.nid && (c.nid & 0x1f) === NidType.NORMAL_FOLDER))!;
    for (const [prop, code, f] of [[0x3602, 'ContentCount', (x: number) => x + 1], [0x3603, 'UnreadCount', (x: number) => x + 5], [0x360a, 'Subfolders', () => 0]] as const) {
      const b = base.slice();
      await editPcInline(b, inbox.nid, prop, f);
      expect(codes(await checkBytes(b))).toContain(code);
    }
  });

  it('MessageSize: a message PC whose PidTagMessageSize exceeds what is stored', async () => {
    const msg = m.nodes.find((n) => (n.nid & 0x1f) === NidType.NORMAL_MESSAGE)!;
    const b = base.slice();
    await editPcInline(b, msg.nid, 0x0e08, (x) => x + 1000);
    const c = codes(await checkBytes(b));
    expect(c).toContain('MessageSize');
    expect(c).toContain('TableRowMismatch'); // the contents row still holds the old size
  });

  it('TableRowMismatch: a contents-table PidTagMessageSize cell and a subject cell changed', async () => {
    const msg = m.nodes.find((n) => (n.nid & 0x1f) === NidType.NORMAL_MESSAGE)!;
    const table = makeNid(NidType.CONTENTS_TABLE, nidIndex(msg.nidParent));
    const b = base.slice();
    await editTableCell(b, table, msg.nid, 0x0e080003, (d, at) => d.setUint32(at, d.getUint32(at, true) - 1, true));
    expect(codes(await checkBytes(b))).toContain('TableRowMismatch');
    // The subject cell's HID now names another allocation of the table heap (the row matrix's neighbour).
    const b2 = base.slice();
    await editTableCell(b2, table, msg.nid, 0x0037001f, (d, at) => d.setUint32(at, d.getUint32(at, true) + 0x20, true));
    const c2 = codes(await checkBytes(b2));
    expect([...c2].some((c) => c === 'TableRowMismatch' || c === 'TableCorrupt')).toBe(true);
  });

  it('AttachSize: an attachment PC whose size is larger than stored', async () => {
    // Attachments are subnodes; edit the first attachment PC found through the reader.
    const msgWithAtt = m.nodes.filter((n) => (n.nid & 0x1f) === NidType.NORMAL_MESSAGE && n.bidSub !== 0n);
    let done = false;
    for (const msg of msgWithAtt) {
      const subs = await m.ndb.readSubnodes(msg.bidSub);
      const att = [...subs.values()].find((s) => (s.nid & 0x1f) === NidType.ATTACHMENT);
      if (!att) continue;
      const ltp = await LtpNode.open(m.ndb, att);
      const { records } = readBthRecords(ltp.heap, ltp.heap.hnhdr.hidUserRoot);
      const rec = records.find((r) => (r.key[0] | (r.key[1] << 8)) === 0x0e20)!;
      const b = base.slice();
      editBlock(b, blockOf(m, att.bidData), m.ndb.cryptMethod, (d) => {
        const v = new DataView(d.buffer, d.byteOffset);
        v.setUint32(rec.data.byteOffset + 2, v.getUint32(rec.data.byteOffset + 2, true) + 100000, true);
      });
      expect(codes(await checkBytes(b))).toContain('AttachSize');
      done = true;
      break;
    }
    expect(done).toBe(true);
  });

  it('a truncated file gives findings, not an exception', async () => {
    const r = await checkPstSource(base.slice(0, 100_000));
    expect(r.findings.length).toBeGreaterThan(0);
    expect(codes(r)).toContain('FileEof');
  });

  it('maxFindings stops the check and marks the report truncated', async () => {
    const b = base.slice();
    for (const e of m.blocks) b[Number(e.bref.ib)] ^= 1;
    const r = await checkPstSource(b, 'x', { maxFindings: 5 });
    expect(r.findings).toHaveLength(5);
    expect(r.truncated).toBe(true);
  });

  it('an aborted signal rejects', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(checkPstSource(base, 'x', { signal: ac.signal })).rejects.toThrow('stop');
  });

  it('garbage and a missing file become findings', async () => {
    expect(codes(await checkPstSource(new Uint8Array(4096)))).toContain('HeaderMagic');
    expect(codes(await checkPstSource(new Uint8Array(10)))).toContain('FileUnreadable');
    expect(codes(await checkPst(path.join(tmp, 'nope.pst')))).toContain('FileUnreadable');
  });
});

const SAMPLES = ['Empty.pst', 'support.pst', 'dist-list.pst', 'passworded.pst', 'aspose_Outlook.pst', 'aspose_Outlook_1.pst', 'aspose_SampleContacts.pst', '32-bit.pst'];

describeWithShared('checker on the Outlook-made samples', () => {
  it.each(SAMPLES)('finds nothing in %s', async (name) => {
    const r = await checkPst(path.join(SAMPLES_DIR, name));
    clean(r);
    expect(r.format).toBe(name === '32-bit.pst' ? 'ansi' : 'unicode');
    expect(r.stats.blocks).toBeGreaterThan(0);
  });

  describe('mutations of Empty.pst', () => {
    let base: Uint8Array;
    let m: PstMap;
    beforeAll(async () => { base = new Uint8Array(readFileSync(path.join(SAMPLES_DIR, 'Empty.pst'))); m = await mapPst(base); });

    it('BlockCrc', async () => {
      const b = base.slice();
      b[Number(m.blocks[5].bref.ib) + 3] ^= 0x01;
      expect(codes(await checkBytes(b, 'e1.pst'))).toContain('BlockCrc');
    });
    it('AMapMismatch', async () => {
      const b = base.slice();
      const ib = Number(m.blocks[0].bref.ib), slot = (ib - 0x4400) / 64;
      b[0x4400 + (slot >> 3)] &= ~(0x80 >> (slot & 7));
      sealPage(b, 0x4400);
      expect(codes(await checkBytes(b, 'e2.pst'))).toContain('AMapMismatch');
    });
    it('BTreeKeyOrder', async () => {
      const b = base.slice();
      const leaf = m.pages.find((p) => p.ptype === PageType.NBT && p.cLevel === 0 && p.cEnt >= 2)!;
      const e0 = b.slice(leaf.ib, leaf.ib + 32);
      b.copyWithin(leaf.ib, leaf.ib + 32, leaf.ib + 64);
      b.set(e0, leaf.ib + 32);
      sealPage(b, leaf.ib);
      expect(codes(await checkBytes(b, 'e3.pst'))).toContain('BTreeKeyOrder');
    });
    it('BbtRefCount', async () => {
      const b = base.slice();
      const leaf = m.pages.find((p) => p.ptype === PageType.BBT && p.cLevel === 0)!;
      b[leaf.ib + 24 + 18] += 2;
      sealPage(b, leaf.ib);
      expect(codes(await checkBytes(b, 'e4.pst'))).toContain('BbtRefCount');
    });
    it('ContentCount (Deleted Items 0x8062)', async () => {
      const b = base.slice();
      await editPcInline(b, 0x8062, 0x3602, (x) => x + 3);
      expect(codes(await checkBytes(b, 'e5.pst'))).toContain('ContentCount');
    });
    it('HeaderCrcPartial, and a re-sealed header with a wrong ibAMapLast', async () => {
      const b = base.slice();
      b[193] ^= 0x02; // ROOT ibAMapLast (ROOT at 180, field at +12)
      expect(codes(await checkBytes(b, 'e6.pst'))).toContain('HeaderCrcPartial');
      sealHeader(b);
      expect(codes(await checkBytes(b, 'e7.pst'))).toContain('AMapLast');
    });
  });
});

describeWithShared('checker fuzz (small CI run of scripts/fuzz-check.ts)', () => {
  it('150 mutated samples: every input ends in a report, no exception, no timeout', async () => {
    const { readdirSync } = await import('node:fs');
    const { runCheckFuzz } = await import('../../scripts/fuzz-check');
    const bases = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.pst') && !f.startsWith('aspose_Outlook')).map((f) => new Uint8Array(readFileSync(path.join(SAMPLES_DIR, f))));
    const r = await runCheckFuzz(bases, 150, 42, 10_000);
    expect(r.failures).toEqual([]);
  });
});
