/**
 * Writes an LTP node (PC or TC) with its subnodes through the NDB writer and measures it: the size
 * Outport records as PidTagMessageSize / PidTagAttachSize is the node's on-disk stream bytes — its
 * data tree plus every subnode's data tree, recursively (docs/pst-format-notes.md "Object sizes").
 */
import { subnodeStreamBytes, type LtpNodeOutput, type LtpSubnodeStream, type SubnodeNidAllocator } from '../ltp/write-node';
import type { EmittedHeapBlock } from '../ltp/write-heap';
import { TableContextBuilder, type PackedTcRow, type TcLayout, type TcRow } from '../ltp/write-tc';
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
  for (const s of out.subnodes) n += subnodeStreamBytes(s.data);
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
    sizeBytes += subnodeStreamBytes(s.data);
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

/**
 * Writes a table context row by row in bounded memory: heap blocks, row-matrix blocks and large
 * cell values go to the NDB as soon as they are final; the heap's first block (HNHDR) and its
 * HNBITMAPHDR blocks, which record later blocks' fill levels, are written last and the data tree
 * ties the blocks together in heap order (MS-PST 2.3.1, 2.3.4).
 * @throws PropValueError for a cell that does not fit its column
 */
export async function writeTableStreaming(ndb: NdbWriter, layout: TcLayout, rows: Iterable<TcRow | PackedTcRow>, newSubnodeNid: SubnodeNidAllocator): Promise<WrittenNode> {
  const builder = new TableContextBuilder(layout, newSubnodeNid, undefined, true);
  const heapBids: number[] = [];
  const heapSizes: number[] = [];
  const rowBids: number[] = [];
  const rowSizes: number[] = [];
  const subs: SubnodeRef[] = [];
  let sizeBytes = 0;
  const drain = async (ready: { heapBlocks: EmittedHeapBlock[]; rowBlocks: Uint8Array[]; subnodes: LtpSubnodeStream[] }) => {
    for (const h of ready.heapBlocks) {
      heapBids[h.index] = await ndb.writeBlock(h.payload);
      heapSizes[h.index] = h.payload.length;
      sizeBytes += h.payload.length;
    }
    for (const rb of ready.rowBlocks) {
      rowBids.push(await ndb.writeBlock(rb));
      rowSizes.push(rb.length);
      sizeBytes += rb.length;
    }
    for (const s of ready.subnodes) {
      const data = Array.isArray(s.data) ? Buffer.concat(s.data) : s.data;
      subs.push({ nid: s.nid, bidData: await ndb.writeStream(data), bidSub: 0 });
      sizeBytes += subnodeStreamBytes(data);
    }
  };
  for (const row of rows) {
    builder.addRow(row);
    if (builder.hasReady()) await drain(builder.takeReady());
  }
  const fin = builder.finish();
  await drain(fin);
  if (fin.rowMatrixNid !== 0) subs.push({ nid: fin.rowMatrixNid, bidData: await ndb.writeTreeOver(rowBids, rowSizes), bidSub: 0 });
  const bidData = await ndb.writeTreeOver(heapBids, heapSizes);
  subs.sort((a, b) => a.nid - b.nid);
  return { bidData, bidSub: await ndb.writeSubnodeTree(subs), sizeBytes };
}
