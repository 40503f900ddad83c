/**
 * Heap-on-node read side (MS-PST 2.3.1): a heap spread over the data blocks of one node, with
 * HNHDR in block 0 (2.3.1.2), HNPAGEHDR / HNBITMAPHDR in later blocks (2.3.1.3-4) and an
 * HNPAGEMAP per block (2.3.1.5). `get(hid)` returns the bytes of one allocation.
 */
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';
import { HN_SIGNATURE, HNHDR_SIZE } from './constants';

/** HNHDR (MS-PST 2.3.1.2). hidUserRoot is the client's root allocation (BTH header, TCINFO). */
export interface HnHdr {
  readonly ibHnpm: number;
  readonly bSig: number;
  readonly bClientSig: number;
  readonly hidUserRoot: number;
  /** rgbFillLevel of blocks 0-7, one 4-bit value each. */
  readonly rgbFillLevel: number;
}

/** HNPAGEMAP (MS-PST 2.3.1.5) of one heap block; rgibAlloc has cAlloc + 1 offsets (bytes). */
export interface HnPageMap {
  readonly blockIndex: number;
  readonly ibHnpm: number;
  readonly cAlloc: number;
  readonly cFree: number;
  readonly rgibAlloc: readonly number[];
}

/** HID parts (MS-PST 2.3.1.1): hidType (5 bits, 0), hidIndex (11 bits, 1-based), hidBlockIndex (16 bits). */
export function splitHid(hid: number): { hidType: number; hidIndex: number; hidBlockIndex: number } {
  return { hidType: hid & 0x1f, hidIndex: (hid >>> 5) & 0x7ff, hidBlockIndex: hid >>> 16 };
}

/** True when an HNID (MS-PST 2.3.3.2) names a heap allocation (nidType 0) rather than a subnode. */
export function isHid(hnid: number): boolean {
  return (hnid & 0x1f) === 0;
}

/** A heap-on-node over the node's data blocks. */
export class HeapOnNode {
  readonly hnhdr: HnHdr;
  readonly pageMaps: readonly HnPageMap[];

  /**
   * Parses the heap headers and every block's HNPAGEMAP.
   * @param blocks  the node's data blocks, decoded (MS-PST 2.2.2.8.3.2)
   * @param nid     for error details
   * @throws PstReadError "BadHeap" (bad signature, page map outside the block, offsets not increasing) */
  constructor(readonly blocks: readonly Uint8Array[], readonly nid: number) {
    if (blocks.length === 0 || blocks[0].length < HNHDR_SIZE) throw new PstReadError('BadHeap', 'node has no heap (data shorter than HNHDR)', { nid });
    const v0 = viewOf(blocks[0]);
    this.hnhdr = { ibHnpm: v0.getUint16(0, true), bSig: blocks[0][2], bClientSig: blocks[0][3], hidUserRoot: v0.getUint32(4, true), rgbFillLevel: v0.getUint32(8, true) };
    if (this.hnhdr.bSig !== HN_SIGNATURE) throw new PstReadError('BadHeap', 'HNHDR bSig is not 0xEC (MS-PST 2.3.1.2)', { nid, bSig: this.hnhdr.bSig });
    this.pageMaps = blocks.map((b, i) => parsePageMap(b, i, nid));
  }

  get bClientSig(): number {
    return this.hnhdr.bClientSig;
  }

  /**
   * The bytes of allocation `hid` (a view into the block; do not modify).
   * @throws PstReadError "BadHid" (hidType not 0, index 0), "HeapOutOfBounds" (block or index missing) */
  get(hid: number): Uint8Array {
    const { hidType, hidIndex, hidBlockIndex } = splitHid(hid);
    if (hidType !== 0 || hidIndex === 0) throw new PstReadError('BadHid', 'not a heap id (hidType must be 0, hidIndex ≥ 1; MS-PST 2.3.1.1)', { nid: this.nid, hid });
    const pm = this.pageMaps[hidBlockIndex];
    if (!pm || hidIndex > pm.cAlloc) throw new PstReadError('HeapOutOfBounds', 'HID names an allocation that does not exist', { nid: this.nid, hid, blocks: this.blocks.length });
    return this.blocks[hidBlockIndex].subarray(pm.rgibAlloc[hidIndex - 1], pm.rgibAlloc[hidIndex]);
  }
}

function parsePageMap(block: Uint8Array, blockIndex: number, nid: number): HnPageMap {
  if (block.length < 2) throw new PstReadError('BadHeap', 'heap block shorter than its header', { nid, blockIndex });
  const v = viewOf(block);
  const ibHnpm = v.getUint16(0, true);
  if (ibHnpm + 4 > block.length) throw new PstReadError('BadHeap', 'ibHnpm points outside the block', { nid, blockIndex, ibHnpm });
  const cAlloc = v.getUint16(ibHnpm, true);
  const cFree = v.getUint16(ibHnpm + 2, true);
  if (ibHnpm + 4 + 2 * (cAlloc + 1) > block.length) throw new PstReadError('BadHeap', 'HNPAGEMAP passes the end of the block', { nid, blockIndex, cAlloc });
  const rgibAlloc: number[] = [];
  for (let i = 0; i <= cAlloc; i++) rgibAlloc.push(v.getUint16(ibHnpm + 4 + 2 * i, true));
  for (let i = 0; i < cAlloc; i++) {
    if (rgibAlloc[i] > rgibAlloc[i + 1] || rgibAlloc[i + 1] > ibHnpm) {
      throw new PstReadError('BadHeap', 'rgibAlloc offsets must increase and stay before the page map (MS-PST 2.3.1.5)', { nid, blockIndex, index: i });
    }
  }
  return { blockIndex, ibHnpm, cAlloc, cFree, rgibAlloc };
}
