/**
 * What an LTP builder hands to the NDB writer for one node: the heap's block payloads (the node's
 * data tree) and the values that went to subnodes (MS-PST 2.3.3.3 / 2.3.4.4: values > 3580 bytes
 * and large row matrices live in the node's subnode tree).
 */
export interface LtpSubnodeStream {
  /** Subnode NID (unique within the node's subnode tree). */
  nid: number;
  /** The stream, either whole (split at 8176 bytes) or as ready block payloads (row matrices). */
  data: Uint8Array | Uint8Array[];
}

/** One node's LTP output. */
export interface LtpNodeOutput {
  blocks: Uint8Array[];
  subnodes: LtpSubnodeStream[];
  /** The value written for a PC's size property (see PcSizeProperty), when one was asked for. */
  sizeValue?: number;
}

/** Allocates subnode NIDs for a node (NID_TYPE_LTP unless the caller wants another type). */
export type SubnodeNidAllocator = () => number;
