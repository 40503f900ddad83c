/**
 * Messages read side (MS-PST 2.4.5-2.4.6): the message PC, the recipient table (subnode 0x692),
 * the attachment table (subnode 0x671) whose row ids are the NIDs of attachment PC subnodes, and
 * embedded messages (PidTagAttachMethod 5): PidTagAttachDataObject names a subnode of the
 * attachment that is itself a message with its own subnodes, read recursively.
 */
import { newMapiItem, type MapiAttachment, type MapiItem } from '../../mapi/item';
import { PropertyBag } from '../../mapi/item';
import { PropType } from '../../mapi/types';
import { PstReadError } from '../ndb/read-error';
import type { NdbReader, NodeRef } from '../ndb/read-ndb';
import { NidType, nidType } from '../ndb/nid';
import { LtpNode } from '../ltp/read-node';
import { pcCodepage, readPcRecords, decodePcRecord, type PcProperty } from '../ltp/read-pc';
import { openTable } from '../ltp/read-tc';
import { addProperty, LTP_ROW_ID, LTP_ROW_VER, type BagStats } from './read-props';
import type { NameIdMap } from './read-nameid';

/** Deepest chain of embedded messages accepted (each level costs a subnode tree; crafted files can nest without end). */
export const MAX_EMBEDDED_DEPTH = 32;

/** Subnode NIDs of a message's recipient and attachment tables (MS-PST 2.4.1 NID_RECIPIENT_TABLE, NID_ATTACHMENT_TABLE). */
export const NID_RECIPIENT_TABLE = 0x692;
export const NID_ATTACHMENT_TABLE = 0x671;
const PID_ATTACH_METHOD = 0x3705;
const PID_ATTACH_DATA = 0x3701;

/** Context the message reader needs: the NDB, the store's name-to-id map and default code page. */
export interface MessageReadContext {
  readonly ndb: NdbReader;
  readonly nameIdMap: NameIdMap;
  /** Code page for PtypString8 when a message names none. */
  readonly codepage: number;
  readonly stats?: BagStats;
  /** Nodes (bidData:bidSub) already read for the current top-level item: a crafted subnode tree
   *  that reaches a message or attachment twice would otherwise branch exponentially. */
  readonly seen?: Set<string>;
}

async function readPc(ctx: MessageReadContext, node: LtpNode, codepage?: number): Promise<{ props: PcProperty[]; codepage: number }> {
  const { records } = readPcRecords(node);
  const cp = codepage ?? pcCodepage(records, ctx.codepage);
  const props: PcProperty[] = [];
  for (const r of records) props.push(await decodePcRecord(node, r, cp));
  return { props, codepage: cp };
}

/**
 * Reads a message node (an NBT entry, or an embedded message's subnode) as a MapiItem.
 * @param associated  the FAI flag to set (true for rows of an FAI contents table)
 * @param depth       embedding depth (0 for a folder's message)
 * @throws PstReadError "BadMessage", "NestingTooDeep", LTP/NDB errors */
export async function readMessage(ctx: MessageReadContext, node: NodeRef, associated: boolean, depth = 0): Promise<MapiItem> {
  if (depth > MAX_EMBEDDED_DEPTH) throw new PstReadError('NestingTooDeep', 'embedded messages nested deeper than allowed', { nid: node.nid, depth });
  markSeen(ctx, node, 'message');
  const ltp = await LtpNode.open(ctx.ndb, node);
  const item = newMapiItem(associated);
  const { props, codepage } = await readPc(ctx, ltp);
  for (const p of props) {
    let value = p.value;
    if (p.type === PropType.Object && p.object) value = await ltp.readHnid(p.object.nid);
    addProperty(item.properties, p.id, p.type, value, ctx.nameIdMap, ctx.stats);
  }
  const subs = await ltp.subnodes();

  const recipients = subs.get(NID_RECIPIENT_TABLE);
  if (recipients) {
    const tc = await openTable(await LtpNode.open(ctx.ndb, recipients), codepage);
    // Recipient table HNIDs resolve against the table's own subnodes, which openTable's node has.
    for await (const row of tc.rows()) {
      const bag = new PropertyBag();
      for (const [tag, cell] of row.cells) {
        const id = tag >>> 16;
        if (id === LTP_ROW_ID || id === LTP_ROW_VER) continue;
        addProperty(bag, id, cell.type, cell.value, ctx.nameIdMap, ctx.stats);
      }
      item.recipients.push(bag);
    }
  }

  const attachTable = subs.get(NID_ATTACHMENT_TABLE);
  if (attachTable) {
    const tc = await openTable(await LtpNode.open(ctx.ndb, attachTable), codepage);
    for await (const row of tc.rows()) {
      const attNid = row.dwRowID;
      const sub = subs.get(attNid);
      if (!sub || nidType(attNid) !== NidType.ATTACHMENT) throw new PstReadError('BadMessage', 'attachment table row names no attachment subnode', { nid: node.nid, attachmentNid: attNid });
      item.attachments.push(await readAttachment(ctx, sub, codepage, depth));
    }
  }
  return item;
}

/**
 * Reads an attachment PC subnode (MS-PST 2.4.6.2). By value: PidTagAttachDataBinary in properties.
 * Embedded (method 5): `embedded` read from the subnode PidTagAttachDataObject names, and the
 * object property itself left out. OLE (method 6): the object's bytes as PtypObject.
 * @throws PstReadError */
export async function readAttachment(ctx: MessageReadContext, sub: NodeRef, codepage: number, depth: number): Promise<MapiAttachment> {
  markSeen(ctx, sub, 'attachment');
  const ltp = await LtpNode.open(ctx.ndb, sub);
  const { props } = await readPc(ctx, ltp, codepage);
  const properties = new PropertyBag();
  const method = props.find((p) => p.id === PID_ATTACH_METHOD)?.value;
  const att: MapiAttachment = { properties };
  for (const p of props) {
    if (p.id === PID_ATTACH_DATA && p.type === PropType.Object && p.object) {
      if (method === 5) {
        const embeddedNode = await ltp.subnode(p.object.nid);
        att.embedded = await readMessage(ctx, embeddedNode, false, depth + 1);
        continue;
      }
      addProperty(properties, p.id, p.type, await ltp.readHnid(p.object.nid), ctx.nameIdMap, ctx.stats);
      continue;
    }
    addProperty(properties, p.id, p.type, p.value, ctx.nameIdMap, ctx.stats);
  }
  return att;
}

function markSeen(ctx: MessageReadContext, node: NodeRef, what: string): void {
  if (!ctx.seen) return;
  const key = `${node.bidData}:${node.bidSub}`;
  if (ctx.seen.has(key)) throw new PstReadError('BadMessage', `${what} node reached twice inside one item (subnode cycle)`, { nid: node.nid, bid: node.bidData });
  ctx.seen.add(key);
}
