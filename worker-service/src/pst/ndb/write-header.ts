/**
 * The header region a writer rewrites at close: HEADER at 0 (MS-PST 2.2.2.6, Unicode) with its
 * ROOT (2.2.2.5), and the DLISTPAGE at 0x4200 (2.2.2.7.4). Returns the 0x4400 bytes before the
 * first AMap.
 */
import {
  DLIST_OFFSET,
  FIRST_AMAP_OFFSET,
  HDR,
  HEADER_CRC_FULL_LENGTH,
  HEADER_CRC_PARTIAL_LENGTH,
  HEADER_CRC_START,
  HEADER_MAGIC,
  HEADER_SENTINEL,
  MAGIC_CLIENT_PST,
  PAGE_SIZE,
  PAGE_TRAILER_OFFSET,
  PageType,
  ROOT,
  VALID_AMAP2,
  VER_CLIENT,
  VER_UNICODE,
  AMAP_SLOT,
} from './constants';
import { computeCrc } from './crc';
import type { CryptMethod } from './crypt';
import { computeSig, writeU16, writeU32, writeU64 } from './bytes';

/** Inputs of {@link buildHeaderRegion}; offsets and sizes in bytes. */
export interface HeaderInfo {
  cryptMethod: CryptMethod;
  fileEof: number;
  amapLast: number;
  amapFree: number;
  nbt: { bid: number; ib: number };
  bbt: { bid: number; ib: number };
  bidNextB: number;
  bidNextP: number;
  rgnid: Uint32Array;
  /** Free bytes per AMap interval, in file order (density list and initial FMap). */
  intervalFreeBytes: Float64Array;
  /** Longest free run in 64-byte slots per interval, capped at 255. */
  intervalLongestRun: Float64Array;
  /** dwUnique; any value, changed on every modification by Outlook. */
  dwUnique?: number;
}

/** DLISTPAGE layout (MS-PST 2.2.2.7.4): bFlags, cEntDList, wPadding, ulCurrentPage, 119 entries. */
const DLIST_MAX_ENTRIES = 119;
const DFL_BACKFILL_COMPLETE = 0x01;

/** Builds the 0x4400-byte header region. */
export function buildHeaderRegion(h: HeaderInfo): Uint8Array {
  const region = new Uint8Array(FIRST_AMAP_OFFSET);
  const b = region;
  writeU32(b, HDR.dwMagic, HEADER_MAGIC);
  writeU16(b, HDR.wMagicClient, MAGIC_CLIENT_PST);
  writeU16(b, HDR.wVer, VER_UNICODE);
  writeU16(b, HDR.wVerClient, VER_CLIENT);
  b[HDR.bPlatformCreate] = 0x01;
  b[HDR.bPlatformAccess] = 0x01;
  writeU64(b, HDR.bidNextP, h.bidNextP);
  writeU32(b, HDR.dwUnique, h.dwUnique ?? 1);
  for (let i = 0; i < 32; i++) writeU32(b, HDR.rgnid + i * 4, h.rgnid[i] ?? 0);
  const r = HDR.root;
  writeU64(b, r + ROOT.ibFileEof, h.fileEof);
  writeU64(b, r + ROOT.ibAMapLast, h.amapLast);
  writeU64(b, r + ROOT.cbAMapFree, h.amapFree);
  writeU64(b, r + ROOT.cbPMapFree, 0);
  writeU64(b, r + ROOT.BREFNBT, h.nbt.bid);
  writeU64(b, r + ROOT.BREFNBT + 8, h.nbt.ib);
  writeU64(b, r + ROOT.BREFBBT, h.bbt.bid);
  writeU64(b, r + ROOT.BREFBBT + 8, h.bbt.ib);
  b[r + ROOT.fAMapValid] = VALID_AMAP2;
  // rgbFM / rgbFP: deprecated initial FMap and FPMap, filled with 0xFF (MS-PST 2.2.2.6)
  b.fill(0xff, HDR.rgbFM, HDR.rgbFM + 128);
  b.fill(0xff, HDR.rgbFP, HDR.rgbFP + 128);
  b[HDR.bSentinel] = HEADER_SENTINEL;
  b[HDR.bCryptMethod] = h.cryptMethod;
  writeU64(b, HDR.bidNextB, h.bidNextB);
  writeU32(b, HDR.dwCRCPartial, computeCrc(b, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_PARTIAL_LENGTH));
  writeU32(b, HDR.dwCRCFull, computeCrc(b, HEADER_CRC_START, HEADER_CRC_START + HEADER_CRC_FULL_LENGTH));

  // Density list: AMap pages with free space, most free first (MS-PST 2.2.2.7.4.2)
  const page = region.subarray(DLIST_OFFSET, DLIST_OFFSET + PAGE_SIZE);
  const withFree: { k: number; slots: number }[] = [];
  h.intervalFreeBytes.forEach((bytes, k) => {
    if (bytes > 0) withFree.push({ k, slots: Math.min(0xfff, bytes / AMAP_SLOT) });
  });
  // ulCurrentPage: the AMap the allocator works in next (the last one); it is not listed
  const current = h.intervalFreeBytes.length - 1;
  const listed = withFree.filter((e) => e.k !== current);
  listed.sort((a, b2) => b2.slots - a.slots || a.k - b2.k);
  const entries = listed.slice(0, DLIST_MAX_ENTRIES);
  page[0] = DFL_BACKFILL_COMPLETE;
  page[1] = entries.length;
  writeU32(page, 4, Math.max(0, current));
  entries.forEach((e, i) => writeU32(page, 8 + i * 4, ((e.slots & 0xfff) << 20 | (e.k & 0xfffff)) >>> 0));
  // trailer: ptype 0x86, wSig from (0x4200, bid), bid = the header's bidNextP (not consumed)
  page[PAGE_TRAILER_OFFSET] = PageType.DL;
  page[PAGE_TRAILER_OFFSET + 1] = PageType.DL;
  writeU16(page, PAGE_TRAILER_OFFSET + 2, computeSig(DLIST_OFFSET, h.bidNextP));
  writeU32(page, PAGE_TRAILER_OFFSET + 4, computeCrc(page, 0, PAGE_TRAILER_OFFSET));
  writeU64(page, PAGE_TRAILER_OFFSET + 8, h.bidNextP);
  return region;
}
