/**
 * Lays an encoded message object (encode-message.ts) out as NDB blocks: each subnode's tree first,
 * in the order the encoder listed them (recipient table, attachments with their embedded messages,
 * attachment table), then the node itself with its subnode tree (MS-PST 2.4.5, 2.2.2.8.3.3).
 */
import type { MapiItem } from '../../mapi/item';
import type { NdbWriter } from '../ndb/write-ndb';
import { encodeMessageObject, type EncodedNode, type NameResolver } from './encode-message';
import { writeLtpNode, type WrittenNode, type WrittenSubnode } from './write-node';
import type { LocalProps } from './write-props';

export { MAX_EMBEDDED_DEPTH, MessageWriteError } from './encode-message';

/** What the message writer needs from the store writer. */
export interface MessageWriteContext {
  ndb: NdbWriter;
  names: NameResolver;
}

/** A written message: its node and the properties its PC holds (for contents-table rows). */
export interface WrittenMessage {
  node: WrittenNode;
  props: LocalProps;
}

/**
 * Writes an encoded node tree: children depth first in their listed order, then the node.
 * The block ids follow the order of the calls, so the same tree always gives the same bytes.
 */
export async function writeEncodedNode(ndb: NdbWriter, enc: EncodedNode): Promise<WrittenNode> {
  const children: WrittenSubnode[] = [];
  for (const c of enc.children) children.push({ nid: c.nid, ...(await writeEncodedNode(ndb, c.node)) });
  return writeLtpNode(ndb, enc.out, children);
}

/**
 * Encodes and writes a message object and returns its node (for the NBT, or as an embedded subnode).
 * @throws MessageWriteError "EmbeddedTooDeep" | "EmbeddedMissing"
 * @throws PropValueError for a property whose value does not match its type
 */
export async function writeMessageObject(ctx: MessageWriteContext, item: MapiItem): Promise<WrittenMessage> {
  const enc = encodeMessageObject(ctx.names, item);
  return { node: await writeEncodedNode(ctx.ndb, enc.node), props: enc.props };
}
