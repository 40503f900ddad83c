/**
 * Lays an encoded message object (encode-message.ts) out as NDB blocks: each subnode's tree first,
 * in the order the encoder listed them (recipient table, attachments with their embedded messages,
 * attachment table), then the node itself with its subnode tree (MS-PST 2.4.5, 2.2.2.8.3.3).
 */
import type { NdbWriter } from '../ndb/write-ndb';
import type { EncodedNode } from './encode-message';
import { writeLtpNode, type WrittenNode, type WrittenSubnode } from './write-node';

/**
 * Writes an encoded node tree: children depth first in their listed order, then the node.
 * The block ids follow the order of the calls, so the same tree always gives the same bytes.
 */
export async function writeEncodedNode(ndb: NdbWriter, enc: EncodedNode): Promise<WrittenNode> {
  const children: WrittenSubnode[] = [];
  for (const c of enc.children) children.push({ nid: c.nid, ...(await writeEncodedNode(ndb, c.node)) });
  return writeLtpNode(ndb, enc.out, children);
}
