/**
 * The NDB layer's read side (MS-PST 2.2): opens a PST from a ByteSource, looks nodes up in the
 * Node BTree and blocks in the Block BTree (2.2.2.7.7), reads and decodes blocks, data trees
 * (XBLOCK/XXBLOCK) and subnode trees (SLBLOCK/SIBLOCK). It also lets a checker walk every page.
 *
 * Bounds against hostile input: B-tree descent requires each child's cLevel to be its parent's
 * minus one (so it ends within MAX_BTREE_LEVEL steps and cannot cycle), walks keep visited sets,
 * and a data tree may not claim more bytes than the file holds.
 */
import { PAGE_SIZE, PageType } from './constants';
import type { CryptMethod } from './crypt';
import { PstReadError } from './read-error';
import { parseHeader, HEADER_READ_SIZE, type PstHeader } from './read-header';
import { parseBtPage, MAX_BTREE_LEVEL, type BbtEntry, type BtEntry, type BtPage, type NbtEntry } from './read-page';
import { blockSizeOnDisk, parseBlock, parseSubnodeBlock, parseXBlock, type RawBlock, type SlEntry } from './read-block';
import type { Bref, NdbFormat } from './read-format';
import { FileByteSource, type ByteSource } from './read-source';

/** A node as both the NBT and a subnode tree describe it: data stream and optional subnode tree. */
export interface NodeRef {
  readonly nid: number;
  /** BID of the data block or XBLOCK/XXBLOCK; 0 when the node has no data. */
  readonly bidData: bigint;
  /** BID of the SLBLOCK/SIBLOCK; 0 when there are no subnodes. */
  readonly bidSub: bigint;
}

/** Reader options. */
export interface NdbReadOptions {
  /** Check header, page and block CRCs and signatures (default true). */
  readonly verifyCrc?: boolean;
}

/** A page as seen by a full B-tree walk: the page, its depth (root 0) and the key that led to it. */
export interface BtPageVisit {
  readonly page: BtPage;
  readonly depth: number;
  readonly bref: Bref;
  /** btkey of the parent's BTENTRY (undefined for the root). */
  readonly parentKey?: bigint;
}

/** Pages and blocks kept in memory (a few MB at most). */
const PAGE_CACHE_ENTRIES = 4096;
const BLOCK_CACHE_ENTRIES = 256;

class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) { this.map.delete(k); this.map.set(k, v); }
    return v;
  }
  set(k: K, v: V): void {
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}

/** Read access to the NDB layer of one PST file. */
export class NdbReader {
  private readonly pages = new Lru<number, BtPage>(PAGE_CACHE_ENTRIES);
  private readonly blocks = new Lru<bigint, RawBlock>(BLOCK_CACHE_ENTRIES);
  readonly verifyCrc: boolean;

  private constructor(readonly source: ByteSource, readonly header: PstHeader, options: NdbReadOptions) {
    this.verifyCrc = options.verifyCrc ?? true;
  }

  /** Opens a file by path (positional reads; nothing is loaded whole). @throws PstReadError */
  static async openFile(path: string, options: NdbReadOptions = {}): Promise<NdbReader> {
    const src = await FileByteSource.open(path);
    try {
      return await NdbReader.open(src, options);
    } catch (err) {
      await src.close();
      throw err;
    }
  }

  /** Opens a PST over any ByteSource: parses and checks the header (MS-PST 2.2.2.6). @throws PstReadError */
  static async open(source: ByteSource, options: NdbReadOptions = {}): Promise<NdbReader> {
    if (source.size < 512) throw new PstReadError('Truncated', 'file shorter than a PST header', { fileSize: source.size });
    const bytes = await source.read(0, Math.min(HEADER_READ_SIZE, source.size));
    const header = parseHeader(bytes, options.verifyCrc ?? true);
    return new NdbReader(source, header, options);
  }

  get format(): NdbFormat {
    return this.header.format;
  }
  get cryptMethod(): CryptMethod {
    return this.header.bCryptMethod;
  }
  /** File size in bytes. */
  get fileSize(): number {
    return this.source.size;
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  private ibOf(bref: Bref, what: string, size: number): number {
    const ib = bref.ib;
    if (ib < 0n || ib + BigInt(size) > BigInt(this.source.size)) {
      throw new PstReadError('Truncated', `${what} lies outside the file`, { offset: Number(ib), bid: bref.bid, fileSize: this.source.size });
    }
    return Number(ib);
  }

  /**
   * Reads and parses one NBT or BBT page (MS-PST 2.2.2.7.7), cached by offset.
   * @throws PstReadError "Truncated", "BadPageType", "PageCrcMismatch", "PageBidMismatch", "BadBTreePage" */
  async readBtPage(bref: Bref, ptype: PageType.NBT | PageType.BBT): Promise<BtPage> {
    const ib = this.ibOf(bref, 'B-tree page', PAGE_SIZE);
    const cached = this.pages.get(ib);
    if (cached && cached.ptype === ptype && cached.trailer.bid === bref.bid) return cached;
    const bytes = await this.source.read(ib, PAGE_SIZE);
    const page = parseBtPage(bytes, bref, ptype, this.format, this.verifyCrc);
    this.pages.set(ib, page);
    return page;
  }

  /** Reads a raw 512-byte page at a file offset (AMap, PMap, FMap, FPMap, DList pages for a checker). */
  async readRawPage(ib: number): Promise<Uint8Array> {
    return this.source.read(ib, PAGE_SIZE);
  }

  private async lookup(root: Bref, ptype: PageType.NBT | PageType.BBT, key: bigint): Promise<NbtEntry | BbtEntry | undefined> {
    let page = await this.readBtPage(root, ptype);
    for (let steps = 0; page.cLevel > 0; steps++) {
      if (steps > MAX_BTREE_LEVEL) throw new PstReadError('BTreeTooDeep', 'B-tree deeper than allowed', { offset: page.ib });
      const entries = page.entries as readonly BtEntry[];
      let pick = -1;
      for (let i = 0; i < entries.length && entries[i].btkey <= key; i++) pick = i;
      if (pick < 0) return undefined;
      const child = await this.readBtPage(entries[pick].bref, ptype);
      if (child.cLevel !== page.cLevel - 1) {
        throw new PstReadError('BTreeCycle', 'child page cLevel is not parent cLevel - 1 (MS-PST 2.2.2.7.7.1)', { offset: child.ib, cLevel: child.cLevel, parentLevel: page.cLevel });
      }
      page = child;
    }
    if (ptype === PageType.NBT) {
      for (const e of page.entries as readonly NbtEntry[]) if (BigInt(e.nid) === key) return e;
    } else {
      for (const e of page.entries as readonly BbtEntry[]) if ((e.bref.bid & ~1n) === key) return e;
    }
    return undefined;
  }

  /** Finds a node in the NBT (MS-PST 2.2.2.7.7.4), or undefined. @throws PstReadError on a damaged tree */
  async findNode(nid: number): Promise<NbtEntry | undefined> {
    return (await this.lookup(this.header.root.nbt, PageType.NBT, BigInt(nid >>> 0))) as NbtEntry | undefined;
  }

  /** Finds a node; throws "NodeNotFound" when absent. */
  async getNode(nid: number): Promise<NbtEntry> {
    const e = await this.findNode(nid);
    if (!e) throw new PstReadError('NodeNotFound', 'NID is not in the Node BTree', { nid });
    return e;
  }

  /** Finds a block in the BBT (MS-PST 2.2.2.7.7.3), ignoring BID bit 0; undefined when absent. */
  async findBlock(bid: bigint): Promise<BbtEntry | undefined> {
    return (await this.lookup(this.header.root.bbt, PageType.BBT, bid & ~1n)) as BbtEntry | undefined;
  }

  /**
   * Walks every page of the NBT or BBT depth-first in key order, each page once.
   * @throws PstReadError "BTreeCycle" (a page reached twice or a cLevel out of step), page errors */
  async *walkBtPages(ptype: PageType.NBT | PageType.BBT): AsyncGenerator<BtPageVisit> {
    const root = ptype === PageType.NBT ? this.header.root.nbt : this.header.root.bbt;
    const visited = new Set<number>();
    const stack: { bref: Bref; depth: number; parentKey?: bigint; level?: number }[] = [{ bref: root, depth: 0 }];
    while (stack.length) {
      const { bref, depth, parentKey, level } = stack.pop()!;
      const ib = Number(bref.ib);
      if (visited.has(ib)) throw new PstReadError('BTreeCycle', 'a B-tree page is reachable twice', { offset: ib, bid: bref.bid });
      visited.add(ib);
      const page = await this.readBtPage(bref, ptype);
      if (level !== undefined && page.cLevel !== level) throw new PstReadError('BTreeCycle', 'child page cLevel is not parent cLevel - 1', { offset: ib, cLevel: page.cLevel, expected: level });
      if (depth > MAX_BTREE_LEVEL) throw new PstReadError('BTreeTooDeep', 'B-tree deeper than allowed', { offset: ib });
      yield { page, depth, bref, parentKey };
      if (page.cLevel > 0) {
        const es = page.entries as readonly BtEntry[];
        for (let i = es.length - 1; i >= 0; i--) stack.push({ bref: es[i].bref, depth: depth + 1, parentKey: es[i].btkey, level: page.cLevel - 1 });
      }
    }
  }

  /** Every NBT leaf entry (every node of the file), in NID order. */
  async *nodes(): AsyncGenerator<NbtEntry> {
    for await (const v of this.walkBtPages(PageType.NBT)) if (v.page.cLevel === 0) yield* v.page.entries as readonly NbtEntry[];
  }

  /** Every BBT leaf entry (every block of the file), in BID order. */
  async *blockEntries(): AsyncGenerator<BbtEntry> {
    for await (const v of this.walkBtPages(PageType.BBT)) if (v.page.cLevel === 0) yield* v.page.entries as readonly BbtEntry[];
  }

  /**
   * Reads one block by BID: BBT lookup, read, trailer check, decoding (MS-PST 2.2.2.8).
   * @throws PstReadError "BlockNotFound", "Truncated", "BadBlockSize", "BlockCrcMismatch", "BlockBidMismatch" */
  async readBlock(bid: bigint): Promise<RawBlock> {
    const key = bid & ~1n;
    const cached = this.blocks.get(key);
    if (cached) return cached;
    const e = await this.findBlock(key);
    if (!e) throw new PstReadError('BlockNotFound', 'BID is not in the Block BTree', { bid });
    const size = blockSizeOnDisk(e.cb, this.format);
    const ib = this.ibOf(e.bref, 'block', size);
    const bytes = await this.source.read(ib, size);
    const block = parseBlock(bytes, e.bref, e.cb, this.format, this.cryptMethod, this.verifyCrc);
    this.blocks.set(key, block);
    return block;
  }

  /**
   * The data blocks of a node's data stream, in order: one data block, or the leaves of an
   * XBLOCK/XXBLOCK tree (MS-PST 2.2.2.8.3.2). bid 0 gives no blocks.
   * @throws PstReadError "DataTooLarge" (lcbTotal beyond the file or disagreeing with the blocks),
   *   "BadInternalBlock", "DataTreeTooDeep", block errors */
  async readDataBlocks(bid: bigint): Promise<Uint8Array[]> {
    if (bid === 0n) return [];
    const top = await this.readBlock(bid);
    if (!top.internal) return [top.data];
    const x = parseXBlock(top.data, bid, this.format);
    if (x.lcbTotal > this.source.size) throw new PstReadError('DataTooLarge', 'XBLOCK lcbTotal exceeds the file size', { bid, lcbTotal: x.lcbTotal });
    const out: Uint8Array[] = [];
    let total = 0;
    const addLeaf = async (b: bigint) => {
      const blk = await this.readBlock(b);
      if (blk.internal) throw new PstReadError('DataTreeTooDeep', 'XBLOCK entry is an internal block', { bid: b });
      total += blk.data.length;
      if (total > x.lcbTotal) throw new PstReadError('DataTooLarge', 'data blocks exceed lcbTotal', { bid, lcbTotal: x.lcbTotal });
      out.push(blk.data);
    };
    for (const child of x.rgbid) {
      if (x.cLevel === 1) await addLeaf(child);
      else {
        const cb = await this.readBlock(child);
        if (!cb.internal) throw new PstReadError('BadInternalBlock', 'XXBLOCK entry is not an XBLOCK', { bid: child });
        const cx = parseXBlock(cb.data, child, this.format);
        if (cx.cLevel !== 1) throw new PstReadError('DataTreeTooDeep', 'XXBLOCK entry is not an XBLOCK (cLevel 1)', { bid: child, cLevel: cx.cLevel });
        for (const leaf of cx.rgbid) await addLeaf(leaf);
      }
    }
    if (total !== x.lcbTotal) throw new PstReadError('DataTooLarge', 'data blocks do not add up to lcbTotal', { bid, lcbTotal: x.lcbTotal, total });
    return out;
  }

  /** A node's whole data stream as one byte array (MS-PST 2.2.2.8.3.2). @throws as readDataBlocks */
  async readData(bid: bigint): Promise<Uint8Array> {
    const blocks = await this.readDataBlocks(bid);
    if (blocks.length === 1) return blocks[0];
    const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
    let o = 0;
    for (const b of blocks) { out.set(b, o); o += b.length; }
    return out;
  }

  /**
   * The subnodes of a node (MS-PST 2.2.2.8.3.3): the SLENTRYs of its SLBLOCK, or of every SLBLOCK
   * under its SIBLOCK, keyed by NID. bidSub 0 gives an empty map.
   * @throws PstReadError "BadInternalBlock", block errors */
  async readSubnodes(bidSub: bigint): Promise<Map<number, SlEntry>> {
    const out = new Map<number, SlEntry>();
    if (bidSub === 0n) return out;
    const top = await this.readBlock(bidSub);
    if (!top.internal) throw new PstReadError('BadInternalBlock', 'bidSub names a data block, not an SLBLOCK/SIBLOCK', { bid: bidSub });
    const sb = parseSubnodeBlock(top.data, bidSub, this.format);
    const addSl = (entries: readonly SlEntry[]) => { for (const e of entries) out.set(e.nid, e); };
    if (sb.cLevel === 0) addSl(sb.entries);
    else {
      const seen = new Set<bigint>();
      for (const si of sb.entries) {
        if (seen.has(si.bid & ~1n)) throw new PstReadError('BadInternalBlock', 'SIBLOCK names the same SLBLOCK twice', { bid: si.bid });
        seen.add(si.bid & ~1n);
        const b = await this.readBlock(si.bid);
        if (!b.internal) throw new PstReadError('BadInternalBlock', 'SIENTRY names a data block', { bid: si.bid });
        const child = parseSubnodeBlock(b.data, si.bid, this.format);
        if (child.cLevel !== 0) throw new PstReadError('DataTreeTooDeep', 'SIENTRY names an SIBLOCK (only one level allowed)', { bid: si.bid });
        addSl(child.entries);
      }
    }
    return out;
  }
}
