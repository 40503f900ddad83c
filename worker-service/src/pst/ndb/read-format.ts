/**
 * The two on-disk variants of the NDB layer (MS-PST 2.2.2): Unicode (wVer 23; 8-byte NIDs in the
 * NBT, 8-byte BIDs and IBs) and ANSI (wVer 14/15; 4-byte BIDs and IBs). Everything a reader needs to
 * know about sizes lives here so the parsers take one `NdbFormat` argument.
 */

/** Sizes (bytes) of the structures that differ between Unicode and ANSI files. */
export interface NdbFormat {
  readonly ansi: boolean;
  /** Size of a BID or IB field: 8 Unicode, 4 ANSI (MS-PST 2.2.2.2-2.2.2.3). */
  readonly idSize: 4 | 8;
  /** BREF size: 16 / 8 (MS-PST 2.2.2.4). */
  readonly brefSize: number;
  /** BTPAGE rgentries size: 488 / 496; cEnt etc. follow it (MS-PST 2.2.2.7.7.1). */
  readonly pageEntriesSize: number;
  /** PAGETRAILER size: 16 / 12, at the end of the 512-byte page (MS-PST 2.2.2.7.1). */
  readonly pageTrailerSize: number;
  /** BTENTRY 24 / 12, BBTENTRY 24 / 12, NBTENTRY 32 / 16 (MS-PST 2.2.2.7.7.2-4). */
  readonly btEntrySize: number;
  readonly bbtEntrySize: number;
  readonly nbtEntrySize: number;
  /** BLOCKTRAILER size: 16 / 12 (MS-PST 2.2.2.8.1). */
  readonly blockTrailerSize: number;
  /** Largest data block payload: 8176 / 8180 (8192 minus the trailer). */
  readonly maxBlockData: number;
  /** XBLOCK header 8 bytes both; SLBLOCK/SIBLOCK header 8 / 4 (dwPadding is Unicode only). */
  readonly slHeaderSize: number;
  /** SLENTRY 24 / 12, SIENTRY 16 / 8 (MS-PST 2.2.2.8.3.3). */
  readonly slEntrySize: number;
  readonly siEntrySize: number;
  /** Size of dwRowIndex in a TC row index BTH: 4 Unicode, 2 ANSI (MS-PST 2.3.4.3). */
  readonly rowIndexSize: 2 | 4;
}

export const UNICODE_FORMAT: NdbFormat = {
  ansi: false,
  idSize: 8,
  brefSize: 16,
  pageEntriesSize: 488,
  pageTrailerSize: 16,
  btEntrySize: 24,
  bbtEntrySize: 24,
  nbtEntrySize: 32,
  blockTrailerSize: 16,
  maxBlockData: 8176,
  slHeaderSize: 8,
  slEntrySize: 24,
  siEntrySize: 16,
  rowIndexSize: 4,
};

export const ANSI_FORMAT: NdbFormat = {
  ansi: true,
  idSize: 4,
  brefSize: 8,
  pageEntriesSize: 496,
  pageTrailerSize: 12,
  btEntrySize: 12,
  bbtEntrySize: 12,
  nbtEntrySize: 16,
  blockTrailerSize: 12,
  maxBlockData: 8180,
  slHeaderSize: 4,
  slEntrySize: 12,
  siEntrySize: 8,
  rowIndexSize: 2,
};

/** Reads a BID/IB-sized little-endian unsigned integer (4 or 8 bytes) as bigint. */
export function readId(view: DataView, offset: number, fmt: NdbFormat): bigint {
  return fmt.idSize === 8 ? view.getBigUint64(offset, true) : BigInt(view.getUint32(offset, true));
}

/** A DataView over the exact bytes of `data`. */
export function viewOf(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** A BREF (MS-PST 2.2.2.4): a BID and the file offset (IB, bytes) of what it names. */
export interface Bref {
  readonly bid: bigint;
  readonly ib: bigint;
}

/** Reads a BREF at `offset`. */
export function readBref(view: DataView, offset: number, fmt: NdbFormat): Bref {
  return { bid: readId(view, offset, fmt), ib: readId(view, offset + fmt.idSize, fmt) };
}

/** Block/page signature (MS-PST 5.5): x = (ib ^ bid) low 32 bits; wSig = (x >> 16) ^ (x & 0xffff). */
export function computeSignature(ib: bigint, bid: bigint): number {
  const x = Number((ib ^ bid) & 0xffffffffn);
  return ((x >>> 16) ^ (x & 0xffff)) & 0xffff;
}
