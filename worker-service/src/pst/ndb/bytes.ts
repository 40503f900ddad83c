/**
 * Little-endian helpers for the on-disk structures. 64-bit fields (BID, IB, NID in Unicode) are
 * carried as JavaScript numbers: file offsets and BIDs stay far below 2^53 in any real PST.
 */

/** Writes an unsigned 64-bit little-endian integer held in a safe-integer `number`. */
export function writeU64(buf: Uint8Array, offset: number, value: number): void {
  const lo = value % 0x100000000;
  const hi = Math.floor(value / 0x100000000);
  writeU32(buf, offset, lo);
  writeU32(buf, offset + 4, hi);
}
/** Reads an unsigned 64-bit little-endian integer; values above 2^53 lose precision (callers check). */
export function readU64(buf: Uint8Array, offset: number): number {
  return readU32(buf, offset) + readU32(buf, offset + 4) * 0x100000000;
}
/** Writes an unsigned 32-bit little-endian integer. */
export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = (value >>> 24) & 0xff;
}
/** Reads an unsigned 32-bit little-endian integer. */
export function readU32(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
}
/** Writes an unsigned 16-bit little-endian integer. */
export function writeU16(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
}
/** Reads an unsigned 16-bit little-endian integer. */
export function readU16(buf: Uint8Array, offset: number): number {
  return buf[offset] | (buf[offset + 1] << 8);
}

/** Block/page signature wSig (MS-PST 5.5 ComputeSig): fold the low 32 bits of ib XOR bid to 16 bits. */
export function computeSig(ib: number, bid: number): number {
  const x = ((ib >>> 0) ^ (bid >>> 0)) >>> 0;
  return ((x >>> 16) ^ (x & 0xffff)) & 0xffff;
}

/** Rounds `n` up to a multiple of `align` (a power of two or any positive integer). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** A growable array of numbers backed by a Float64Array (8 bytes a value, no per-element objects). */
export class NumberColumn {
  private data: Float64Array;
  length = 0;
  constructor(initialCapacity = 1024) {
    this.data = new Float64Array(initialCapacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  get(i: number): number {
    return this.data[i];
  }
  set(i: number, v: number): void {
    this.data[i] = v;
  }
  /** The values as a trimmed view (shares memory). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
