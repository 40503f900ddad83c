/**
 * Page parsing (MS-PST 2.2.2.7): the 512-byte page, its PAGETRAILER (2.2.2.7.1) and the BTPAGE of
 * the NBT and BBT (2.2.2.7.7) with its BTENTRY / NBTENTRY / BBTENTRY records. Pure functions over
 * bytes; the B-tree walker in read-ndb.ts reads the pages.
 */
import { PAGE_SIZE, PageType } from './constants';
import { computeCrc } from './crc';
import { PstReadError } from './read-error';
import { computeSignature, readBref, readId, viewOf, type Bref, type NdbFormat } from './read-format';

/** PAGETRAILER (MS-PST 2.2.2.7.1) plus the CRC computed over the page's data bytes. */
export interface PageTrailer {
  readonly ptype: number;
  readonly ptypeRepeat: number;
  readonly wSig: number;
  readonly dwCRC: number;
  readonly bid: bigint;
  readonly crcComputed: number;
}

/** BTENTRY (MS-PST 2.2.2.7.7.2): an intermediate B-tree record; btkey is a NID (NBT) or BID (BBT). */
export interface BtEntry {
  readonly btkey: bigint;
  readonly bref: Bref;
}
/** NBTENTRY (MS-PST 2.2.2.7.7.4): one node. bidSub is 0 when the node has no subnodes. */
export interface NbtEntry {
  readonly nid: number;
  readonly bidData: bigint;
  readonly bidSub: bigint;
  readonly nidParent: number;
}
/** BBTENTRY (MS-PST 2.2.2.7.7.3): one block; cb is the unencoded payload size in bytes, cRef its refcount. */
export interface BbtEntry {
  readonly bref: Bref;
  readonly cb: number;
  readonly cRef: number;
}

/** A parsed BTPAGE (MS-PST 2.2.2.7.7.1) with where it was read from. */
export interface BtPage {
  /** File offset of the page, bytes. */
  readonly ib: number;
  readonly ptype: PageType.NBT | PageType.BBT;
  readonly cEnt: number;
  readonly cEntMax: number;
  readonly cbEnt: number;
  readonly cLevel: number;
  readonly trailer: PageTrailer;
  /** cLevel > 0: BtEntry[]; cLevel 0: NbtEntry[] (NBT) or BbtEntry[] (BBT). */
  readonly entries: readonly BtEntry[] | readonly NbtEntry[] | readonly BbtEntry[];
}

/** Parses the PAGETRAILER of a 512-byte page and computes the page CRC. */
export function parsePageTrailer(page: Uint8Array, fmt: NdbFormat): PageTrailer {
  const v = viewOf(page);
  const t = PAGE_SIZE - fmt.pageTrailerSize;
  const crcComputed = computeCrc(page, 0, t);
  if (fmt.ansi) {
    return { ptype: page[t], ptypeRepeat: page[t + 1], wSig: v.getUint16(t + 2, true), bid: BigInt(v.getUint32(t + 4, true)), dwCRC: v.getUint32(t + 8, true), crcComputed };
  }
  return { ptype: page[t], ptypeRepeat: page[t + 1], wSig: v.getUint16(t + 2, true), dwCRC: v.getUint32(t + 4, true), bid: v.getBigUint64(t + 8, true), crcComputed };
}

/** Deepest B-tree accepted (Outlook's trees are 1-4 levels; a crafted cLevel must not recurse forever). */
export const MAX_BTREE_LEVEL = 8;

/**
 * Parses an NBT or BBT page read from `bref` and validates its trailer and layout.
 * @param verifyCrc  when true, a wrong dwCRC throws "PageCrcMismatch"
 * @throws PstReadError "BadPageType", "PageCrcMismatch", "PageBidMismatch", "PageSignatureMismatch", "BadBTreePage" */
export function parseBtPage(page: Uint8Array, bref: Bref, expected: PageType.NBT | PageType.BBT, fmt: NdbFormat, verifyCrc = true): BtPage {
  const ib = Number(bref.ib);
  const d = { offset: ib, bid: bref.bid };
  if (page.length !== PAGE_SIZE) throw new PstReadError('Truncated', 'short page', d);
  const trailer = parsePageTrailer(page, fmt);
  if (trailer.ptype !== expected || trailer.ptypeRepeat !== expected) {
    throw new PstReadError('BadPageType', `expected ${expected === PageType.NBT ? 'NBT' : 'BBT'} page (MS-PST 2.2.2.7.1)`, { ...d, ptype: trailer.ptype, ptypeRepeat: trailer.ptypeRepeat });
  }
  if (verifyCrc && trailer.dwCRC !== trailer.crcComputed) throw new PstReadError('PageCrcMismatch', 'page dwCRC does not match its bytes', { ...d, stored: trailer.dwCRC, computed: trailer.crcComputed });
  if (trailer.bid !== bref.bid) throw new PstReadError('PageBidMismatch', 'page trailer bid differs from the BREF that points to it', { ...d, trailerBid: trailer.bid });
  if (verifyCrc && trailer.wSig !== computeSignature(bref.ib, bref.bid)) throw new PstReadError('PageSignatureMismatch', 'page wSig is not the signature of (ib, bid) (MS-PST 5.5)', { ...d, wSig: trailer.wSig });

  const e = fmt.pageEntriesSize;
  const cEnt = page[e], cEntMax = page[e + 1], cbEnt = page[e + 2], cLevel = page[e + 3];
  if (cLevel > MAX_BTREE_LEVEL) throw new PstReadError('BadBTreePage', 'cLevel too large', { ...d, cLevel });
  const minEnt = cLevel > 0 ? fmt.btEntrySize : expected === PageType.NBT ? fmt.nbtEntrySize : fmt.bbtEntrySize;
  // ANSI NBT leaf entries are 16 bytes; tolerate larger cbEnt (padding) but never smaller.
  if (cbEnt < minEnt || cEnt > cEntMax || cEnt * cbEnt > e || cEntMax * cbEnt > e) {
    throw new PstReadError('BadBTreePage', 'cEnt/cEntMax/cbEnt inconsistent (MS-PST 2.2.2.7.7.1)', { ...d, cEnt, cEntMax, cbEnt, cLevel });
  }
  const v = viewOf(page);
  const id = fmt.idSize;
  let entries: BtEntry[] | NbtEntry[] | BbtEntry[];
  if (cLevel > 0) {
    const list: BtEntry[] = [];
    for (let i = 0; i < cEnt; i++) {
      const o = i * cbEnt;
      list.push({ btkey: readId(v, o, fmt), bref: readBref(v, o + id, fmt) });
    }
    entries = list;
  } else if (expected === PageType.NBT) {
    const list: NbtEntry[] = [];
    for (let i = 0; i < cEnt; i++) {
      const o = i * cbEnt;
      list.push({ nid: v.getUint32(o, true), bidData: readId(v, o + id, fmt), bidSub: readId(v, o + 2 * id, fmt), nidParent: v.getUint32(o + 3 * id, true) });
    }
    entries = list;
  } else {
    const list: BbtEntry[] = [];
    for (let i = 0; i < cEnt; i++) {
      const o = i * cbEnt;
      list.push({ bref: readBref(v, o, fmt), cb: v.getUint16(o + fmt.brefSize, true), cRef: v.getUint16(o + fmt.brefSize + 2, true) });
    }
    entries = list;
  }
  return { ib, ptype: expected, cEnt, cEntMax, cbEnt, cLevel, trailer, entries };
}
