/**
 * What an LTP builder hands to the NDB writer for one node: the heap's block payloads (the node's
 * data tree) and the values that went to subnodes (MS-PST 2.3.3.3 / 2.3.4.4: values > 3580 bytes
 * and large row matrices live in the node's subnode tree).
 */
export interface LtpSubnodeStream {
  /** Subnode NID (unique within the node's subnode tree). */
  nid: number;
  /**
   * The stream: whole bytes (split at 8176 bytes), ready block payloads (row matrices), or a string
   * standing for its UTF-16LE code units (a long PtypString value), encoded straight into the
   * blocks when written (4,088 code units a block). Its size: {@link subnodeStreamBytes}.
   */
  data: Uint8Array | Uint8Array[] | string;
}

/** Bytes of a subnode stream as stored (a string: 2 a UTF-16 code unit). */
export function subnodeStreamBytes(data: LtpSubnodeStream['data']): number {
  if (typeof data === 'string') return data.length * 2;
  if (Array.isArray(data)) {
    let n = 0;
    for (const b of data) n += b.length;
    return n;
  }
  return data.length;
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
