/**
 * Property context builder (MS-PST 2.3.3): a heap-on-node (bClientSig 0xBC) holding a BTH with
 * 2-byte property ids as keys and 6-byte (wPropType, dwValueHnid) records. Values of ≤ 4 fixed bytes
 * are inline; others are heap allocations (≤ 3580 bytes) or subnodes.
 */
import { PropType, type PropValue } from '../../mapi/types';
import { writeU16, writeU32 } from '../ndb/bytes';
import { ClientSig, MAX_HEAP_ALLOC } from './constants';
import { reserveBthHeader, writeBth } from './write-bth';
import { HeapBuilder } from './write-heap';
import { subnodeStreamBytes, type LtpNodeOutput, type LtpSubnodeStream, type SubnodeNidAllocator } from './write-node';
import { encodePropValue, isInlineInPc, writeFixedValue } from './write-value';

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
  const list = [...byId.values()].sort((a, b) => a.id - b.id);
  // the BTH records (wPropId, wPropType, dwValueHnid), 8 bytes each, packed back to back
  const records = new Uint8Array(list.length * 8);
  let sizeIndex = -1;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    const o = i * 8;
    writeU16(records, o, p.id);
    writeU16(records, o + 2, p.type);
    if (sizeProperty && p.id === sizeProperty.id) sizeIndex = i;
    if (isInlineInPc(p.type)) {
      writeFixedValue(records, o + 4, p.type, p.value);
      continue;
    }
    // a PtypString stays a string: its UTF-16LE (what encodePropValue gives) is encoded straight
    // into its heap block or subnode data blocks, without a buffer of its own
    const value = p.type === PropType.String && typeof p.value === 'string' ? p.value : encodePropValue(p.type, p.value, codepage);
    const size = typeof value === 'string' ? value.length * 2 : value.length;
    if (size === 0) {
      // an empty value is HNID 0, as Outlook writes it (libpst misreads zero-length allocations)
    } else if (size <= MAX_HEAP_ALLOC) {
      writeU32(records, o + 4, heap.allocate(value));
    } else {
      const nid = newSubnodeNid();
      subnodes.push({ nid, data: value });
      writeU32(records, o + 4, nid);
    }
  }
  heap.setUserRoot(writeBth(heap, 2, 6, records, headerHid));
  if (sizeProperty) {
    // the size is an inline 4-byte value: setting it does not move anything, so measure, then patch
    // (the BTH leaves are views of `records`)
    if (sizeIndex < 0) throw new RangeError(`size property 0x${sizeProperty.id.toString(16)} is not among the properties`);
    let total = heap.sizeBytes() + sizeProperty.extraBytes;
    for (const sn of subnodes) total += subnodeStreamBytes(sn.data);
    const value = Math.min(total, 0x7fffffff);
    writeU32(records, sizeIndex * 8 + 4, value);
    return { blocks: heap.finish(), subnodes, sizeValue: value };
  }
  return { blocks: heap.finish(), subnodes };
}
