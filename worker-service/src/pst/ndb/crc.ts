/**
 * CRC-32 as MS-PST 5.3 defines it: the 0xEDB88320 (reflected IEEE) table, initial value 0 and no
 * final XOR. zlib's crc32 pre- and post-inverts, so `~crc32(buf, ~0)` is the MS-PST CRC.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';

/** ComputeCRC(0, pv, cbLength) of MS-PST 5.3 over `data[start, end)`; returns an unsigned 32-bit number. */
export function computeCrc(data: Uint8Array, start = 0, end = data.length): number {
  const view = start === 0 && end === data.length ? data : data.subarray(start, end);
  return ~zlibCrc32(view, 0xffffffff) >>> 0;
}
