/**
 * NBT and BBT walk (MS-PST 2.2.2.7.7): every page's PAGETRAILER (2.2.2.7.1: ptype/ptypeRepeat, bid
 * as the BREF says, wSig = ComputeSig(ib, bid), dwCRC over the first 496/500 bytes), BTPAGE fields
 * (cbEnt and cEntMax as the spec gives them, cEnt ≤ cEntMax, cLevel one less than the parent's),
 * keys strictly increasing within and across pages, each BTENTRY's btkey equal to the first key of
 * its child and every child key below the next BTENTRY's key, no page reached twice, depth ≤ 8.
 * Leaf entries are recorded in the block and node tables for the later checks.
 */
import { PAGE_SIZE, PageType } from '../ndb/constants';
import { computeCrc } from '../ndb/crc';
import { readU64 } from '../ndb/bytes';
import { computeSig } from '../ndb/bytes';
import type { CheckContext } from './context';
import { hex } from './types';

/** Deepest B-tree accepted (MS-PST gives no limit; Outlook's trees have 1-4 levels). */
export const MAX_BTREE_DEPTH = 8;

interface PageVisit {
  bid: number;
  ib: number;
  /** Expected cLevel (-1 for the root). */
  level: number;
  depth: number;
  /** btkey of the parent's BTENTRY, which must equal this page's first key. */
  firstKey?: number;
  /** Exclusive upper bound: the next BTENTRY's key in the parent (or an ancestor). */
  maxKey: number;
}

/** Reads an id-sized field (4 bytes ANSI, 8 Unicode) as a number. */
function readId(page: Uint8Array, o: number, idSize: number): number {
  return idSize === 8 ? readU64(page, o) : (page[o] | (page[o + 1] << 8) | (page[o + 2] << 16) | (page[o + 3] << 24)) >>> 0;
}

/**
 * Walks the NBT (`PageType.NBT`) or BBT and records its leaves. Every problem becomes a finding;
 * a page that cannot be trusted (wrong ptype, unreadable, out of the file) is skipped with its subtree.
 */
export async function walkBTree(ctx: CheckContext, ptype: PageType.NBT | PageType.BBT): Promise<void> {
  const { fmt, sink, source } = ctx;
  const name = ptype === PageType.NBT ? 'NBT' : 'BBT';
  const root = ptype === PageType.NBT ? ctx.header.root.nbt : ctx.header.root.bbt;
  const idSize = fmt.idSize;
  const t = PAGE_SIZE - fmt.pageTrailerSize;
  const visited = new Set<number>();
  const stack: PageVisit[] = [{ bid: Number(root.bid), ib: Number(root.ib), level: -1, depth: 0, maxKey: Infinity }];
  let lastLeafKey = -1;
  while (stack.length) {
    sink.tick();
    const pv = stack.pop()!;
    const where = { offset: pv.ib, bid: pv.bid };
    if (pv.depth > MAX_BTREE_DEPTH) {
      sink.add('BTreeDepth', `${name} page at ${hex(pv.ib)} is at depth ${pv.depth}, deeper than ${MAX_BTREE_DEPTH} (MS-PST 2.2.2.7.7.1)`, where);
      continue;
    }
    if (visited.has(pv.ib)) {
      sink.add('BTreeCycle', `${name} page at ${hex(pv.ib)} (bid ${hex(pv.bid)}) is referenced twice: the B-tree has a cycle or a shared page (MS-PST 2.2.2.7.7)`, where);
      continue;
    }
    visited.add(pv.ib);
    if (!Number.isSafeInteger(pv.ib) || pv.ib < 0 || pv.ib + PAGE_SIZE > source.size || pv.ib % PAGE_SIZE !== 0) {
      sink.add('PageUnreadable', `${name} page BREF points to ${hex(pv.ib)}, outside the file (${source.size} bytes) or not 512-byte aligned (MS-PST 2.2.2.7)`, where);
      continue;
    }
    const page = await source.read(pv.ib, PAGE_SIZE);
    ctx.stats.pages++;
    ctx.pageOffsets.push(pv.ib);
    if (pv.bid > ctx.maxPageBid) ctx.maxPageBid = pv.bid;
    const pt = page[t], ptr = page[t + 1];
    if (pt !== ptype || ptr !== ptype) {
      sink.add('PageTrailer', `${name} page at ${hex(pv.ib)}: PAGETRAILER ptype/ptypeRepeat ${hex(pt)}/${hex(ptr)}, expected ${hex(ptype)}/${hex(ptype)} (MS-PST 2.2.2.7.1)`, where);
      continue;
    }
    const wSig = page[t + 2] | (page[t + 3] << 8);
    const dwCRC = fmt.ansi ? readId(page, t + 8, 4) : readId(page, t + 4, 4);
    const tbid = fmt.ansi ? readId(page, t + 4, 4) : readU64(page, t + 8);
    if (tbid !== pv.bid) sink.add('PageTrailer', `${name} page at ${hex(pv.ib)}: PAGETRAILER bid ${hex(tbid)}, the BREF says ${hex(pv.bid)} (MS-PST 2.2.2.7.1)`, where);
    const sig = computeSig(pv.ib, pv.bid);
    if (wSig !== sig) sink.add('PageSignature', `${name} page at ${hex(pv.ib)}: PAGETRAILER wSig ${hex(wSig)}, ComputeSig(ib, bid) is ${hex(sig)} (MS-PST 2.2.2.7.1, 5.5)`, where);
    const crc = computeCrc(page, 0, t);
    if (dwCRC !== crc) sink.add('PageCrc', `${name} page at ${hex(pv.ib)}: PAGETRAILER dwCRC ${hex(dwCRC)}, the CRC of its ${t} bytes is ${hex(crc)} (MS-PST 2.2.2.7.1, 5.3)`, where);

    const e = fmt.pageEntriesSize;
    const cEnt = page[e], cEntMax = page[e + 1], cbEnt = page[e + 2], cLevel = page[e + 3];
    if (pv.level >= 0 && cLevel !== pv.level) {
      sink.add('BTreeLevel', `${name} page at ${hex(pv.ib)}: cLevel ${cLevel}, its parent's cLevel minus one is ${pv.level} (MS-PST 2.2.2.7.7.1)`, where);
      continue;
    }
    if (cLevel > MAX_BTREE_DEPTH) {
      sink.add('BTreeDepth', `${name} root page at ${hex(pv.ib)}: cLevel ${cLevel} exceeds ${MAX_BTREE_DEPTH} (MS-PST 2.2.2.7.7.1)`, where);
      continue;
    }
    const wantCb = cLevel > 0 ? fmt.btEntrySize : ptype === PageType.NBT ? fmt.nbtEntrySize : fmt.bbtEntrySize;
    const wantMax = Math.floor(e / wantCb);
    if (cbEnt !== wantCb || cEntMax !== wantMax || cEnt > cEntMax) {
      sink.add('BTreePage', `${name} page at ${hex(pv.ib)} (cLevel ${cLevel}): cEnt ${cEnt}, cEntMax ${cEntMax}, cbEnt ${cbEnt}; expected cbEnt ${wantCb}, cEntMax ${wantMax}, cEnt ≤ cEntMax (MS-PST 2.2.2.7.7.1)`, where);
      if (cbEnt < wantCb || cEnt * cbEnt > e) continue;
    }
    if (cEnt === 0 && pv.level >= 0) {
      sink.add('BTreePage', `${name} page at ${hex(pv.ib)} has no entries but is referenced by a parent BTENTRY (MS-PST 2.2.2.7.7.1)`, where);
    }
    let prev = -1;
    const children: PageVisit[] = [];
    for (let i = 0; i < cEnt; i++) {
      const o = i * cbEnt;
      const key = ptype === PageType.NBT && cLevel === 0 ? readId(page, o, 4) : readId(page, o, idSize);
      const ewhere = { offset: pv.ib + o, bid: pv.bid };
      if (i === 0 && pv.firstKey !== undefined && key !== pv.firstKey) {
        sink.add('BTreeKeyMin', `${name} page at ${hex(pv.ib)}: first key ${hex(key)} differs from the parent BTENTRY btkey ${hex(pv.firstKey)} (MS-PST 2.2.2.7.7.2)`, ewhere);
      }
      if (i > 0 && key <= prev) {
        sink.add('BTreeKeyOrder', `${name} page at ${hex(pv.ib)}: entry ${i} key ${hex(key)} is not greater than entry ${i - 1} key ${hex(prev)} (MS-PST 2.2.2.7.7.1)`, ewhere);
      } else if (key >= pv.maxKey) {
        sink.add('BTreeKeyMin', `${name} page at ${hex(pv.ib)}: entry ${i} key ${hex(key)} is not below the next parent BTENTRY btkey ${hex(pv.maxKey)} (MS-PST 2.2.2.7.7.2)`, ewhere);
      }
      if (cLevel === 0) {
        if (key <= lastLeafKey && !(i > 0 && key <= prev)) {
          sink.add('BTreeKeyOrder', `${name} leaf page at ${hex(pv.ib)}: key ${hex(key)} is not greater than the last key ${hex(lastLeafKey)} of the previous leaf (MS-PST 2.2.2.7.7)`, ewhere);
        }
        if (key > lastLeafKey) lastLeafKey = key;
      }
      prev = key;
      if (cLevel > 0) {
        children.push({ bid: readId(page, o + idSize, idSize), ib: readId(page, o + 2 * idSize, idSize), level: cLevel - 1, depth: pv.depth + 1, firstKey: key, maxKey: Infinity });
      } else if (ptype === PageType.NBT) {
        if (idSize === 8 && (page[o + 4] | page[o + 5] | page[o + 6] | page[o + 7]) !== 0) {
          sink.add('BTreePage', `NBT leaf page at ${hex(pv.ib)}: NBTENTRY ${i} has non-zero upper 32 bits in its 8-byte nid (MS-PST 2.2.2.7.7.4)`, ewhere);
        }
        const bidData = readId(page, o + idSize, idSize);
        const bidSub = readId(page, o + 2 * idSize, idSize);
        const nidParent = readId(page, o + 3 * idSize, 4);
        ctx.nodes.push(key, bidData, bidSub, nidParent);
        ctx.stats.nodes++;
      } else {
        const bs = fmt.brefSize;
        const ib = readId(page, o + idSize, idSize);
        const cb = page[o + bs] | (page[o + bs + 1] << 8);
        const cRef = page[o + bs + 2] | (page[o + bs + 3] << 8);
        ctx.blocks.push(key, ib, cb, cRef);
        ctx.stats.blocks++;
      }
    }
    // Each child's keys must stay below the next sibling's key (and below our own bound).
    for (let i = 0; i < children.length; i++) children[i].maxKey = i + 1 < children.length ? children[i + 1].firstKey! : pv.maxKey;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}
