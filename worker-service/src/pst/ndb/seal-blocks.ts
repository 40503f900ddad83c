/**
 * The last step of writing a block (MS-PST 2.2.2.8.1), done for a whole AMap interval at once: each
 * listed block's payload is encoded in place (permute, MS-PST 5.1, for external blocks of a
 * permute-encoded store) and its BLOCKTRAILER dwCRC is set to the CRC of the stored (encoded) bytes
 * (MS-PST 5.3). Pure and synchronous: NdbWriter runs it on its own thread or in the sealing thread
 * (ndb/seal-thread.ts) while it lays out the next interval.
 */
import { writeU32 } from './bytes';
import { BLOCK_ALIGN, BLOCK_TRAILER_SIZE } from './constants';
import { computeCrc } from './crc';
import { permuteInto } from './crypt';

/** Int32 values a block takes in a seal list: offset in the interval, cb, flags. */
export const SEAL_ENTRY = 3;
/** Seal-list flag: encode the payload with the permute encoding before its CRC. */
export const SEAL_PERMUTE = 1;

/**
 * Seals `count` blocks of `buf` (one AMap interval) listed in `list` as (offset, cb, flags) triples:
 * the payload at [offset, offset + cb) is permuted in place when flags has SEAL_PERMUTE, then the
 * CRC goes into the trailer at offset + alignUp(cb + 16, 64) − 16 + 4.
 * @throws RangeError when an entry lies outside `buf` (a bug, never input)
 */
export function sealBlocks(buf: Uint8Array, list: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const off = list[i * SEAL_ENTRY];
    const cb = list[i * SEAL_ENTRY + 1];
    const trailer = off + ((cb + BLOCK_TRAILER_SIZE + BLOCK_ALIGN - 1) & ~(BLOCK_ALIGN - 1)) - BLOCK_TRAILER_SIZE;
    if (off < 0 || trailer + BLOCK_TRAILER_SIZE > buf.length) throw new RangeError(`seal list entry ${i} (offset ${off}, cb ${cb}) passes the interval`);
    const data = buf.subarray(off, off + cb);
    if (list[i * SEAL_ENTRY + 2] & SEAL_PERMUTE) permuteInto(data, buf, off);
    writeU32(buf, trailer + 4, computeCrc(data));
  }
}
