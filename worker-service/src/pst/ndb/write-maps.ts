/**
 * Allocation map pages a writer lays at the start of each AMap interval (MS-PST 2.2.2.7.2 AMap,
 * 2.2.2.7.3 PMap, 2.2.2.7.5 FMap, 2.2.2.7.6 FPMap) and the density list (2.2.2.7.4 DLISTPAGE).
 */
import {
  AMAP_INTERVAL,
  AMAP_SLOT,
  FIRST_AMAP_OFFSET,
  FMAP_EVERY_INTERVALS,
  FMAP_FIRST_INTERVAL,
  FPMAP_EVERY_INTERVALS,
  FPMAP_FIRST_INTERVAL,
  PAGE_SIZE,
  PAGE_TRAILER_OFFSET,
  PMAP_EVERY_INTERVALS,
  PageType,
} from './constants';
import { computeCrc } from './crc';
import { writeU16, writeU32, writeU64 } from './bytes';

/** The map pages that sit at the start of interval `k` (interval 0 starts at 0x4400), in file order. */
export function mapPagesOfInterval(k: number): PageType[] {
  const pages: PageType[] = [PageType.AMap];
  if (k % PMAP_EVERY_INTERVALS === 0) pages.push(PageType.PMap);
  if (k >= FMAP_FIRST_INTERVAL && (k - FMAP_FIRST_INTERVAL) % FMAP_EVERY_INTERVALS === 0) pages.push(PageType.FMap);
  if (k >= FPMAP_FIRST_INTERVAL && (k - FPMAP_FIRST_INTERVAL) % FPMAP_EVERY_INTERVALS === 0) pages.push(PageType.FPMap);
  return pages;
}

/** File offset where interval `k` (and its AMap page) begins. */
export function intervalOffset(k: number): number {
  return FIRST_AMAP_OFFSET + k * AMAP_INTERVAL;
}

/**
 * Writes a map page's trailer (MS-PST 2.2.2.7.1): ptype twice, wSig 0, CRC of the first 496 bytes,
 * and the page's own file offset as its BID (map pages are not in the BBT).
 */
export function sealMapPage(page: Uint8Array, type: PageType, ib: number): void {
  page[PAGE_TRAILER_OFFSET] = type;
  page[PAGE_TRAILER_OFFSET + 1] = type;
  writeU16(page, PAGE_TRAILER_OFFSET + 2, 0);
  writeU32(page, PAGE_TRAILER_OFFSET + 4, computeCrc(page, 0, PAGE_TRAILER_OFFSET));
  writeU64(page, PAGE_TRAILER_OFFSET + 8, ib);
}

/**
 * Longest run of free (zero) bits in an AMap bitmap, in bits — the value an FMap byte records for
 * that AMap (MS-PST 2.2.2.7.5), capped at 255.
 */
export function longestFreeRun(bitmap: Uint8Array): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < bitmap.length; i++) {
    const byte = bitmap[i];
    if (byte === 0) {
      run += 8;
      if (run > best) best = run;
      continue;
    }
    for (let b = 7; b >= 0; b--) {
      if ((byte >> b) & 1) run = 0;
      else if (++run > best) best = run;
    }
  }
  return Math.min(best, 255);
}

/** Number of free 64-byte slots in an AMap bitmap. */
export function freeSlots(bitmap: Uint8Array): number {
  let free = 0;
  for (let i = 0; i < bitmap.length; i++) {
    let v = bitmap[i];
    // popcount
    v = v - ((v >> 1) & 0x55);
    v = (v & 0x33) + ((v >> 2) & 0x33);
    free += 8 - ((v + (v >> 4)) & 0x0f);
  }
  return free;
}

/** Bytes an AMap interval maps, for callers that report free space in bytes. */
export const BYTES_PER_SLOT = AMAP_SLOT;
export const INTERVAL_PAGES = AMAP_INTERVAL / PAGE_SIZE;
