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
 * Builds a PC node. Properties with the same id: the last wins.
 * @param codepage  code page for PtypString8 values
 * @throws PropValueError when a value's shape does not match its type
 */
export function buildPropertyContext(props: Iterable<PcProperty>, newSubnodeNid: SubnodeNidAllocator, codepage?: number): LtpNodeOutput {
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
  heap.setUserRoot(writeBth(heap, 2, 6, records, headerHid));
  return { blocks: heap.finish(), subnodes };
}
