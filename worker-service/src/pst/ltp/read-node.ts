/**
 * An LTP node (MS-PST 2.3): a node's heap plus its subnodes, and HNID resolution (MS-PST 2.3.3.2):
 * an HNID whose low 5 bits are 0 is a HID into the heap, otherwise a subnode NID whose data stream
 * holds the value.
 */
import { PstReadError } from '../ndb/read-error';
import type { NdbReader, NodeRef } from '../ndb/read-ndb';
import type { SlEntry } from '../ndb/read-block';
import { HeapOnNode, isHid } from './read-heap';

/** A node opened for the LTP layer: heap over its data blocks, subnodes read on first use. */
export class LtpNode {
  private subnodeMap?: Map<number, SlEntry>;

  private constructor(readonly ndb: NdbReader, readonly node: NodeRef, readonly heap: HeapOnNode) {}

  /** Reads a node's data blocks and parses them as a heap (MS-PST 2.3.1). @throws PstReadError */
  static async open(ndb: NdbReader, node: NodeRef): Promise<LtpNode> {
    if (node.bidData === 0n) throw new PstReadError('BadHeap', 'node has no data block', { nid: node.nid });
    const blocks = await ndb.readDataBlocks(node.bidData);
    return new LtpNode(ndb, node, new HeapOnNode(blocks, node.nid));
  }

  /** The node's subnodes by NID (MS-PST 2.2.2.8.3.3). */
  async subnodes(): Promise<Map<number, SlEntry>> {
    if (!this.subnodeMap) this.subnodeMap = await this.ndb.readSubnodes(this.node.bidSub);
    return this.subnodeMap;
  }

  /** One subnode; throws "SubnodeNotFound" when absent. */
  async subnode(nid: number): Promise<SlEntry> {
    const e = (await this.subnodes()).get(nid);
    if (!e) throw new PstReadError('SubnodeNotFound', 'NID is not among the node\'s subnodes', { nid, parentNid: this.node.nid });
    return e;
  }

  /**
   * The bytes an HNID names: a heap allocation, or a subnode's whole data stream. HNID 0 is empty.
   * @throws PstReadError heap errors, "SubnodeNotFound", block errors */
  async readHnid(hnid: number): Promise<Uint8Array> {
    if (hnid === 0) return new Uint8Array(0);
    if (isHid(hnid)) return this.heap.get(hnid);
    const sn = await this.subnode(hnid);
    return this.ndb.readData(sn.bidData);
  }
}
