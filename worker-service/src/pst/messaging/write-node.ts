/**
 * Writes an LTP node (PC or TC) with its subnodes through the NDB writer and measures it: the size
 * Outport records as PidTagMessageSize / PidTagAttachSize is the node's on-disk stream bytes — its
 * data tree plus every subnode's data tree, recursively (docs/pst-format-notes.md "Object sizes").
 */
import type { LtpNodeOutput } from '../ltp/write-node';
import type { NdbWriter, SubnodeRef } from '../ndb/write-ndb';

/** A node written to the NDB: its data tree, subnode tree and measured size in bytes. */
export interface WrittenNode {
  bidData: number;
  bidSub: number;
  sizeBytes: number;
}

/** A subnode already written, to be listed in its parent's subnode tree. */
export interface WrittenSubnode extends WrittenNode {
  nid: number;
}

/** Bytes an LTP output will occupy as streams (heap blocks + subnode streams), before writing. */
export function ltpOutputSize(out: LtpNodeOutput): number {
  let n = 0;
  for (const b of out.blocks) n += b.length;
  for (const s of out.subnodes) n += Array.isArray(s.data) ? s.data.reduce((a, b) => a + b.length, 0) : s.data.length;
  return n;
}

/**
 * Writes `out` as a node: data tree from its heap blocks, its own subnode streams, plus `children`
 * (already-written subnodes such as attachments or tables) in one subnode tree sorted by nid.
 */
export async function writeLtpNode(ndb: NdbWriter, out: LtpNodeOutput, children: WrittenSubnode[] = []): Promise<WrittenNode> {
  const bidData = await ndb.writeDataTree(out.blocks);
  let sizeBytes = out.blocks.reduce((a, b) => a + b.length, 0);
  const subs: SubnodeRef[] = [];
  for (const s of out.subnodes) {
    const bid = Array.isArray(s.data) ? await ndb.writeDataTree(s.data) : await ndb.writeStream(s.data);
    sizeBytes += Array.isArray(s.data) ? s.data.reduce((a, b) => a + b.length, 0) : s.data.length;
    subs.push({ nid: s.nid, bidData: bid, bidSub: 0 });
  }
  for (const c of children) {
    subs.push({ nid: c.nid, bidData: c.bidData, bidSub: c.bidSub });
    sizeBytes += c.sizeBytes;
  }
  subs.sort((a, b) => a.nid - b.nid);
  const bidSub = await ndb.writeSubnodeTree(subs);
  return { bidData, bidSub, sizeBytes };
}
