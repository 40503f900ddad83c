/**
 * Property context builder (MS-PST 2.3.3): a heap-on-node (bClientSig 0xBC) holding a BTH with
 * 2-byte property ids as keys and 6-byte (wPropType, dwValueHnid) records. Values of ≤ 4 fixed bytes
 * are inline; others are heap allocations (≤ 3580 bytes) or subnodes.
 */
import type { PropType, PropValue } from '../../mapi/types';
import { writeU16, writeU32 } from '../ndb/bytes';
import { ClientSig, MAX_HEAP_ALLOC } from './constants';
import { reserveBthHeader, writeBth } from './write-bth';
import { HeapBuilder } from './write-heap';
import type { LtpNodeOutput, LtpSubnodeStream, SubnodeNidAllocator } from './write-node';
import { encodePropValue, isInlineInPc } from './write-value';

/** A property as the PC stores it: the store-local id (named properties already mapped to 0x8000+). */
export interface PcProperty {
  id: number;
  type: PropType;
  /** The value; PtypObject values are the 8-byte (nid, ulSize) reference, already encoded. */
  value: PropValue;
}

/**
 * A PtypInteger32 property whose value is the object's size: the PC's own bytes (heap blocks and
 * subnode streams) plus `extraBytes` (already-written children such as attachments and tables).
 */
export interface PcSizeProperty {
  id: number;
  extraBytes: number;
}

/**
 * Builds a PC node. Properties with the same id: the last wins.
 * @param codepage  code page for PtypString8 values
 * @throws PropValueError when a value's shape does not match its type
 */
export function buildPropertyContext(props: Iterable<PcProperty>, newSubnodeNid: SubnodeNidAllocator, codepage?: number, sizeProperty?: PcSizeProperty): LtpNodeOutput {
  const heap = new HeapBuilder(ClientSig.PC);
  // the BTHHEADER first: HID 0x20, where Outlook puts it and where java-libpst/pst-extractor look
  const headerHid = reserveBthHeader(heap);
  const subnodes: LtpSubnodeStream[] = [];
  const byId = new Map<number, PcProperty>();
  for (const p of props) byId.set(p.id, p);
  const records: Uint8Array[] = [];
  for (const id of [...byId.keys()].sort((a, b) => a - b)) {
    const p = byId.get(id)!;
    const bytes = encodePropValue(p.type, p.value, codepage);
    const rec = new Uint8Array(8);
    writeU16(rec, 0, id);
    writeU16(rec, 2, p.type);
    if (isInlineInPc(p.type)) {
      rec.set(bytes, 4);
    } else if (bytes.length === 0) {
      writeU32(rec, 4, 0); // an empty value is HNID 0, as Outlook writes it (libpst misreads zero-length allocations)
    } else if (bytes.length <= MAX_HEAP_ALLOC) {
      writeU32(rec, 4, heap.allocate(bytes));
    } else {
      const nid = newSubnodeNid();
      subnodes.push({ nid, data: bytes });
      writeU32(rec, 4, nid);
    }
    records.push(rec);
  }
  const leaves: Uint8Array[] = [];
  heap.setUserRoot(writeBth(heap, 2, 6, records, headerHid, leaves));
  if (sizeProperty) {
    // the size is an inline 4-byte value: setting it does not move anything, so measure, then patch
    const i = records.findIndex((r) => (r[0] | (r[1] << 8)) === sizeProperty.id);
    if (i < 0) throw new RangeError(`size property 0x${sizeProperty.id.toString(16)} is not among the properties`);
    let total = heap.sizeBytes() + sizeProperty.extraBytes;
    for (const sn of subnodes) total += (sn.data as Uint8Array).length;
    const perLeaf = Math.floor(MAX_HEAP_ALLOC / 8);
    const value = Math.min(total, 0x7fffffff);
    writeU32(leaves[Math.floor(i / perLeaf)], (i % perLeaf) * 8 + 4, value);
    return { blocks: heap.finish(), subnodes, sizeValue: value };
  }
  return { blocks: heap.finish(), subnodes };
}
