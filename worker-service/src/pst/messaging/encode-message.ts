/**
 * Encodes one message object (MS-PST 2.4.5) into LTP structures without touching the NDB: its PC,
 * recipient table (subnode NID 0x692), attachment table (0x671) and attachment PCs
 * (NID_TYPE_ATTACHMENT subnodes), embedded messages (AttachMethod 5, PidTagAttachDataObject → a
 * message PC in the attachment's subnode tree, MS-PST 2.4.6.2.1), and the computed sizes
 * PidTagMessageSize and PidTagAttachSize. No block id is involved, so this runs anywhere — on the
 * writer's thread or in an encoder thread (pst/encode/pool.ts) — and write-message.ts lays the
 * result out as blocks.
 */
import { AttachMethod, type MapiItem, type MapiAttachment } from '../../mapi/item';
import type { NamedPropertyKey } from '../../mapi/named';
import { TAG } from '../../mapi/tags';
import { PropType, propTag } from '../../mapi/types';
import { buildPropertyContext } from '../ltp/write-pc';
import { buildTableContext, layoutColumns, type TcLayout, type TcRow } from '../ltp/write-tc';
import type { LtpNodeOutput } from '../ltp/write-node';
import { writeU32 } from '../ndb/bytes';
import { NID, NidType, makeNid } from '../ndb/nid';
import { ATTACHMENT_TABLE_COLUMNS, RECIPIENT_TABLE_COLUMNS } from './blueprint';
import { ltpOutputSize } from './write-node';
import { localProperties, setLocal, rowCells, type LocalProps, type NameResolver } from './write-props';

export type { NameResolver } from './write-props';

/** Deepest chain of embedded messages written; deeper ones are refused with an error (crafted input). */
export const MAX_EMBEDDED_DEPTH = 32;

/** Error raised for an item the writer cannot store, with a stable code. */
export class MessageWriteError extends Error {
  constructor(
    readonly code: 'EmbeddedTooDeep' | 'EmbeddedMissing',
    message: string,
  ) {
    super(message);
    this.name = 'MessageWriteError';
  }
}

/**
 * An encoded LTP node and, in the order they must be laid out, the encoded nodes of its subnode
 * tree (tables, attachments, embedded messages). `sizeBytes` is the node's stream bytes plus its
 * children's, recursively (what PidTagMessageSize / PidTagAttachSize record).
 */
export interface EncodedNode {
  out: LtpNodeOutput;
  children: { nid: number; node: EncodedNode }[];
  sizeBytes: number;
}

/** An encoded message: its node tree and the properties its PC holds (for contents-table rows). */
export interface EncodedMessage {
  node: EncodedNode;
  props: LocalProps;
}

/** Tagged ids the writer computes and never copies from the item. */
const COMPUTED = new Set<number>([TAG.PidTagMessageSize.id, TAG.PidTagAttachSize.id]);
/** Row-id columns of every TC; not taken from object properties. */
const ROW_ID_TAGS = new Set([0x67f20003, 0x67f30003]);

function codepageOf(props: LocalProps): number | undefined {
  const cp = props.get(TAG.PidTagMessageCodepage.id) ?? props.get(TAG.PidTagInternetCodepage.id);
  return cp && typeof cp.value === 'number' ? cp.value : undefined;
}

/** Builds a PC whose inline Int32 size property equals the size of the whole object once written. */
function buildSizedPc(props: LocalProps, sizeId: number, childBytes: number, newNid: () => number, codepage?: number): LtpNodeOutput {
  setLocal(props, sizeId, PropType.Integer32, 0);
  const out = buildPropertyContext(props.values(), newNid, codepage, { id: sizeId, extraBytes: childBytes });
  setLocal(props, sizeId, PropType.Integer32, out.sizeValue!); // table rows show what the PC holds
  return out;
}

/** Layouts by column list: most messages share a few recipient column sets (bounded; cleared when full). */
const layoutCache = new Map<string, { layout: TcLayout; columns: number[] }>();
const LAYOUT_CACHE_MAX = 256;

/** A table layout: the template's columns plus any other property the rows carry (recipients live only in rows). */
function tableLayout(template: readonly number[], rows: LocalProps[]): { layout: TcLayout; columns: number[] } {
  const tags = new Set<number>(template);
  for (const r of rows) for (const p of r.values()) tags.add(propTag(p.id, p.type));
  for (const t of ROW_ID_TAGS) tags.delete(t);
  const columns = [...tags];
  const key = columns.join(',');
  let hit = layoutCache.get(key);
  if (!hit) {
    if (layoutCache.size >= LAYOUT_CACHE_MAX) layoutCache.clear();
    hit = { layout: layoutColumns(columns), columns };
    layoutCache.set(key, hit);
  }
  return hit;
}

function nodeOf(out: LtpNodeOutput, children: EncodedNode['children'] = []): EncodedNode {
  return { out, children, sizeBytes: ltpOutputSize(out) + children.reduce((a, c) => a + c.node.sizeBytes, 0) };
}

/**
 * The named properties of `item` in the order {@link encodeMessageObject} resolves them: the
 * message's, its recipients', then per attachment its own and its embedded message's. A caller
 * that resolves these first, in this order, assigns the ids a sequential writer would.
 */
export function collectNamedKeys(item: MapiItem, out: NamedPropertyKey[] = [], depth = 0): NamedPropertyKey[] {
  if (depth > MAX_EMBEDDED_DEPTH) return out;
  for (const k of item.properties.namedKeys()) out.push(k);
  for (const r of item.recipients) for (const k of r.namedKeys()) out.push(k);
  for (const a of item.attachments) {
    for (const k of a.properties.namedKeys()) out.push(k);
    if (a.embedded) collectNamedKeys(a.embedded, out, depth + 1);
  }
  return out;
}

/**
 * Encodes a message object. Pure apart from `names` (which may assign ids).
 * @throws MessageWriteError "EmbeddedTooDeep" past {@link MAX_EMBEDDED_DEPTH}, "EmbeddedMissing"
 * @throws PropValueError for a property whose value does not match its type
 */
export function encodeMessageObject(names: NameResolver, item: MapiItem, depth = 0): EncodedMessage {
  if (depth > MAX_EMBEDDED_DEPTH) throw new MessageWriteError('EmbeddedTooDeep', `embedded messages nest deeper than ${MAX_EMBEDDED_DEPTH}`);
  let nextLtp = 0x10;
  const newNid = () => makeNid(NidType.LTP, nextLtp++);
  const props = localProperties(item.properties, names, COMPUTED);
  if (!props.has(TAG.PidTagMessageClass.id)) setLocal(props, TAG.PidTagMessageClass.id, PropType.String, 'IPM.Note');
  const codepage = codepageOf(props);
  const children: EncodedNode['children'] = [];

  // recipient table (every message has one, MS-PST 2.4.5.2)
  const recipients = item.recipients.map((r, i) => {
    const p = localProperties(r, names);
    if (!p.has(TAG.PidTagRowid.id)) setLocal(p, TAG.PidTagRowid.id, PropType.Integer32, i);
    return p;
  });
  {
    const { layout, columns } = tableLayout(RECIPIENT_TABLE_COLUMNS, recipients);
    const rows: TcRow[] = recipients.map((p, i) => ({ rowId: Number(p.get(TAG.PidTagRowid.id)?.value ?? i) >>> 0, cells: rowCells(columns, p) }));
    let n = 0x10;
    children.push({ nid: NID.RECIPIENT_TABLE_TEMPLATE, node: nodeOf(buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++), codepage)) });
  }

  // attachments and the attachment table (MS-PST 2.4.6)
  if (item.attachments.length > 0) {
    const attachRows: { nid: number; props: LocalProps }[] = [];
    for (let i = 0; i < item.attachments.length; i++) {
      const nid = makeNid(NidType.ATTACHMENT, 0x400 + i); // Outlook numbers attachment subnodes from 0x8005
      const encoded = encodeAttachment(names, item.attachments[i], i, codepage, depth);
      children.push({ nid, node: encoded.node });
      attachRows.push({ nid, props: encoded.props });
    }
    const { layout, columns } = tableLayout(ATTACHMENT_TABLE_COLUMNS, []);
    const rows: TcRow[] = attachRows.map((a) => ({ rowId: a.nid, cells: rowCells(columns, a.props) }));
    let n = 0x10;
    children.push({ nid: NID.ATTACHMENT_TABLE_TEMPLATE, node: nodeOf(buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++), codepage)) });
    // the item's own values win (Outlook clears both for messages whose only attachments are
    // hidden inline images); an item that says nothing gets what its attachments imply
    if (!props.has(TAG.PidTagHasAttachments.id)) setLocal(props, TAG.PidTagHasAttachments.id, PropType.Boolean, true);
    if (!props.has(TAG.PidTagMessageFlags.id)) setLocal(props, TAG.PidTagMessageFlags.id, PropType.Integer32, 0x10);
  }

  const childBytes = children.reduce((a, c) => a + c.node.sizeBytes, 0);
  const out = buildSizedPc(props, TAG.PidTagMessageSize.id, childBytes, newNid, codepage);
  return { node: nodeOf(out, children), props };
}

function encodeAttachment(names: NameResolver, att: MapiAttachment, index: number, msgCodepage: number | undefined, depth: number): EncodedMessage {
  let nextLtp = 0x10;
  const newNid = () => makeNid(NidType.LTP, nextLtp++);
  const props = localProperties(att.properties, names, COMPUTED);
  const method = props.get(TAG.PidTagAttachMethod.id)?.value;
  if (method === undefined) setLocal(props, TAG.PidTagAttachMethod.id, PropType.Integer32, att.embedded ? AttachMethod.EmbeddedMessage : AttachMethod.ByValue);
  if (!props.has(TAG.PidTagRenderingPosition.id)) setLocal(props, TAG.PidTagRenderingPosition.id, PropType.Integer32, -1);
  if (!props.has(TAG.PidTagAttachNumber.id)) setLocal(props, TAG.PidTagAttachNumber.id, PropType.Integer32, index);
  const children: EncodedNode['children'] = [];
  if (att.embedded) {
    props.delete(TAG.PidTagAttachDataObject.id); // replaced by the reference to the embedded message below
    const embeddedNid = makeNid(NidType.NORMAL_MESSAGE, 0x100);
    const emb = encodeMessageObject(names, att.embedded, depth + 1);
    children.push({ nid: embeddedNid, node: emb.node });
    const ref = new Uint8Array(8);
    writeU32(ref, 0, embeddedNid);
    writeU32(ref, 4, Math.min(emb.node.sizeBytes, 0xffffffff));
    setLocal(props, TAG.PidTagAttachDataObject.id, PropType.Object, ref);
  } else if (method === AttachMethod.EmbeddedMessage) {
    throw new MessageWriteError('EmbeddedMissing', `attachment ${index} has PidTagAttachMethod 5 (embedded message) but no embedded item`);
  }
  const childBytes = children.reduce((a, c) => a + c.node.sizeBytes, 0);
  const out = buildSizedPc(props, TAG.PidTagAttachSize.id, childBytes, newNid, msgCodepage);
  return { node: nodeOf(out, children), props };
}
