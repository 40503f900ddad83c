/**
 * BTree-on-heap builder (MS-PST 2.3.2): sorted fixed-size records packed into leaf allocations of
 * ≤ 3580 bytes, with intermediate levels of (key, HID) records until one allocation remains.
 */
import { writeU32 } from '../ndb/bytes';
import { ClientSig, MAX_HEAP_ALLOC } from './constants';
import type { HeapBuilder } from './write-heap';

/** BTHHEADER.bType (MS-PST 2.3.2.1). */
const BTH_TYPE = ClientSig.BTH;

/** BTHHEADER size (MS-PST 2.3.2.1). */
export const BTH_HEADER_SIZE = 8;

/** Reserves a BTHHEADER so that it gets the heap's first HID (0x20) as Outlook's heaps do. */
export function reserveBthHeader(heap: HeapBuilder): number {
  return heap.allocate(new Uint8Array(BTH_HEADER_SIZE));
}

/**
 * Writes a BTH into `heap` and returns the HID of its BTHHEADER.
 * @param records  the records packed back to back, cbKey + cbEnt bytes each, sorted by key
 *   (little-endian unsigned key compare)
 * @param headerHid  a header reserved earlier with {@link reserveBthHeader}; allocated last when absent
 * @param leavesOut  receives the leaf allocations (records in order, ⌊3580 / record size⌋ a leaf);
 *   they are views of `records`, so a caller may patch a record in `records` until the heap is finished
 */
export function writeBth(heap: HeapBuilder, cbKey: number, cbEnt: number, records: Uint8Array, headerHid?: number, leavesOut?: Uint8Array[]): number {
  let level: { key: Uint8Array; hid: number }[] = [];
  const recSize = cbKey + cbEnt;
  const perLeaf = Math.floor(MAX_HEAP_ALLOC / recSize);
  const count = Math.floor(records.length / recSize);
  for (let i = 0; i < count; i += perLeaf) {
    const leaf = records.subarray(i * recSize, Math.min(count, i + perLeaf) * recSize);
    leavesOut?.push(leaf);
    level.push({ key: leaf.subarray(0, cbKey), hid: heap.allocate(leaf) });
  }
  let idxLevels = 0;
  const interSize = cbKey + 4;
  const perInter = Math.floor(MAX_HEAP_ALLOC / interSize);
  while (level.length > 1) {
    const next: typeof level = [];
    for (let i = 0; i < level.length; i += perInter) {
      const part = level.slice(i, i + perInter);
      const buf = new Uint8Array(part.length * interSize);
      part.forEach((r, j) => {
        buf.set(r.key, j * interSize);
        writeU32(buf, j * interSize + cbKey, r.hid);
      });
      next.push({ key: part[0].key, hid: heap.allocate(buf) });
    }
    level = next;
    idxLevels++;
  }
  const header = new Uint8Array(8);
  header[0] = BTH_TYPE;
  header[1] = cbKey;
  header[2] = cbEnt;
  header[3] = idxLevels;
  writeU32(header, 4, level.length ? level[0].hid : 0);
  if (headerHid === undefined) return heap.allocate(header);
  heap.replace(headerHid, header);
  return headerHid;
}
