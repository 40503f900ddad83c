/**
 * Sizes, offsets and magic numbers of the NDB layer (MS-PST 2.2.2), Unicode unless named ANSI.
 * Each constant names the section it comes from.
 */

/** dwMagic "!BDN" (MS-PST 2.2.2.6). */
export const HEADER_MAGIC = 0x4e444221;
/** wMagicClient "SM" for PST (MS-PST 2.2.2.6). */
export const MAGIC_CLIENT_PST = 0x4d53;
/** wVer: 14/15 ANSI, 23 Unicode, 36 Unicode with 4K pages (OST only) (MS-PST 2.2.2.6). */
export const VER_ANSI_MAX = 15;
export const VER_UNICODE = 23;
export const VER_UNICODE_4K = 36;
/** wVerClient written by Outlook (MS-PST 2.2.2.6). */
export const VER_CLIENT = 19;
/** Unicode HEADER size in bytes (MS-PST 2.2.2.6); ANSI is 512. */
export const HEADER_SIZE_UNICODE = 564;
export const HEADER_SIZE_ANSI = 512;
/** CRC ranges: dwCRCPartial covers 471 bytes from offset 8, dwCRCFull 516 bytes from offset 8. */
export const HEADER_CRC_START = 8;
export const HEADER_CRC_PARTIAL_LENGTH = 471;
export const HEADER_CRC_FULL_LENGTH = 516;

/** Offsets inside the Unicode HEADER (MS-PST 2.2.2.6). */
export const HDR = {
  dwMagic: 0,
  dwCRCPartial: 4,
  wMagicClient: 8,
  wVer: 10,
  wVerClient: 12,
  bPlatformCreate: 14,
  bPlatformAccess: 15,
  dwReserved1: 16,
  dwReserved2: 20,
  bidUnused: 24,
  bidNextP: 32,
  dwUnique: 40,
  rgnid: 44,
  qwUnused: 172,
  root: 180,
  dwAlign: 252,
  rgbFM: 256,
  rgbFP: 384,
  bSentinel: 512,
  bCryptMethod: 513,
  rgbReserved: 514,
  bidNextB: 516,
  dwCRCFull: 524,
  rgbReserved2: 528,
  bReserved: 531,
  rgbReserved3: 532,
} as const;

/** Offsets inside the Unicode ROOT structure (MS-PST 2.2.2.5), relative to HDR.root. */
export const ROOT = {
  dwReserved: 0,
  ibFileEof: 4,
  ibAMapLast: 12,
  cbAMapFree: 20,
  cbPMapFree: 28,
  BREFNBT: 36,
  BREFBBT: 52,
  fAMapValid: 68,
  bReserved: 69,
  wReserved: 70,
} as const;
/** fAMapValid values (MS-PST 2.2.2.5). */
export const VALID_AMAP2 = 0x02;

/** bSentinel (MS-PST 2.2.2.6). */
export const HEADER_SENTINEL = 0x80;

/** Pages are 512 bytes with a 16-byte PAGETRAILER at 496 (MS-PST 2.2.2.7.1). */
export const PAGE_SIZE = 512;
export const PAGE_TRAILER_OFFSET = 496;
export const PAGE_TRAILER_SIZE = 16;

/** PAGETRAILER ptype values (MS-PST 2.2.2.7.1). */
export enum PageType {
  BBT = 0x80,
  NBT = 0x81,
  FMap = 0x82,
  PMap = 0x83,
  AMap = 0x84,
  FPMap = 0x85,
  DL = 0x86,
}

/** BTPAGE layout (MS-PST 2.2.2.7.7.1): entries in the first 488 bytes, then cEnt, cEntMax, cbEnt, cLevel. */
export const BTPAGE = { rgentries: 0, cEnt: 488, cEntMax: 489, cbEnt: 490, cLevel: 491, entriesSize: 488 } as const;
/** Entry sizes (MS-PST 2.2.2.7.7.2-4): BTENTRY 24, BBTENTRY 24, NBTENTRY 32 (Unicode). */
export const BTENTRY_SIZE = 24;
export const BBTENTRY_SIZE = 24;
export const NBTENTRY_SIZE = 32;

/** Blocks: 64-byte aligned, payload ≤ 8176 bytes, BLOCKTRAILER 16 bytes (MS-PST 2.2.2.8). */
export const BLOCK_ALIGN = 64;
export const MAX_BLOCK_DATA = 8176;
export const BLOCK_TRAILER_SIZE = 16;
/** Largest block on disk: 8192 bytes. */
export const MAX_BLOCK_SIZE = 8192;

/** Internal block types (MS-PST 2.2.2.8.3): btype 0x01 XBLOCK/XXBLOCK, 0x02 SLBLOCK/SIBLOCK. */
export const BTYPE_XBLOCK = 0x01;
export const BTYPE_SLBLOCK = 0x02;
/** Entries per internal block (Unicode): XBLOCK/XXBLOCK 1021 BIDs, SLBLOCK 340 SLENTRYs, SIBLOCK 510 SIENTRYs. */
export const XBLOCK_MAX_ENTRIES = 1021;
export const SLBLOCK_MAX_ENTRIES = 340;
export const SIBLOCK_MAX_ENTRIES = 510;
export const SLENTRY_SIZE = 24;
export const SIENTRY_SIZE = 16;

/** Allocation maps (MS-PST 2.2.2.7.2-6): the first AMap is at 0x4400 and maps 253,952 bytes (496·8·64). */
export const FIRST_AMAP_OFFSET = 0x4400;
export const AMAP_INTERVAL = 253952;
/** One AMap bit covers 64 bytes. */
export const AMAP_SLOT = 64;
/** A PMap page follows the AMap of every 8th interval (first at 0x4600). */
export const PMAP_EVERY_INTERVALS = 8;
/**
 * FMap pages from the 128th interval on, one every 496 intervals (an FMap byte per AMap); FPMap
 * pages from the 8192nd on, one every 496·8·8 = 31,744 intervals (an FPMap bit per PMap). Both sit
 * right after the PMap of their interval (AMap + 0x400): FMap intervals are ≡ 128 and FPMap
 * intervals ≡ 256 (mod 496), so the two never share an interval (MS-PST 2.2.2.7.5-6; placement
 * confirmed by ScanPST-validated writers, see docs/pst-format-notes.md).
 */
export const FMAP_FIRST_INTERVAL = 128;
export const FMAP_EVERY_INTERVALS = 496;
export const FPMAP_FIRST_INTERVAL = 8192;
export const FPMAP_EVERY_INTERVALS = 496 * 8 * 8;
/** The density list page (DLISTPAGE, MS-PST 2.2.2.7.4) at 0x4200. */
export const DLIST_OFFSET = 0x4200;

/** BID flag: bit 1 (0x2) marks an internal block (MS-PST 2.2.2.2); BIDs advance by 4. */
export const BID_INTERNAL = 0x2n;
export const BID_STEP = 4n;

