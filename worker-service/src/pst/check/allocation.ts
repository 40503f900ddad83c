/**
 * Allocation checks (MS-PST 2.2.2.7.2-6, 2.2.2.5): for every AMap interval, the map pages that must
 * sit at its start (AMap; PMap every 8th interval at +0x200; FMap at intervals 128 + 496n and FPMap
 * at 8192 + 31744n, both at +0x400) with valid trailers (ptype twice, wSig 0, bid = own offset,
 * dwCRC), and the AMap bits equal to exactly the 64-byte slots covered by live structures (map
 * pages, NBT/BBT pages, BBT blocks); two live structures sharing a slot is an overlap. Then the
 * ROOT's cbAMapFree/cbPMapFree and the density list (DLISTPAGE at 0x4200, 2.2.2.7.4).
 *
 * Memory: one 496-byte expected bitmap at a time; structures are visited in offset order.
 */
import { AMAP_INTERVAL, FIRST_AMAP_OFFSET, PAGE_SIZE, PageType, DLIST_OFFSET } from '../ndb/constants';
import { computeCrc } from '../ndb/crc';
import { computeSig, readU64 } from '../ndb/bytes';
import { blockSizeOnDisk } from '../ndb/read-block';
import { mapPagesOfInterval } from '../ndb/write-maps';
import type { CheckContext } from './context';
import { hex } from './types';

const MAP_BYTES = 496;
const SLOTS = MAP_BYTES * 8;
const MAP_NAME: Record<number, string> = { [PageType.AMap]: 'AMap', [PageType.PMap]: 'PMap', [PageType.FMap]: 'FMap', [PageType.FPMap]: 'FPMap', [PageType.DL]: 'DList' };

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function zeroBits(b: Uint8Array, from: number, to: number): number {
  let z = 0;
  for (let i = from; i < to; i++) {
    let v = b[i];
    v = v - ((v >> 1) & 0x55);
    v = (v & 0x33) + ((v >> 2) & 0x33);
    z += 8 - ((v + (v >> 4)) & 0x0f);
  }
  return z;
}

/** Checks a map page's PAGETRAILER; returns false when the page is not that map page at all. */
function checkMapTrailer(ctx: CheckContext, page: Uint8Array, ib: number, type: PageType): boolean {
  const { fmt, sink } = ctx;
  const t = PAGE_SIZE - fmt.pageTrailerSize;
  const name = MAP_NAME[type];
  if (page[t] !== type || page[t + 1] !== type) {
    sink.add('MapPageMissing', `${name} page expected at ${hex(ib)}: PAGETRAILER ptype/ptypeRepeat are ${hex(page[t])}/${hex(page[t + 1])}, expected ${hex(type)} (MS-PST 2.2.2.7.1-2.2.2.7.6)`, { offset: ib });
    return false;
  }
  const wSig = page[t + 2] | (page[t + 3] << 8);
  const dwCRC = fmt.ansi ? u32(page, t + 8) : u32(page, t + 4);
  const bid = fmt.ansi ? u32(page, t + 4) : readU64(page, t + 8);
  if (wSig !== 0) sink.add('PageSignature', `${name} page at ${hex(ib)}: wSig ${hex(wSig)}, expected 0 for a map page (MS-PST 2.2.2.7.1)`, { offset: ib });
  if (bid !== ib) sink.add('PageTrailer', `${name} page at ${hex(ib)}: PAGETRAILER bid ${hex(bid)}, expected its own offset ${hex(ib)} (MS-PST 2.2.2.7.1)`, { offset: ib });
  const crc = computeCrc(page, 0, t);
  if (crc !== dwCRC) sink.add('PageCrc', `${name} page at ${hex(ib)}: dwCRC ${hex(dwCRC)}, the CRC of its ${t} bytes is ${hex(crc)} (MS-PST 2.2.2.7.1, 5.3)`, { offset: ib });
  return true;
}

/** Runs every allocation check. Needs the B-tree walk and the block pass done. */
export async function checkAllocation(ctx: CheckContext): Promise<void> {
  const { fmt, sink, source, header, blocks } = ctx;
  const root = header.root;
  const eof = Math.min(Number(root.ibFileEof), source.size);
  const nIntervals = eof <= FIRST_AMAP_OFFSET ? 0 : Math.ceil((eof - FIRST_AMAP_OFFSET) / AMAP_INTERVAL);
  ctx.stats.intervals = nIntervals;
  const amapValid = root.fAMapValid === 1 || root.fAMapValid === 2;
  const bitsAt = fmt.ansi ? 4 : 0; // ANSI AMAPPAGE starts with dwPadding (MS-PST 2.2.2.7.2.1)
  const pages = Float64Array.from(ctx.pageOffsets).sort();
  const order = ctx.blocksByOffset ?? blocks.byOffset();
  let pi = 0, bi = 0;
  let amapFreeSlots = 0;
  let pmapFreePages = 0;
  let pmapPagesSeen = 0;
  const amapFree = new Map<number, number>();
  let pmap: Uint8Array | undefined;
  for (let k = 0; k < nIntervals; k++) {
    sink.tick();
    const s = FIRST_AMAP_OFFSET + k * AMAP_INTERVAL;
    const end = s + AMAP_INTERVAL;
    const expected = new Uint8Array(MAP_BYTES);
    let overlaps = 0, firstOverlap = -1, firstOverlapWhat = '';
    const mark = (ib: number, len: number, what: string) => {
      const from = Math.max(0, Math.floor((ib - s) / 64));
      const to = Math.min(SLOTS, Math.ceil((ib + len - s) / 64));
      for (let slot = from; slot < to; slot++) {
        const m = 0x80 >> (slot & 7);
        if (expected[slot >> 3] & m) {
          if (overlaps++ === 0) { firstOverlap = s + slot * 64; firstOverlapWhat = what; }
        } else expected[slot >> 3] |= m;
      }
    };
    const maps = mapPagesOfInterval(k);
    let amap: Uint8Array | undefined;
    for (let m = 0; m < maps.length; m++) {
      const ib = s + m * PAGE_SIZE;
      mark(ib, PAGE_SIZE, `${MAP_NAME[maps[m]]} page`);
      if (ib + PAGE_SIZE > source.size) {
        sink.add('MapPageMissing', `${MAP_NAME[maps[m]]} page expected at ${hex(ib)} lies past the end of the file (MS-PST 2.2.2.7.2)`, { offset: ib });
        continue;
      }
      const page = await source.read(ib, PAGE_SIZE);
      const ok = checkMapTrailer(ctx, page, ib, maps[m]);
      if (maps[m] === PageType.AMap && ok) amap = page;
      if (maps[m] === PageType.PMap) {
        pmap = ok ? page : undefined;
        if (ok) {
          pmapFreePages += zeroBits(page, bitsAt, bitsAt + MAP_BYTES);
          pmapPagesSeen++;
        }
      }
    }
    // Slots the AMap may mark allocated without a live structure (Outlook quirks, seen in its files):
    // 512-byte pages its PMap lists as free (Outlook keeps freed pages reserved in the AMap and on
    // the PMap's free list: aspose_Outlook.pst 38 such pages = cbPMapFree 19,456), and in ANSI files
    // the slots of the last, partial interval past ibFileEof (32-bit.pst).
    const excused = new Uint8Array(MAP_BYTES);
    if (pmap) {
      const base = (k % 8) * MAP_BYTES;
      for (let p = 0; p < MAP_BYTES; p++) {
        const bit = base + p;
        if ((pmap[bitsAt + (bit >> 3)] & (0x80 >> (bit & 7))) === 0) excused[p] = 0xff;
      }
    }
    if (end > eof) for (let slot = Math.max(0, Math.ceil((eof - s) / 64)); slot < SLOTS; slot++) excused[slot >> 3] |= 0x80 >> (slot & 7);
    while (pi < pages.length && pages[pi] < end) {
      if (pages[pi] >= s) mark(pages[pi], PAGE_SIZE, `B-tree page at ${hex(pages[pi])}`);
      pi++;
    }
    while (bi < order.length && blocks.ib[order[bi]] < end) {
      const i = order[bi++];
      const ib = blocks.ib[i];
      if (ib >= s) mark(ib, blockSizeOnDisk(blocks.cb[i], fmt), `block ${hex(blocks.bid[i])}`);
    }
    if (overlaps > 0) {
      sink.add('AMapOverlap', `AMap interval ${k} (${hex(s)}): ${overlaps} 64-byte slot(s) claimed by two live structures, the first at ${hex(firstOverlap)} (${firstOverlapWhat}) (MS-PST 2.2.2.7.2)`, { offset: firstOverlap });
    }
    if (!amap) continue;
    const free = zeroBits(amap, bitsAt, bitsAt + MAP_BYTES);
    amapFreeSlots += free;
    amapFree.set(k, free);
    if (!amapValid) continue;
    let usedMarkedFree = 0, freeMarkedUsed = 0, firstUsed = -1, firstFree = -1;
    for (let i = 0; i < MAP_BYTES; i++) {
      const a = amap[bitsAt + i], e = expected[i];
      if (a === e || (a & ~e & ~excused[i] & 0xff) === 0 && (e & ~a) === 0) continue;
      for (let b = 0; b < 8; b++) {
        const m = 0x80 >> b;
        if ((e & m) && !(a & m)) { if (usedMarkedFree++ === 0) firstUsed = s + (i * 8 + b) * 64; }
        else if (!(e & m) && (a & m) && !(excused[i] & m)) { if (freeMarkedUsed++ === 0) firstFree = s + (i * 8 + b) * 64; }
      }
    }
    if (usedMarkedFree) sink.add('AMapMismatch', `AMap at ${hex(s)}: ${usedMarkedFree} slot(s) of live structures are marked free, the first at ${hex(firstUsed)} (MS-PST 2.2.2.7.2)`, { offset: firstUsed });
    if (freeMarkedUsed) sink.add('AMapMismatch', `AMap at ${hex(s)}: ${freeMarkedUsed} slot(s) no live structure uses are marked allocated, the first at ${hex(firstFree)} (MS-PST 2.2.2.7.2)`, { offset: firstFree });
  }
  // Structures past the last interval were reported by the block/page checks (out of file).

  // ROOT cbAMapFree / cbPMapFree (MS-PST 2.2.2.5).
  if (amapValid && nIntervals > 0) {
    const cbAMapFree = Number(root.cbAMapFree);
    const computed = amapFreeSlots * 64;
    // Outlook keeps cbAMapFree only as an upper estimate: support.pst (Outlook-made) stores 1,002,752
    // where its AMaps have 96,448 bytes free. The check accepts any value up to the mapped capacity.
    const capacity = nIntervals * AMAP_INTERVAL;
    if (cbAMapFree > capacity) {
      sink.add('AMapFree', `ROOT cbAMapFree is ${cbAMapFree}, more than the ${capacity} bytes the ${nIntervals} AMap interval(s) map (free per the AMaps: ${computed}) (MS-PST 2.2.2.5)`, { offset: root.offset });
    }
    const cbPMapFree = Number(root.cbPMapFree);
    if (cbPMapFree !== pmapFreePages * PAGE_SIZE) {
      sink.add('PMapFree', `ROOT cbPMapFree is ${cbPMapFree}, the PMaps have ${pmapFreePages} free page(s) = ${pmapFreePages * PAGE_SIZE} bytes (MS-PST 2.2.2.5, 2.2.2.7.3)`, { offset: root.offset });
    }
  }

  await checkDList(ctx, amapFree, nIntervals);
}

/**
 * The density list (MS-PST 2.2.2.7.4) at 0x4200. Outlook treats it as a hint: passworded.pst and
 * dist-list.pst have an all-zero page there (no DList), Empty.pst a DList with dwCRC 0, and
 * aspose_SampleContacts.pst one with dwCRC 0 whose only entry is stale. So: an all-zero page is
 * accepted; otherwise ptype 0x86, wSig = ComputeSig(0x4200, bid) and dwCRC (0 or correct) are
 * checked, and a DList with a real CRC must list existing intervals with their AMaps' free slots.
 */
async function checkDList(ctx: CheckContext, amapFree: Map<number, number>, nIntervals: number): Promise<void> {
  const { fmt, sink, source } = ctx;
  if (fmt.ansi || source.size < DLIST_OFFSET + PAGE_SIZE) return;
  const page = await source.read(DLIST_OFFSET, PAGE_SIZE);
  if (page.every((b) => b === 0)) return;
  const t = PAGE_SIZE - fmt.pageTrailerSize;
  const where = { offset: DLIST_OFFSET };
  if (page[t] !== PageType.DL || page[t + 1] !== PageType.DL) {
    sink.add('DListMismatch', `DList page at 0x4200: ptype/ptypeRepeat ${hex(page[t])}/${hex(page[t + 1])}, expected 0x86 (MS-PST 2.2.2.7.4)`, where);
    return;
  }
  const wSig = page[t + 2] | (page[t + 3] << 8);
  const dwCRC = u32(page, t + 4);
  const bid = readU64(page, t + 8);
  const sig = computeSig(DLIST_OFFSET, bid);
  if (wSig !== sig) sink.add('PageSignature', `DList page at 0x4200: wSig ${hex(wSig)}, ComputeSig(0x4200, bid ${hex(bid)}) is ${hex(sig)} (MS-PST 2.2.2.7.1)`, where);
  const crc = computeCrc(page, 0, t);
  if (dwCRC !== 0 && dwCRC !== crc) sink.add('PageCrc', `DList page at 0x4200: dwCRC ${hex(dwCRC)}, the CRC of its 496 bytes is ${hex(crc)} (MS-PST 2.2.2.7.1)`, where);
  if (dwCRC === 0) return;
  const cEnt = page[1];
  const maxEnt = Math.floor((t - 8) / 4);
  if (cEnt > maxEnt) {
    sink.add('DListMismatch', `DList page at 0x4200: cEntDList ${cEnt} exceeds the ${maxEnt} entries the page holds (MS-PST 2.2.2.7.4)`, where);
    return;
  }
  const seen = new Set<number>();
  for (let e = 0; e < cEnt; e++) {
    const v = u32(page, 8 + 4 * e);
    const pageNum = v & 0xfffff, freeSlots = v >>> 20;
    // Entries past the last interval are stale, not wrong: aspose_Outlook_1.pst (5 intervals) still
    // lists intervals 6-12 of the larger file it was made from.
    if (pageNum >= nIntervals) continue;
    if (seen.has(pageNum)) {
      sink.add('DListMismatch', `DList entry ${e}: AMap page number ${pageNum} listed twice (MS-PST 2.2.2.7.4)`, where);
      continue;
    }
    seen.add(pageNum);
    const actual = amapFree.get(pageNum);
    if (actual !== undefined && actual !== freeSlots) {
      sink.add('DListMismatch', `DList entry ${e}: AMap ${pageNum} listed with ${freeSlots} free slots, its AMap has ${actual} (MS-PST 2.2.2.7.4)`, where);
    }
  }
}
