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

/** Typed array constructors a {@link NumberColumn} can use, by the range of values it holds. */
export type ColumnKind = 'f64' | 'u32' | 'u16' | 'u8';
type ColumnArray = Float64Array | Uint32Array | Uint16Array | Uint8Array;
const COLUMN_CTOR: Record<ColumnKind, new (n: number) => ColumnArray> = { f64: Float64Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array };

/**
 * A growable array of numbers in a typed array (no per-element objects): 'f64' for values up to
 * 2^53 (BIDs, file offsets), 'u32' for NIDs and counts, 'u16'/'u8' for small fields. Grows by 1.5×.
 */
export class NumberColumn {
  private data: ColumnArray;
  length = 0;
  constructor(initialCapacity = 1024, private readonly kind: ColumnKind = 'f64') {
    this.data = new COLUMN_CTOR[kind](initialCapacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new COLUMN_CTOR[this.kind](Math.ceil(this.data.length * 1.5) + 16);
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
  view(): ColumnArray {
    return this.data.subarray(0, this.length);
  }
  /** Bytes held (capacity × element size). */
  get byteLength(): number {
    return this.data.byteLength;
  }
}
