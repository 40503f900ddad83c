/**
 * BTree-on-heap read side (MS-PST 2.3.2): BTHHEADER (2.3.2.1), intermediate (2.3.2.2) and leaf
 * (2.3.2.3) records. Keys and data are returned as bytes; PC and TC give them meaning.
 */
import { PstReadError } from '../ndb/read-error';
import { viewOf } from '../ndb/read-format';
import { ClientSig } from './constants';
import type { HeapOnNode } from './read-heap';

/** BTHHEADER (MS-PST 2.3.2.1): key and data sizes in bytes, index depth, root HID (0 = empty). */
export interface BthHeader {
  readonly bType: number;
  readonly cbKey: number;
  readonly cbEnt: number;
  readonly bIdxLevels: number;
  readonly hidRoot: number;
}

/** One leaf record: cbKey bytes of key, cbEnt bytes of data (views into the heap). */
export interface BthRecord {
  readonly key: Uint8Array;
  readonly data: Uint8Array;
}

/** Deepest BTH index accepted (a heap of ≤ 3580-byte allocations never needs more). */
export const MAX_BTH_LEVELS = 8;

/** Reads the BTHHEADER at `hid`. @throws PstReadError "BadBTreeOnHeap" plus heap errors */
export function readBthHeader(heap: HeapOnNode, hid: number): BthHeader {
  const b = heap.get(hid);
  if (b.length < 8) throw new PstReadError('BadBTreeOnHeap', 'BTHHEADER shorter than 8 bytes', { nid: heap.nid, hid });
  const h = { bType: b[0], cbKey: b[1], cbEnt: b[2], bIdxLevels: b[3], hidRoot: viewOf(b).getUint32(4, true) };
  if (h.bType !== ClientSig.BTH) throw new PstReadError('BadBTreeOnHeap', 'BTHHEADER bType is not 0xB5 (MS-PST 2.3.2.1)', { nid: heap.nid, hid, bType: h.bType });
  if (![2, 4, 8, 16].includes(h.cbKey) || h.cbEnt < 1 || h.cbEnt > 32 || h.bIdxLevels > MAX_BTH_LEVELS) {
    throw new PstReadError('BadBTreeOnHeap', 'BTHHEADER cbKey/cbEnt/bIdxLevels out of range', { nid: heap.nid, hid, ...h });
  }
  return h;
}

/**
 * Every leaf record of the BTH whose header is at `hid`, in key order.
 * @throws PstReadError "BadBTreeOnHeap" (record sizes, a HID reached twice) plus heap errors */
export function readBthRecords(heap: HeapOnNode, hid: number): { header: BthHeader; records: BthRecord[] } {
  const header = readBthHeader(heap, hid);
  const records: BthRecord[] = [];
  if (header.hidRoot === 0) return { header, records };
  const visited = new Set<number>();
  const walk = (h: number, level: number) => {
    if (visited.has(h)) throw new PstReadError('BadBTreeOnHeap', 'BTH record block reached twice', { nid: heap.nid, hid: h });
    visited.add(h);
    const b = heap.get(h);
    const size = level > 0 ? header.cbKey + 4 : header.cbKey + header.cbEnt;
    if (b.length % size !== 0) throw new PstReadError('BadBTreeOnHeap', 'BTH record block size is not a multiple of the record size', { nid: heap.nid, hid: h, length: b.length, size });
    const v = viewOf(b);
    for (let o = 0; o < b.length; o += size) {
      if (level > 0) walk(v.getUint32(o + header.cbKey, true), level - 1);
      else records.push({ key: b.subarray(o, o + header.cbKey), data: b.subarray(o + header.cbKey, o + size) });
    }
  };
  walk(header.hidRoot, header.bIdxLevels);
  return { header, records };
}
