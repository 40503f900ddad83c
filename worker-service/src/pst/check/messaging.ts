/**
 * Messaging checks (MS-PST 2.4), what ScanPST compares: for every normal folder, its hierarchy,
 * contents and FAI contents table rows against the child folders' and messages' own PCs (for every
 * column but the row id/version: cell present ⇔ property present with that type, and equal
 * values), row ids = the children's NIDs and every child listed; PidTagContentCount = contents
 * rows, PidTagContentUnreadCount = rows without mfRead (0x1) in PidTagMessageFlags,
 * PidTagSubfolders = has child folders; each message's attachment table rows against its
 * attachment PCs, every attachment with PidTagAttachSize and PidTagRenderingPosition, embedded
 * messages (PidTagAttachMethod 5) checked the same way, and the stored sizes:
 *
 * - PidTagMessageSize: Outlook 2007 SP2 and later (and Outport) store the node's data bytes — its
 *   data tree (lcbTotal, without XBLOCKs) plus every subnode's data tree, recursively; older
 *   writers stored a smaller property-based measure (in the samples: between 0.3× and 1× of the
 *   data bytes; aspose_*, dist-list, passworded, support). Any value in (0, data bytes] is
 *   accepted; more than what is stored, or ≤ 0, is "MessageSize".
 * - PidTagAttachSize: the attachment node's data bytes (as above), or the sum of the attachment
 *   PC's value sizes (Outlook's files), or a figure between the attachment data and the data bytes
 *   (support.pst: data + 64). See docs/pst-format-notes.md "Object sizes".
 */
import type { PropValue } from '../../mapi/types';
import { fixedSize, isMultiValued } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import type { NodeRef } from '../ndb/read-ndb';
import { NidType, makeNid, nidIndex, nidType } from '../ndb/nid';
import { LtpNode } from '../ltp/read-node';
import { readPcRecords, decodePcRecord, pcCodepage } from '../ltp/read-pc';
import { openTable } from '../ltp/read-tc';
import { isInlineInPc } from '../ltp/read-value';
import type { CheckContext } from './context';
import { checkLtpNode } from './ltp';
import { BlockKind } from './tables';
import { hex, type FindingLocation } from './types';

const TAG_ROW_ID = 0x67f2, TAG_ROW_VER = 0x67f3;
const PID_MESSAGE_FLAGS = 0x0e07, PID_MESSAGE_SIZE = 0x0e08, PID_ATTACH_SIZE = 0x0e20;
const PID_CONTENT_COUNT = 0x3602, PID_CONTENT_UNREAD = 0x3603, PID_SUBFOLDERS = 0x360a;
const PID_ATTACH_METHOD = 0x3705, PID_RENDERING_POSITION = 0x370b, PID_ATTACH_DATA = 0x3701;
const NID_ATTACHMENT_TABLE = 0x671, NID_RECIPIENT_TABLE = 0x692;
const MF_READ = 0x1;
/** Deepest embedded-message chain followed (reader's limit too). */
const MAX_EMBEDDED_DEPTH = 32;

/** A PC read for comparison: decoded values by id, raw value sizes. */
interface PcView {
  readonly props: Map<number, { type: number; value: PropValue }>;
  /** Sum of the value sizes (inline types at their fixed size, others as stored, PtypObject by ulSize). */
  readonly valueBytes: number;
  /** Bytes of PidTagAttachDataBinary / the object's ulSize, when present. */
  readonly dataBytes: number;
}

function describe(err: unknown): string {
  return err instanceof PstReadError ? err.message : (err as Error).message ?? String(err);
}

function valuesEqual(a: PropValue, b: PropValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x as PropValue, b[i] as PropValue));
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  return a === b;
}

function show(v: PropValue | undefined): string {
  if (v === undefined) return 'absent';
  if (v instanceof Uint8Array) return `[${v.length} bytes] ${Buffer.from(v.subarray(0, 16)).toString('hex')}${v.length > 16 ? '…' : ''}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v);
  if (Array.isArray(v)) return `[${v.length} values]`;
  return String(v);
}

async function readPcView(ltp: LtpNode): Promise<PcView> {
  const { records } = readPcRecords(ltp);
  const cp = pcCodepage(records);
  const props = new Map<number, { type: number; value: PropValue }>();
  let valueBytes = 0, dataBytes = 0;
  for (const r of records) {
    const p = await decodePcRecord(ltp, r, cp);
    props.set(r.wPropId, { type: r.wPropType, value: p.value });
    let size: number;
    if (isInlineInPc(r.wPropType)) size = fixedSize(r.wPropType);
    else if (p.object) size = p.object.ulSize;
    else size = (await ltp.readHnid(r.dwValueHnid)).length;
    valueBytes += size;
    if (r.wPropId === PID_ATTACH_DATA && !isMultiValued(r.wPropType)) dataBytes = size;
  }
  return { props, valueBytes, dataBytes };
}

/** Runs the messaging checks over every normal folder. */
export async function checkMessaging(ctx: CheckContext): Promise<void> {
  const { nodes, sink } = ctx;
  // Children per folder from the NBT: [folders, messages, FAI messages].
  const children = new Map<number, number[]>();
  for (let i = 0; i < nodes.length; i++) {
    const nid = nodes.nid[i], t = nidType(nid), p = nodes.parent[i];
    const slot = t === NidType.NORMAL_FOLDER || t === NidType.SEARCH_FOLDER ? 0 : t === NidType.NORMAL_MESSAGE ? 1 : t === NidType.ASSOC_MESSAGE ? 2 : -1;
    if (slot < 0 || p === nid) continue;
    let c = children.get(p);
    if (!c) children.set(p, (c = [0, 0, 0]));
    c[slot]++;
  }
  for (let i = 0; i < nodes.length; i++) {
    const nid = nodes.nid[i];
    if (nidType(nid) !== NidType.NORMAL_FOLDER || ctx.ltpBad.has(nid)) continue;
    sink.tick();
    await checkFolder(ctx, i, children.get(nid) ?? [0, 0, 0]);
  }
  // Children no table lists.
  for (let i = 0; i < nodes.length; i++) {
    const nid = nodes.nid[i], t = nidType(nid), p = nodes.parent[i];
    if (nodes.listed[i] || p === nid) continue;
    if (t !== NidType.NORMAL_FOLDER && t !== NidType.SEARCH_FOLDER && t !== NidType.NORMAL_MESSAGE && t !== NidType.ASSOC_MESSAGE) continue;
    const pi = nodes.find(p);
    if (pi < 0 || nidType(p) !== NidType.NORMAL_FOLDER || ctx.ltpBad.has(p)) continue;
    const table = t === NidType.NORMAL_MESSAGE ? 'contents' : t === NidType.ASSOC_MESSAGE ? 'FAI contents' : 'hierarchy';
    const tnid = makeNid(t === NidType.NORMAL_MESSAGE ? NidType.CONTENTS_TABLE : t === NidType.ASSOC_MESSAGE ? NidType.ASSOC_CONTENTS_TABLE : NidType.HIERARCHY_TABLE, nidIndex(p));
    if (ctx.ltpBad.has(tnid)) continue;
    sink.add('TableRowMissing', `${table} table ${hex(tnid)} of folder ${hex(p)} has no row for its child ${hex(nid)} (MS-PST 2.4.4)`, { nid });
  }
}

async function openNode(ctx: CheckContext, nid: number): Promise<NodeRef | undefined> {
  const i = ctx.nodes.find(nid);
  if (i < 0 || ctx.nodes.bidData[i] === 0) return undefined;
  return { nid, bidData: BigInt(ctx.nodes.bidData[i]), bidSub: BigInt(ctx.nodes.bidSub[i]) };
}

/**
 * Columns Outlook fills in table rows without the property being in the object's PC (seen in
 * passworded.pst, dist-list.pst, aspose_Outlook*.pst): PidTagMessageStatus (0x0E17, a per-folder
 * row property in MAPI) and the replication columns PidTagReplItemid … PidTagReplCopiedfromItemid
 * (0x0E30-0x0E3D), and PidTagConversationId (0x3013, computed from PidTagConversationIndex;
 * aspose_Outlook*.pst). A cell without a PC property is accepted for these; when both exist they must agree.
 */
const TABLE_ONLY_IDS = new Set<number>([0x0e17, 0x0e30, 0x0e33, 0x0e34, 0x0e38, 0x0e3c, 0x0e3d, 0x3013]);

/**
 * Compares one table row with the PC of the object it names.
 * @param storedSize  the object's stored size: a PidTagMessageSize column may differ from the PC
 *   only when the PC holds a legacy size (≠ stored; aspose_Outlook.pst has 8 such rows) */
function compareRow(ctx: CheckContext, cells: Map<number, { type: number; value: PropValue }>, columns: readonly number[], pc: PcView, what: string, where: FindingLocation, storedSize = -1): void {
  for (const tag of columns) {
    const id = tag >>> 16, type = tag & 0xffff;
    if (id === TAG_ROW_ID || id === TAG_ROW_VER) continue;
    const cell = cells.get(tag);
    const prop = pc.props.get(id);
    const propValue = prop && prop.type === type ? prop.value : undefined;
    if (cell === undefined && propValue === undefined) continue;
    if (propValue === undefined && TABLE_ONLY_IDS.has(id)) continue;
    if (id === PID_MESSAGE_SIZE && cell && typeof cell.value === 'number' && typeof propValue === 'number' && propValue !== storedSize && propValue > 0 && propValue <= storedSize && cell.value > 0 && cell.value <= storedSize) continue;
    if (cell === undefined || propValue === undefined || !valuesEqual(cell.value, propValue)) {
      ctx.sink.add('TableRowMismatch', `${what}: column ${hex(tag)} is ${show(cell?.value)} in the table but ${show(propValue)} in the object's PC (MS-PST 2.4.4.5, 2.3.4)`, where);
      return;
    }
  }
}

async function checkFolder(ctx: CheckContext, index: number, kids: number[]): Promise<void> {
  const { nodes, sink } = ctx;
  const fnid = nodes.nid[index];
  const fref = await openNode(ctx, fnid);
  if (!fref) return;
  let folder: PcView;
  try {
    const ltp = await checkLtpNode(ctx, fref, 'pc', `folder ${hex(fnid)}`, { nid: fnid });
    if (!ltp) return;
    folder = await readPcView(ltp);
  } catch (err) {
    sink.add('PcCorrupt', `folder ${hex(fnid)}: PC values cannot be decoded: ${describe(err)} (MS-PST 2.3.3)`, { nid: fnid });
    return;
  }
  const idx = nidIndex(fnid);
  let hierarchyRows = -1, contentRows = -1, unread = 0;
  const kinds: [NidType, string, number, number[]][] = [
    [NidType.HIERARCHY_TABLE, 'hierarchy', 0, [NidType.NORMAL_FOLDER, NidType.SEARCH_FOLDER]],
    [NidType.CONTENTS_TABLE, 'contents', 1, [NidType.NORMAL_MESSAGE]],
    [NidType.ASSOC_CONTENTS_TABLE, 'FAI contents', 2, [NidType.ASSOC_MESSAGE]],
  ];
  for (const [ttype, tname, slot, childTypes] of kinds) {
    const tnid = makeNid(ttype, idx);
    if (ctx.ltpBad.has(tnid)) continue;
    const tref = await openNode(ctx, tnid);
    if (!tref) continue;
    let rows = 0, listed = 0;
    try {
      const tc = await openTable(await LtpNode.open(ctx.ndb, tref));
      const columns = tc.info.columns.map((c) => c.tag);
      for await (const row of tc.rows()) {
        sink.tick();
        rows++;
        const cnid = row.dwRowID;
        const where = { nid: cnid };
        const ci = nodes.find(cnid);
        if (ci < 0 || !childTypes.includes(nidType(cnid)) || nodes.parent[ci] !== fnid) {
          sink.add('TableRowOrphan', `${tname} table ${hex(tnid)} of folder ${hex(fnid)}: row ${rows - 1} names ${hex(cnid)}, ${ci < 0 ? 'which is not in the NBT' : nodes.parent[ci] !== fnid ? `whose nidParent is ${hex(nodes.parent[ci])}` : 'which is not a ' + (slot === 0 ? 'folder' : 'message of that kind')} (MS-PST 2.4.4)`, where);
          continue;
        }
        if (nodes.listed[ci]) {
          sink.add('TableRowOrphan', `${tname} table ${hex(tnid)} of folder ${hex(fnid)} lists ${hex(cnid)} twice (MS-PST 2.4.4)`, where);
          continue;
        }
        nodes.listed[ci] = 1;
        listed++;
        if (ctx.ltpBad.has(cnid)) continue;
        const cref = (await openNode(ctx, cnid))!;
        if (!cref) continue;
        let pc: PcView;
        let ltp: LtpNode;
        try {
          ltp = await LtpNode.open(ctx.ndb, cref);
          pc = await readPcView(ltp);
        } catch (err) {
          sink.add('PcCorrupt', `${hex(cnid)}: PC values cannot be decoded: ${describe(err)} (MS-PST 2.3.3)`, where);
          continue;
        }
        let stored = -1;
        try { stored = dataTreeBytes(ctx, cref.bidData) + (await subnodeBytes(ctx, cref.bidSub)); } catch { /* reported by checkMessage */ }
        compareRow(ctx, row.cells, columns, pc, `${tname} table ${hex(tnid)} row for ${hex(cnid)}`, where, stored);
        if (slot === 1) {
          const flags = pc.props.get(PID_MESSAGE_FLAGS)?.value;
          if (typeof flags !== 'number' || (flags & MF_READ) === 0) unread++;
        }
        if (slot > 0) await checkMessage(ctx, ltp, pc, `message ${hex(cnid)}`, { nid: cnid }, 0);
      }
    } catch (err) {
      if ((err as Error).name === 'CheckLimitReached' || (err as Error).name === 'AbortError') throw err;
      sink.add('TableCorrupt', `${tname} table ${hex(tnid)} of folder ${hex(fnid)}: rows cannot be read: ${describe(err)} (MS-PST 2.3.4)`, { nid: tnid });
      continue;
    }
    void listed;
    if (slot === 0) hierarchyRows = rows;
    if (slot === 1) contentRows = rows;
    void kids;
  }
  const where = { nid: fnid };
  const count = folder.props.get(PID_CONTENT_COUNT);
  if (contentRows >= 0 && count && count.value !== contentRows) {
    sink.add('ContentCount', `folder ${hex(fnid)}: PidTagContentCount is ${count.value}, its contents table has ${contentRows} row(s) (MS-PST 2.4.4.1)`, where);
  }
  const unr = folder.props.get(PID_CONTENT_UNREAD);
  if (contentRows >= 0 && unr && unr.value !== unread) {
    sink.add('UnreadCount', `folder ${hex(fnid)}: PidTagContentUnreadCount is ${unr.value}, ${unread} of its ${contentRows} message(s) lack mfRead in PidTagMessageFlags (MS-PST 2.4.4.1)`, where);
  }
  const sub = folder.props.get(PID_SUBFOLDERS);
  if (hierarchyRows >= 0 && sub && sub.value !== hierarchyRows > 0) {
    sink.add('Subfolders', `folder ${hex(fnid)}: PidTagSubfolders is ${sub.value}, its hierarchy table has ${hierarchyRows} row(s) (MS-PST 2.4.4.1)`, where);
  }
}

/** Data bytes of a data tree (MS-PST 2.2.2.8.3.2): cb of a data block, lcbTotal of an XBLOCK/XXBLOCK. */
function dataTreeBytes(ctx: CheckContext, bid: bigint): number {
  if (bid === 0n) return 0;
  const i = ctx.blocks.find(Number(bid));
  if (i < 0) return 0;
  const k = ctx.blocks.kind[i];
  return k === BlockKind.Data ? ctx.blocks.cb[i] : k === BlockKind.XBlock || k === BlockKind.XXBlock ? ctx.blocks.lcb[i] : 0;
}

/** Data bytes of every subnode under `bidSub`, recursively. */
async function subnodeBytes(ctx: CheckContext, bidSub: bigint, depth = 0): Promise<number> {
  if (bidSub === 0n || depth > MAX_EMBEDDED_DEPTH) return 0;
  let n = 0;
  for (const e of (await ctx.ndb.readSubnodes(bidSub)).values()) n += dataTreeBytes(ctx, e.bidData) + (await subnodeBytes(ctx, e.bidSub, depth + 1));
  return n;
}

/** Checks one message (folder item or embedded): size, attachment table, attachments. */
async function checkMessage(ctx: CheckContext, ltp: LtpNode, pc: PcView, label: string, where: FindingLocation, depth: number): Promise<void> {
  const { sink } = ctx;
  let subs;
  let stored: number;
  try {
    subs = await ltp.subnodes();
    stored = dataTreeBytes(ctx, ltp.node.bidData) + (await subnodeBytes(ctx, ltp.node.bidSub));
  } catch (err) {
    sink.add('MessageUnreadable', `${label}: subnodes cannot be read: ${describe(err)} (MS-PST 2.2.2.8.3.3)`, where);
    return;
  }
  const ms = pc.props.get(PID_MESSAGE_SIZE);
  if (!ms || ms.type !== 3) {
    sink.add('MessageSizeMissing', `${label}: no PidTagMessageSize (0x0E080003) (MS-PST 2.4.5, MS-OXCMSG 2.2.1.7)`, where);
  } else {
    const v = ms.value as number;
    if (!(v > 0 && v <= stored)) {
      sink.add('MessageSize', `${label}: PidTagMessageSize is ${v}, the stored size (data tree + subnodes, MS-PST 2.2.2.8) is ${stored}; Outlook stores exactly that, or a legacy property-based size below it (MS-OXCMSG 2.2.1.7)`, where);
    }
  }
  for (const [snid, sref] of subs) {
    if (snid === NID_RECIPIENT_TABLE) await checkLtpNode(ctx, sref, 'tc', `${label} recipient table`, where);
  }
  const attTable = subs.get(NID_ATTACHMENT_TABLE);
  const attachNids = [...subs.keys()].filter((n) => nidType(n) === NidType.ATTACHMENT);
  if (!attTable) {
    if (attachNids.length) sink.add('AttachTableMismatch', `${label}: ${attachNids.length} attachment subnode(s) but no attachment table 0x671 (MS-PST 2.4.6.1)`, where);
    return;
  }
  const tltp = await checkLtpNode(ctx, attTable, 'tc', `${label} attachment table`, where);
  if (!tltp) return;
  const listed = new Set<number>();
  try {
    const tc = await openTable(tltp);
    const columns = tc.info.columns.map((c) => c.tag);
    for await (const row of tc.rows()) {
      sink.tick();
      const anid = row.dwRowID;
      const aref = subs.get(anid);
      if (!aref || nidType(anid) !== NidType.ATTACHMENT || listed.has(anid)) {
        sink.add('AttachTableMismatch', `${label}: attachment table row names ${hex(anid)}, ${listed.has(anid) ? 'listed twice' : 'which is not an attachment subnode of the message'} (MS-PST 2.4.6.1)`, where);
        continue;
      }
      listed.add(anid);
      ctx.stats.attachments++;
      const aLabel = `${label} attachment ${hex(anid)}`;
      const altp = await checkLtpNode(ctx, aref, 'pc', aLabel, where);
      if (!altp) continue;
      let apc: PcView;
      try { apc = await readPcView(altp); } catch (err) {
        sink.add('PcCorrupt', `${aLabel}: PC values cannot be decoded: ${describe(err)} (MS-PST 2.3.3)`, where);
        continue;
      }
      compareRow(ctx, row.cells, columns, apc, `${label} attachment table row for ${hex(anid)}`, where);
      await checkAttachment(ctx, altp, apc, aLabel, where, depth);
    }
  } catch (err) {
    if ((err as Error).name === 'CheckLimitReached' || (err as Error).name === 'AbortError') throw err;
    sink.add('TableCorrupt', `${label} attachment table: rows cannot be read: ${describe(err)} (MS-PST 2.3.4)`, where);
    return;
  }
  for (const anid of attachNids) {
    if (!listed.has(anid)) sink.add('AttachTableMismatch', `${label}: attachment subnode ${hex(anid)} has no row in the attachment table (MS-PST 2.4.6.1)`, where);
  }
}

async function checkAttachment(ctx: CheckContext, ltp: LtpNode, pc: PcView, label: string, where: FindingLocation, depth: number): Promise<void> {
  const { sink } = ctx;
  let stored: number;
  try {
    stored = dataTreeBytes(ctx, ltp.node.bidData) + (await subnodeBytes(ctx, ltp.node.bidSub));
  } catch (err) {
    sink.add('MessageUnreadable', `${label}: subnodes cannot be read: ${describe(err)} (MS-PST 2.2.2.8.3.3)`, where);
    return;
  }
  const as = pc.props.get(PID_ATTACH_SIZE);
  if (!as || as.type !== 3) sink.add('AttachSizeMissing', `${label}: no PidTagAttachSize (0x0E200003) (MS-PST 2.4.6.2, MS-OXCMSG 2.2.2.5)`, where);
  else {
    const v = as.value as number;
    if (v !== stored && v !== pc.valueBytes && !(v >= pc.dataBytes && v <= stored)) {
      sink.add('AttachSize', `${label}: PidTagAttachSize is ${v}; the stored size (data tree + subnodes) is ${stored}, the PC's value bytes ${pc.valueBytes}, the attachment data ${pc.dataBytes} (MS-OXCMSG 2.2.2.5)`, where);
    }
  }
  if (!pc.props.has(PID_RENDERING_POSITION)) {
    sink.add('AttachMissingRenderingPosition', `${label}: no PidTagRenderingPosition (0x370B0003; -1 when not rendered inline) (MS-OXCMSG 2.2.2.16)`, where);
  }
  const method = pc.props.get(PID_ATTACH_METHOD)?.value;
  const obj = pc.props.get(PID_ATTACH_DATA);
  if (method === 5 && obj && obj.type === 0x0d && obj.value instanceof Uint8Array && obj.value.length >= 8) {
    if (depth + 1 > MAX_EMBEDDED_DEPTH) return;
    const enid = new DataView(obj.value.buffer, obj.value.byteOffset).getUint32(0, true);
    const eref = (await ltp.subnodes()).get(enid);
    if (!eref) { sink.add('PcCorrupt', `${label}: embedded message subnode ${hex(enid)} is missing (MS-PST 2.4.6.2.1)`, where); return; }
    const eltp = await checkLtpNode(ctx, eref, 'pc', `${label} embedded message ${hex(enid)}`, where);
    if (!eltp) return;
    let epc: PcView;
    try { epc = await readPcView(eltp); } catch (err) {
      sink.add('PcCorrupt', `${label} embedded message: PC values cannot be decoded: ${describe(err)} (MS-PST 2.3.3)`, where);
      return;
    }
    await checkMessage(ctx, eltp, epc, `${label} embedded message ${hex(enid)}`, where, depth + 1);
  }
}
