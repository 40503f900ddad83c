/**
 * Writes one message object (MS-PST 2.4.5): its PC, recipient table (subnode NID 0x692), attachment
 * table (0x671) and attachment PCs (NID_TYPE_ATTACHMENT subnodes), embedded messages (AttachMethod 5,
 * PidTagAttachDataObject → a message PC in the attachment's subnode tree, MS-PST 2.4.6.2.1), and
 * the computed sizes PidTagMessageSize and PidTagAttachSize.
 */
import { AttachMethod, type MapiItem, type MapiAttachment } from '../../mapi/item';
import { TAG } from '../../mapi/tags';
import { PropType, propTag } from '../../mapi/types';
import { buildPropertyContext, type PcProperty } from '../ltp/write-pc';
import { buildTableContext, layoutColumns, type TcLayout, type TcRow } from '../ltp/write-tc';
import type { LtpNodeOutput } from '../ltp/write-node';
import { writeU32 } from '../ndb/bytes';
import { NID, NidType, makeNid } from '../ndb/nid';
import type { NdbWriter } from '../ndb/write-ndb';
import { ATTACHMENT_TABLE_COLUMNS, RECIPIENT_TABLE_COLUMNS } from './blueprint';
import type { NameToIdMapBuilder } from './write-nameid';
import { ltpOutputSize, writeLtpNode, type WrittenNode, type WrittenSubnode } from './write-node';
import { localProperties, rowCells, setLocal, type LocalProps } from './write-props';

/** Deepest chain of embedded messages written; deeper ones are dropped with an error (crafted input). */
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

/** What the message writer needs from the store writer. */
export interface MessageWriteContext {
  ndb: NdbWriter;
  names: NameToIdMapBuilder;
}

/** A written message: its node and the properties its PC holds (for contents-table rows). */
export interface WrittenMessage {
  node: WrittenNode;
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

/**
 * Writes a message object and returns its node (for the NBT, or as an embedded subnode).
 * @throws MessageWriteError "EmbeddedTooDeep" past {@link MAX_EMBEDDED_DEPTH}
 * @throws PropValueError for a property whose value does not match its type
 */
export async function writeMessageObject(ctx: MessageWriteContext, item: MapiItem, depth = 0): Promise<WrittenMessage> {
  if (depth > MAX_EMBEDDED_DEPTH) throw new MessageWriteError('EmbeddedTooDeep', `embedded messages nest deeper than ${MAX_EMBEDDED_DEPTH}`);
  let nextLtp = 0x10;
  const newNid = () => makeNid(NidType.LTP, nextLtp++);
  const props = localProperties(item.properties, ctx.names, COMPUTED);
  if (!props.has(TAG.PidTagMessageClass.id)) setLocal(props, TAG.PidTagMessageClass.id, PropType.String, 'IPM.Note');
  const codepage = codepageOf(props);
  const children: WrittenSubnode[] = [];

  // recipient table (every message has one, MS-PST 2.4.5.2)
  const recipients = item.recipients.map((r, i) => {
    const p = localProperties(r, ctx.names);
    if (!p.has(TAG.PidTagRowid.id)) setLocal(p, TAG.PidTagRowid.id, PropType.Integer32, i);
    return p;
  });
  {
    const { layout, columns } = tableLayout(RECIPIENT_TABLE_COLUMNS, recipients);
    const rows: TcRow[] = recipients.map((p, i) => ({ rowId: Number(p.get(TAG.PidTagRowid.id)?.value ?? i) >>> 0, cells: rowCells(columns, p) }));
    let n = 0x10;
    const out = buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++), codepage);
    children.push({ nid: NID.RECIPIENT_TABLE_TEMPLATE, ...(await writeLtpNode(ctx.ndb, out)) });
  }

  // attachments and the attachment table (MS-PST 2.4.6)
  if (item.attachments.length > 0) {
    const attachRows: { nid: number; props: LocalProps }[] = [];
    for (let i = 0; i < item.attachments.length; i++) {
      const nid = makeNid(NidType.ATTACHMENT, 0x400 + i); // Outlook numbers attachment subnodes from 0x8005
      const written = await writeAttachment(ctx, item.attachments[i], i, codepage, depth);
      children.push({ nid, ...written.node });
      attachRows.push({ nid, props: written.props });
    }
    const { layout, columns } = tableLayout(ATTACHMENT_TABLE_COLUMNS, []);
    const rows: TcRow[] = attachRows.map((a) => ({ rowId: a.nid, cells: rowCells(columns, a.props) }));
    let n = 0x10;
    const out = buildTableContext(layout, rows, () => makeNid(NidType.LTP, n++), codepage);
    children.push({ nid: NID.ATTACHMENT_TABLE_TEMPLATE, ...(await writeLtpNode(ctx.ndb, out)) });
    // the item's own values win (Outlook clears both for messages whose only attachments are
    // hidden inline images); an item that says nothing gets what its attachments imply
    if (!props.has(TAG.PidTagHasAttachments.id)) setLocal(props, TAG.PidTagHasAttachments.id, PropType.Boolean, true);
    if (!props.has(TAG.PidTagMessageFlags.id)) setLocal(props, TAG.PidTagMessageFlags.id, PropType.Integer32, 0x10);
  }

  const childBytes = children.reduce((a, c) => a + c.sizeBytes, 0);
  const out = buildSizedPc(props, TAG.PidTagMessageSize.id, childBytes, newNid, codepage);
  const node = await writeLtpNode(ctx.ndb, out, children);
  return { node, props };
}

async function writeAttachment(ctx: MessageWriteContext, att: MapiAttachment, index: number, msgCodepage: number | undefined, depth: number): Promise<WrittenMessage> {
  let nextLtp = 0x10;
  const newNid = () => makeNid(NidType.LTP, nextLtp++);
  const props = localProperties(att.properties, ctx.names, COMPUTED);
  const method = props.get(TAG.PidTagAttachMethod.id)?.value;
  if (method === undefined) setLocal(props, TAG.PidTagAttachMethod.id, PropType.Integer32, att.embedded ? AttachMethod.EmbeddedMessage : AttachMethod.ByValue);
  if (!props.has(TAG.PidTagRenderingPosition.id)) setLocal(props, TAG.PidTagRenderingPosition.id, PropType.Integer32, -1);
  if (!props.has(TAG.PidTagAttachNumber.id)) setLocal(props, TAG.PidTagAttachNumber.id, PropType.Integer32, index);
  const children: WrittenSubnode[] = [];
  if (att.embedded) {
    props.delete(TAG.PidTagAttachDataObject.id); // replaced by the reference to the embedded message below
    const embeddedNid = makeNid(NidType.NORMAL_MESSAGE, 0x100);
    const emb = await writeMessageObject(ctx, att.embedded, depth + 1);
    children.push({ nid: embeddedNid, ...emb.node });
    const ref = new Uint8Array(8);
    writeU32(ref, 0, embeddedNid);
    writeU32(ref, 4, Math.min(emb.node.sizeBytes, 0xffffffff));
    setLocal(props, TAG.PidTagAttachDataObject.id, PropType.Object, ref);
  } else if (method === AttachMethod.EmbeddedMessage) {
    throw new MessageWriteError('EmbeddedMissing', `attachment ${index} has PidTagAttachMethod 5 (embedded message) but no embedded item`);
  }
  const childBytes = children.reduce((a, c) => a + c.sizeBytes, 0);
  const out = buildSizedPc(props, TAG.PidTagAttachSize.id, childBytes, newNid, msgCodepage);
  const node = await writeLtpNode(ctx.ndb, out, children);
  return { node, props };
}

/** Properties of `props` as PC input (for callers that rebuild rows). */
export function asPcProperties(props: LocalProps): PcProperty[] {
  return [...props.values()];
}
