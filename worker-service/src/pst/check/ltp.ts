/**
 * LTP checks (MS-PST 2.3) for every node that holds a heap: heap-on-node headers and page maps
 * (2.3.1: HNHDR bSig 0xEC, ibHnpm inside the block, rgibAlloc increasing, after the block's header
 * and before the page map, hidUserRoot resolvable), BTree-on-heap (2.3.2: header, levels, keys
 * strictly increasing, each index record's key equal to its child's first key), property contexts
 * (2.3.3: cbKey 2 / cbEnt 6, every HNID resolvable) and table contexts (2.3.4: TCINFO, column
 * descriptors, row index keys and positions, row matrix size, row ids, cell existence bitmaps).
 * The messaging checks reuse `checkLtpNode` for subnodes (attachments, recipient tables).
 */
import { PstReadError } from '../ndb/read-error';
import type { NodeRef } from '../ndb/read-ndb';
import { NID, NidType, nidType } from '../ndb/nid';
import { ClientSig, HNBITMAPHDR_SIZE, HNHDR_SIZE, HNPAGEHDR_SIZE, PROP_TAG_LTP_ROW_ID, PROP_TAG_LTP_ROW_VER, TCI_1b, TCI_2b, TCI_4b, TCI_bm, isHnBitmapBlock } from '../ltp/constants';
import { readBthHeader } from '../ltp/read-bth';
import { isHid, type HeapOnNode } from '../ltp/read-heap';
import { LtpNode } from '../ltp/read-node';
import { isInlineInPc, isInlineInTc } from '../ltp/read-value';
import { openTable, readTcInfo } from '../ltp/read-tc';
import type { CheckContext } from './context';
import { hex, type FindingLocation } from './types';

/** What a node's heap must be. */
export type HeapExpectation = 'pc' | 'tc' | 'any';

/** nidTypes whose nodes must hold a PC (MS-PST 2.4). */
const PC_TYPES = new Set<number>([NidType.NORMAL_FOLDER, NidType.SEARCH_FOLDER, NidType.NORMAL_MESSAGE, NidType.ASSOC_MESSAGE, NidType.ATTACHMENT, NidType.SEARCH_CRITERIA_OBJECT]);
/** nidTypes whose nodes must hold a TC; 0x16-0x18 are Outlook's undocumented table templates (Empty.pst 0x6B6, 0x6D7, 0x6F8). */
const TC_TYPES = new Set<number>([NidType.RECEIVE_FOLDER_TABLE, NidType.OUTGOING_QUEUE_TABLE, NidType.HIERARCHY_TABLE, NidType.CONTENTS_TABLE, NidType.ASSOC_CONTENTS_TABLE, NidType.SEARCH_CONTENTS_TABLE, NidType.ATTACHMENT_TABLE, NidType.RECIPIENT_TABLE, 0x16, 0x17, 0x18]);

/** The heap expectation for a node (NBT node or subnode) from its NID. */
export function heapExpectation(nid: number): HeapExpectation | undefined {
  const t = nidType(nid);
  if (nid === NID.MESSAGE_STORE || nid === NID.NAME_TO_ID_MAP || PC_TYPES.has(t)) return 'pc';
  if (TC_TYPES.has(t)) return 'tc';
  if (t === NidType.INTERNAL) return 'any';
  return undefined;
}

/** Checks every NBT node's LTP structures; records the indexes of nodes that failed in ctx. */
export async function checkLtp(ctx: CheckContext): Promise<void> {
  const { nodes } = ctx;
  for (let i = 0; i < nodes.length; i++) {
    ctx.sink.tick();
    const nid = nodes.nid[i];
    const expect = heapExpectation(nid);
    if (!expect || nodes.bidData[i] === 0) continue;
    const node: NodeRef = { nid, bidData: BigInt(nodes.bidData[i]), bidSub: BigInt(nodes.bidSub[i]) };
    const ltp = await checkLtpNode(ctx, node, expect, `node ${hex(nid)}`, { nid });
    if (!ltp) ctx.ltpBad.add(nid);
  }
}

function describe(err: unknown): string {
  return err instanceof PstReadError ? err.message : (err as Error).message ?? String(err);
}

/**
 * Opens one node as an LTP node and checks its heap and, by bClientSig, its PC or TC.
 * `expect 'any'` accepts internal nodes that are not heaps (raw data).
 * @returns the LtpNode when its structures are sound, else undefined (findings were made) */
export async function checkLtpNode(ctx: CheckContext, node: NodeRef, expect: HeapExpectation, label: string, where: FindingLocation): Promise<LtpNode | undefined> {
  const { sink } = ctx;
  let ltp: LtpNode;
  try {
    if (expect === 'any') {
      const blocks = await ctx.ndb.readDataBlocks(node.bidData);
      if (!blocks.length || blocks[0].length < HNHDR_SIZE || blocks[0][2] !== 0xec) return undefined; // raw internal data, not a heap
    }
    ltp = await LtpNode.open(ctx.ndb, node);
  } catch (err) {
    sink.add('HeapCorrupt', `${label}: its heap-on-node cannot be read: ${describe(err)} (MS-PST 2.3.1)`, where);
    return undefined;
  }
  const heap = ltp.heap;
  if (!checkHeap(ctx, heap, label, where)) return undefined;
  const sig = heap.bClientSig;
  if (expect === 'pc' && sig !== ClientSig.PC) {
    sink.add('PcCorrupt', `${label}: heap bClientSig ${hex(sig)}, expected 0xBC (property context) (MS-PST 2.3.1.2, 2.3.3)`, where);
    return undefined;
  }
  if (expect === 'tc' && sig !== ClientSig.TC && sig !== ClientSig.Reserved5) {
    sink.add('TableCorrupt', `${label}: heap bClientSig ${hex(sig)}, expected 0x7C (table context) (MS-PST 2.3.1.2, 2.3.4)`, where);
    return undefined;
  }
  if (sig === ClientSig.PC) return (await checkPc(ctx, ltp, label, where)) ? ltp : undefined;
  if (sig === ClientSig.TC) return (await checkTc(ctx, ltp, label, where)) ? ltp : undefined;
  if (sig === ClientSig.Reserved5) {
    try { await readTcInfo(ltp); } catch (err) { sink.add('TableCorrupt', `${label}: 0xAC table header cannot be read: ${describe(err)} (MS-PST 2.3.4)`, where); return undefined; }
  }
  return ltp;
}

/** HNHDR/HNPAGEHDR/HNBITMAPHDR sizes and page maps beyond what HeapOnNode already verified. */
function checkHeap(ctx: CheckContext, heap: HeapOnNode, label: string, where: FindingLocation): boolean {
  for (const pm of heap.pageMaps) {
    const hdr = pm.blockIndex === 0 ? HNHDR_SIZE : isHnBitmapBlock(pm.blockIndex) ? HNBITMAPHDR_SIZE : HNPAGEHDR_SIZE;
    if (pm.cAlloc > 0 && pm.rgibAlloc[0] < hdr) {
      ctx.sink.add('HeapCorrupt', `${label}: heap block ${pm.blockIndex} first allocation at ${pm.rgibAlloc[0]}, inside its ${hdr}-byte header (MS-PST 2.3.1.5)`, where);
      return false;
    }
  }
  const root = heap.hnhdr.hidUserRoot;
  if (root !== 0) {
    try { heap.get(root); } catch (err) {
      ctx.sink.add('HeapCorrupt', `${label}: HNHDR hidUserRoot ${hex(root)} does not resolve: ${describe(err)} (MS-PST 2.3.1.2)`, where);
      return false;
    }
  }
  return true;
}

/** Compares two little-endian unsigned keys of equal length. */
function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/**
 * Walks a BTH (MS-PST 2.3.2) with its invariants. Returns its leaf records in order, or undefined
 * after a finding. `code` is the finding code for a damaged tree of this client (BthCorrupt).
 */
export function checkBth(ctx: CheckContext, heap: HeapOnNode, hid: number, label: string, where: FindingLocation): { cbKey: number; cbEnt: number; records: { key: Uint8Array; data: Uint8Array }[] } | undefined {
  const fail = (msg: string) => { ctx.sink.add('BthCorrupt', `${label}: BTH at HID ${hex(hid)}: ${msg} (MS-PST 2.3.2)`, where); return undefined; };
  let h;
  try { h = readBthHeader(heap, hid); } catch (err) { return fail(describe(err)); }
  const records: { key: Uint8Array; data: Uint8Array }[] = [];
  if (h.hidRoot === 0) return { cbKey: h.cbKey, cbEnt: h.cbEnt, records };
  const visited = new Set<number>();
  let last: Uint8Array | undefined;
  const walk = (hnext: number, level: number, firstKey?: Uint8Array): boolean => {
    if (visited.has(hnext)) { fail(`HID ${hex(hnext)} reached twice`); return false; }
    visited.add(hnext);
    let b: Uint8Array;
    try { b = heap.get(hnext); } catch (err) { fail(`record block ${hex(hnext)}: ${describe(err)}`); return false; }
    const size = level > 0 ? h.cbKey + 4 : h.cbKey + h.cbEnt;
    if (b.length === 0 || b.length % size !== 0) { fail(`record block ${hex(hnext)} of ${b.length} bytes is not a non-empty multiple of the ${size}-byte record (level ${level})`); return false; }
    for (let o = 0; o < b.length; o += size) {
      const key = b.subarray(o, o + h.cbKey);
      if (o === 0 && firstKey && compareKeys(key, firstKey) !== 0) { fail(`index key ${Buffer.from(firstKey).toString('hex')} differs from its child's first key ${Buffer.from(key).toString('hex')}`); return false; }
      if (level > 0) {
        const child = (b[o + h.cbKey] | (b[o + h.cbKey + 1] << 8) | (b[o + h.cbKey + 2] << 16) | (b[o + h.cbKey + 3] << 24)) >>> 0;
        if (!walk(child, level - 1, key)) return false;
      } else {
        if (last && compareKeys(key, last) <= 0) { fail(`leaf key ${Buffer.from(key).toString('hex')} is not greater than the previous ${Buffer.from(last).toString('hex')}`); return false; }
        last = key;
        records.push({ key, data: b.subarray(o + h.cbKey, o + size) });
      }
    }
    return true;
  };
  if (!walk(h.hidRoot, h.bIdxLevels)) return undefined;
  return { cbKey: h.cbKey, cbEnt: h.cbEnt, records };
}

/** Does an HNID resolve (heap allocation or subnode)? */
async function hnidResolves(ltp: LtpNode, hnid: number): Promise<string | undefined> {
  if (hnid === 0) return undefined;
  try {
    if (isHid(hnid)) ltp.heap.get(hnid);
    else if (!(await ltp.subnodes()).has(hnid)) return `subnode ${hex(hnid)} is not in the node's subnode tree`;
    return undefined;
  } catch (err) {
    return describe(err);
  }
}

async function checkPc(ctx: CheckContext, ltp: LtpNode, label: string, where: FindingLocation): Promise<boolean> {
  const bth = checkBth(ctx, ltp.heap, ltp.heap.hnhdr.hidUserRoot, `${label} PC`, where);
  if (!bth) return false;
  if (bth.cbKey !== 2 || bth.cbEnt !== 6) {
    ctx.sink.add('PcCorrupt', `${label}: PC BTH has cbKey ${bth.cbKey} / cbEnt ${bth.cbEnt}, expected 2 / 6 (MS-PST 2.3.3.3)`, where);
    return false;
  }
  for (const r of bth.records) {
    const id = r.key[0] | (r.key[1] << 8);
    const type = r.data[0] | (r.data[1] << 8);
    const hnid = (r.data[2] | (r.data[3] << 8) | (r.data[4] << 16) | (r.data[5] << 24)) >>> 0;
    if (isInlineInPc(type)) continue;
    const bad = await hnidResolves(ltp, hnid);
    if (bad) {
      ctx.sink.add('PcCorrupt', `${label}: property 0x${id.toString(16).padStart(4, '0')}${type.toString(16).padStart(4, '0')} value HNID ${hex(hnid)} does not resolve: ${bad} (MS-PST 2.3.3.3)`, where);
      return false;
    }
  }
  return true;
}

async function checkTc(ctx: CheckContext, ltp: LtpNode, label: string, where: FindingLocation): Promise<boolean> {
  const fail = (msg: string) => { ctx.sink.add('TableCorrupt', `${label}: ${msg} (MS-PST 2.3.4)`, where); return false; };
  let info;
  try { info = await readTcInfo(ltp); } catch (err) { return fail(`TCINFO: ${describe(err)}`); }
  const [e4, e2, e1, ebm] = [info.rgib[TCI_4b], info.rgib[TCI_2b], info.rgib[TCI_1b], info.rgib[TCI_bm]];
  if (ebm - e1 !== Math.ceil(info.cCols / 8)) return fail(`TCINFO rgib: the cell existence bitmap has ${ebm - e1} bytes, ceil(cCols ${info.cCols} / 8) = ${Math.ceil(info.cCols / 8)} expected`);
  const bits = new Set<number>();
  const cellsUsed = new Uint8Array(e1);
  let prevTag = -1;
  for (const c of info.columns) {
    if (c.tag <= prevTag) return fail(`TCOLDESC tags not sorted: ${hex(c.tag)} after ${hex(prevTag)}`);
    prevTag = c.tag;
    if (bits.has(c.iBit)) return fail(`two columns share CEB bit ${c.iBit}`);
    bits.add(c.iBit);
    const type = c.tag & 0xffff;
    const want = isInlineInTc(type) ? (type === 0x0014 || type === 0x0040 || type === 0x0005 || type === 0x0006 || type === 0x0007 ? 8 : type === 0x0002 ? 2 : type === 0x000b ? 1 : 4) : 4;
    if (c.cbData !== want) return fail(`column ${hex(c.tag)} has cbData ${c.cbData}, expected ${want}`);
    const lo = want >= 4 ? 0 : want === 2 ? e4 : e2;
    const hi = want >= 4 ? e4 : want === 2 ? e2 : e1;
    if (c.ibData < lo || c.ibData + c.cbData > hi) return fail(`column ${hex(c.tag)} cell [${c.ibData}, ${c.ibData + c.cbData}) lies outside its ${want}-byte group [${lo}, ${hi})`);
    for (let b = c.ibData; b < c.ibData + c.cbData; b++) {
      if (cellsUsed[b]) return fail(`column ${hex(c.tag)} cell overlaps another column at byte ${b}`);
      cellsUsed[b] = 1;
    }
  }
  const rid = info.columns.find((c) => c.tag === PROP_TAG_LTP_ROW_ID), rver = info.columns.find((c) => c.tag === PROP_TAG_LTP_ROW_VER);
  if (!rid || rid.ibData !== 0 || rid.iBit !== 0 || !rver || rver.ibData !== 4 || rver.iBit !== 1) return fail('PidTagLtpRowId must be at ib 0 / iBit 0 and PidTagLtpRowVer at ib 4 / iBit 1 (2.3.4.4.1)');
  if (info.hidRowIndex === 0) return fail('TCINFO hidRowIndex is 0');
  const bth = checkBth(ctx, ltp.heap, info.hidRowIndex, `${label} row index`, where);
  if (!bth) return false;
  if (bth.cbKey !== 4 || (bth.cbEnt !== 4 && bth.cbEnt !== 2)) return fail(`row index BTH has cbKey ${bth.cbKey} / cbEnt ${bth.cbEnt}, expected 4 / 4 (2.3.4.3)`);
  const n = bth.records.length;
  const rowAt = new Map<number, number>();
  for (const r of bth.records) {
    const idx = bth.cbEnt === 4 ? (r.data[0] | (r.data[1] << 8) | (r.data[2] << 16) | (r.data[3] << 24)) >>> 0 : r.data[0] | (r.data[1] << 8);
    const id = (r.key[0] | (r.key[1] << 8) | (r.key[2] << 16) | (r.key[3] << 24)) >>> 0;
    if (idx >= n || rowAt.has(idx)) return fail(`row index maps row id ${hex(id)} to position ${idx}, ${idx >= n ? `past the ${n} rows` : 'already taken'} (2.3.4.3)`);
    rowAt.set(idx, id);
  }
  if (n === 0) {
    if (info.hnidRows !== 0) {
      // Outlook leaves an empty row matrix allocated in some tables; only its reference must resolve.
      const bad = await hnidResolves(ltp, info.hnidRows);
      if (bad) return fail(`TCINFO hnidRows ${hex(info.hnidRows)} does not resolve: ${bad}`);
    }
    return true;
  }
  if (info.hnidRows === 0) return fail(`${n} rows in the row index but hnidRows is 0`);
  const bad = await hnidResolves(ltp, info.hnidRows);
  if (bad) return fail(`TCINFO hnidRows ${hex(info.hnidRows)} does not resolve: ${bad}`);
  let tc;
  try { tc = await openTable(ltp); } catch (err) { return fail(describe(err)); }
  // Row matrix size: in the heap exactly n rows; in a subnode, whole rows per block (2.3.4.4).
  if (isHid(info.hnidRows)) {
    const len = ltp.heap.get(info.hnidRows).length;
    if (len !== n * ebm) return fail(`row matrix holds ${len} bytes, ${n} rows × ${ebm} bytes = ${n * ebm} expected (2.3.4.4)`);
  }
  let i = 0;
  try {
    for await (const id of tc.rowIds()) {
      if (rowAt.get(i) !== id) return fail(`row ${i} has row id ${hex(id)}, the row index says ${hex(rowAt.get(i))} (2.3.4.3-4)`);
      i++;
    }
    i = 0;
    for await (const row of tc.rows()) { void row; i++; }
  } catch (err) {
    return fail(`row ${i}: ${describe(err)}`);
  }
  return true;
}
