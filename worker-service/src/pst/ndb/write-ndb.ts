/**
 * The NDB layer of the streaming writer (MS-PST 2.2.2, 2.6): blocks, data trees, subnode trees,
 * the NBT and BBT, allocation maps and the header, written append-only into a {@link PstSink}.
 *
 * Layout: the first 0x4400 bytes (HEADER and DLISTPAGE) are appended as zeros and rewritten once at
 * close. From 0x4400 on, the file is a sequence of AMap intervals of 253,952 bytes; the writer keeps
 * exactly one interval in memory, lays the map pages at its start (AMap, and PMap/FMap/FPMap where
 * the spec puts them), fills it with blocks, and appends it when the next block does not fit. BBT
 * leaf pages are laid out among the blocks as every 20 blocks fill one (BIDs only increase); the
 * NBT, and the BBT's levels above its leaves, are built bottom-up at close, after the last block.
 * The file ends on an interval boundary (MS-PST 2.6.1.1.2: the file grows in whole AMap intervals).
 */
import type { PstSink } from '../sink';
import {
  AMAP_INTERVAL,
  AMAP_SLOT,
  BBTENTRY_SIZE,
  BLOCK_ALIGN,
  BLOCK_TRAILER_SIZE,
  BTENTRY_SIZE,
  BTPAGE,
  BTYPE_SLBLOCK,
  BTYPE_XBLOCK,
  FIRST_AMAP_OFFSET,
  MAX_BLOCK_DATA,
  NBTENTRY_SIZE,
  PAGE_SIZE,
  PAGE_TRAILER_OFFSET,
  PageType,
  SIBLOCK_MAX_ENTRIES,
  SIENTRY_SIZE,
  SLBLOCK_MAX_ENTRIES,
  SLENTRY_SIZE,
  XBLOCK_MAX_ENTRIES,
} from './constants';
import { computeCrc } from './crc';
import { CryptMethod, cryptCyclic } from './crypt';
import { SEAL_ENTRY, SEAL_PERMUTE, sealBlocks } from './seal-blocks';
import { BlockSealer, type Sealed } from './sealer';
import { NumberColumn, alignUp, computeSig, writeU16, writeU32, writeU64 } from './bytes';
import { intervalOffset, longestFreeRun, freeSlots, mapPagesOfInterval, sealMapPage } from './write-maps';
import { buildHeaderRegion } from './write-header';

/** Error of the NDB writer, with a stable code (STYLE.md "Errors"). */
export class NdbWriteError extends Error {
  constructor(
    readonly code: 'BlockTooLarge' | 'StreamTooLarge' | 'WriterClosed' | 'DuplicateNid' | 'SubnodeOrder' | 'OutputFailed',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'NdbWriteError';
  }
}

/** Errors that broke a part (an append or sealing failed): see {@link isPartFailure}. */
const partFailures = new WeakSet<object>();

/**
 * True when `err` broke the part being written — its sink's append or the sealing of an interval
 * failed — rather than one item: the part cannot be finished, and every later write of it throws
 * the same error. A caller that records per-item failures stops on these instead.
 */
export function isPartFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && partFailures.has(err);
}

/**
 * Marks `err` as a part failure (see {@link isPartFailure}) and returns it: for failures of the
 * output outside the append chain — the header rewrite, the sink's close, opening the next part.
 * A value that is not an object (a sink that rejected with a string, say) cannot be marked: it is
 * returned wrapped in an NdbWriteError "OutputFailed" that names it, and that error is marked.
 */
export function markPartFailure(err: unknown): object {
  const e = typeof err === 'object' && err !== null ? err : new NdbWriteError('OutputFailed', `the part's output failed with ${typeof err} ${String(err)}`);
  partFailures.add(e);
  return e;
}

/** A subnode entry (SLENTRY, MS-PST 2.2.2.8.3.3.1.1): nid plus the data and nested subnode trees. */
export interface SubnodeRef {
  nid: number;
  bidData: number;
  /** 0 when the subnode has no subnodes of its own. */
  bidSub: number;
}

/** What the header needs from the layers above at close. */
export interface NdbCloseInfo {
  /** rgnid[32]: the next free nidIndex per nidType (MS-PST 2.2.2.6). */
  rgnid: Uint32Array;
}

/** Statistics of a closed part. */
export interface NdbStats {
  fileSizeBytes: number;
  blocks: number;
  nodes: number;
  intervals: number;
  freeBytes: number;
}

/** Options of {@link NdbWriter}. */
export interface NdbWriterOptions {
  /** bCryptMethod for data blocks: Permute (Outlook's default) or None. */
  cryptMethod: CryptMethod;
  /**
   * Where blocks are sealed (permute and CRC, ndb/seal-blocks.ts): 'thread' — in the process's
   * sealing thread (ndb/sealer.ts) from the SEAL_THREAD_AFTER-th interval on, while this thread
   * lays out the next interval (the default); 'inline' — on this thread. The bytes are the same.
   */
  seal?: 'thread' | 'inline';
}

/** Intervals a part seals on its own thread before it uses the sealing thread: small parts never start it. */
const SEAL_THREAD_AFTER = 4;
/** Most blocks an interval can hold (64-byte slots). */
const MAX_BLOCKS_PER_INTERVAL = AMAP_INTERVAL / BLOCK_ALIGN;

const HEADER_REGION = FIRST_AMAP_OFFSET;

/**
 * AMap intervals (248 KiB each) handed to the sink whose appends may still be running while the
 * writer lays out the next one: 2 keeps the disk (or Blob sink) busy without holding more than
 * ~0.75 MiB of written PST in memory.
 */
const APPENDS_IN_FLIGHT = 2;

/**
 * Streams NDB structures into a sink. Methods are async and must be awaited one at a time.
 * Every write method returns the BID of what it wrote; callers reference it from nodes or trees.
 */
export class NdbWriter {
  private readonly cryptMethod: CryptMethod;
  // the current AMap interval, held in memory until it is full
  private interval = 0;
  private buf: Uint8Array = new Uint8Array(AMAP_INTERVAL);
  /** `buf` as a Buffer (the same memory), for encoding strings into it; made when `buf` changes. */
  private bufText?: Buffer;
  private fill = 0;
  private bitmap = new Uint8Array(PAGE_TRAILER_OFFSET);
  private started = false;
  private closed = false;
  // per-interval free space, for the density list and the FMap (1 byte a interval)
  private intervalFree = new NumberColumn(64, 'f64');
  private intervalLongestRun = new NumberColumn(64, 'u8');
  // BIDs: block BIDs step by 4 (MS-PST 2.2.2.2); page BIDs by 1
  private nextBlockBidIndex = 1;
  private nextPageBid = 1;
  // BBT: blocks get increasing BIDs, so the BBT's leaf pages are written as blocks fill them
  // (20 BBTENTRYs a page); only each leaf page's BTENTRY (first bid, page bid, ib) is kept,
  // 24 bytes per 20 blocks, for the levels above, built at close
  private readonly bbtLeafMax = Math.floor(BTPAGE.entriesSize / BBTENTRY_SIZE);
  private readonly bbtPending = new Uint8Array(BTPAGE.entriesSize);
  private bbtPendingCount = 0;
  private bbtPendingFirst = 0;
  private blocksWritten = 0;
  private readonly bbtLeafKey = new NumberColumn(256, 'f64');
  private readonly bbtLeafBid = new NumberColumn(256, 'f64');
  private readonly bbtLeafIb = new NumberColumn(256, 'f64');
  // NBT bookkeeping: nid, bidData, bidSub, nidParent per node
  private readonly nbtNid = new NumberColumn(1024, 'u32');
  private readonly nbtData = new NumberColumn(1024, 'f64');
  private readonly nbtSub = new NumberColumn(1024, 'f64');
  private readonly nbtParent = new NumberColumn(1024, 'u32');
  /** Bytes appended to the sink so far. */
  private appended = 0;

  constructor(
    private readonly sink: PstSink,
    options: NdbWriterOptions,
  ) {
    this.cryptMethod = options.cryptMethod;
    this.sealInThread = (options.seal ?? 'thread') === 'thread';
  }

  /** Current logical size of the file in bytes (what has been laid out, including the buffered interval). */
  get sizeBytes(): number {
    return intervalOffset(this.interval) + this.fill;
  }

  /** Full intervals (and the header placeholder) waiting to be appended to the sink, in order; a promise while its blocks are being sealed in the sealing thread. */
  private pendingAppend: (Uint8Array | Promise<Sealed>)[] = [];
  /** The current interval's blocks still to seal: (offset, cb, flags) triples (ndb/seal-blocks.ts). */
  private sealList: Int32Array = new Int32Array(MAX_BLOCKS_PER_INTERVAL * SEAL_ENTRY);
  private sealCount = 0;
  private spareSealLists: Int32Array[] = [];
  private readonly sealInThread: boolean;

  /** Interval buffers the sink is done with (its append resolved), reused for later intervals. */
  private spareBuffers: Uint8Array[] = [];

  /**
   * Appends handed to the sink and not yet resolved, oldest first. They are chained (each starts
   * when the one before has resolved, so the sink still sees one call at a time, in order), but the
   * writer goes on laying out the next interval meanwhile: a file sink's write runs on libuv's
   * thread pool while this thread encodes. At most {@link APPENDS_IN_FLIGHT} are outstanding.
   */
  private inFlight: Promise<void>[] = [];
  private appendChain: Promise<void> = Promise.resolve();

  /**
   * Hands what is waiting to the sink; called after each write. Returns once at most
   * APPENDS_IN_FLIGHT appends are outstanding. @throws the error of a failed append (the first)
   */
  private async drain(): Promise<void> {
    while (this.pendingAppend.length > 0) {
      const b = this.pendingAppend.shift()!;
      const done = this.appendChain.then(async () => {
        // abandoned (settle): what has not reached the sink yet never does
        if (this.abandoned) throw new NdbWriteError('WriterClosed', 'the part was abandoned before this interval was written');
        let bytes: Uint8Array;
        if (b instanceof Uint8Array) bytes = b;
        else {
          const sealed = await b;
          bytes = sealed.buf;
          if (this.spareSealLists.length < APPENDS_IN_FLIGHT + 1) this.spareSealLists.push(sealed.list);
        }
        await this.sink.append(bytes);
        // the sink may keep a reference only until the promise resolves (PstSink.append)
        if (bytes.length === AMAP_INTERVAL && this.spareBuffers.length < APPENDS_IN_FLIGHT + 1) this.spareBuffers.push(bytes);
      });
      // a failure is seen by whoever awaits this append (below, settle or close), never unhandled;
      // it breaks the part: every later write rethrows it (see `failure`)
      done.catch((e: unknown) => this.failed(e));
      this.appendChain = done;
      this.inFlight.push(done);
    }
    while (this.inFlight.length > APPENDS_IN_FLIGHT) await this.settled(this.inFlight.shift()!);
  }

  /** Awaits an append; its failure is thrown as recorded by {@link failed} (marked, an object). */
  private async settled(append: Promise<void>): Promise<void> {
    try {
      await append;
    } catch (e) {
      throw this.failure ?? e;
    }
  }

  /** The first failure of an append or of sealing: the part is broken from then on. */
  private failure?: unknown;
  /** Set by settle(): appends not yet started are dropped, and close() refuses to finish. */
  private abandoned = false;

  private failed(e: unknown): void {
    if (this.failure !== undefined || this.abandoned) return;
    this.failure = markPartFailure(e);
  }

  /**
   * Abandons the part's output: appends not yet started are dropped, the one running (if any) is
   * waited for, failures are ignored. After it the sink may be released: nothing calls it again.
   */
  async settle(): Promise<void> {
    this.abandoned = true;
    this.inFlight = [];
    // the chain's tail settles last: every append before it has ended
    await this.appendChain.catch(() => undefined);
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.pendingAppend.push(new Uint8Array(HEADER_REGION));
    this.appended = HEADER_REGION;
    this.beginInterval();
  }

  private beginInterval(): void {
    this.buf.fill(0);
    this.bitmap.fill(0);
    this.fill = 0;
    for (let i = 0; i < mapPagesOfInterval(this.interval).length; i++) this.allocate(PAGE_SIZE);
  }

  /** Marks [fill, fill+size) allocated and advances. The caller guarantees it fits. */
  private allocate(size: number): number {
    const at = this.fill;
    const first = at / AMAP_SLOT;
    const count = size / AMAP_SLOT;
    for (let s = first; s < first + count; s++) this.bitmap[s >> 3] |= 0x80 >> (s & 7);
    this.fill += size;
    return at;
  }

  /** Seals the map pages of the current interval and appends the interval to the sink. */
  private flushInterval(): void {
    const k = this.interval;
    const base = intervalOffset(k);
    const free = freeSlots(this.bitmap) * AMAP_SLOT;
    this.intervalFree.push(free);
    this.intervalLongestRun.push(longestFreeRun(this.bitmap));
    const pages = mapPagesOfInterval(k);
    for (let i = 0; i < pages.length; i++) {
      const page = this.buf.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
      page.fill(0, 0, PAGE_TRAILER_OFFSET);
      switch (pages[i]) {
        case PageType.AMap:
          page.set(this.bitmap, 0);
          break;
        case PageType.PMap:
          // PMaps are deprecated: Outlook fills them with 0xFF ("all pages allocated") (MS-PST 2.2.2.7.3).
          page.fill(0xff, 0, PAGE_TRAILER_OFFSET);
          break;
        case PageType.FMap:
        case PageType.FPMap:
          // Deprecated: they must exist at their intervals with valid trailers (MS-PST 2.2.2.7.5-6).
          // Written 0xFF like the header's rgbFM/rgbFP, which Outlook 2007 SP2+ no longer maintains;
          // the DList is the free-space index readers use.
          page.fill(0xff, 0, PAGE_TRAILER_OFFSET);
          break;
        default:
          break;
      }
      sealMapPage(page, pages[i], base + i * PAGE_SIZE);
    }
    this.pendingAppend.push(this.sealInterval());
    this.appended += AMAP_INTERVAL;
    this.interval++;
    // the sink may still hold the previous buffer: take one it is done with (beginInterval zeroes it)
    this.buf = this.spareBuffers.pop() ?? new Uint8Array(AMAP_INTERVAL);
    this.bufText = undefined;
    this.beginInterval();
  }

  /**
   * Seals the current interval's listed blocks: in the sealing thread (the buffer and list are
   * transferred; a promise of them sealed) from the SEAL_THREAD_AFTER-th interval on when the
   * writer may use it, else here. Either way the interval is then final.
   */
  private sealInterval(): Uint8Array | Promise<Sealed> {
    const buf = this.buf;
    const count = this.sealCount;
    this.sealCount = 0;
    if (count === 0) return buf;
    const sealer = this.sealInThread && this.interval >= SEAL_THREAD_AFTER ? BlockSealer.shared() : undefined;
    if (!sealer) {
      sealBlocks(buf, this.sealList, count);
      return buf;
    }
    const list = this.sealList;
    this.sealList = this.spareSealLists.pop() ?? new Int32Array(MAX_BLOCKS_PER_INTERVAL * SEAL_ENTRY);
    const sealed = sealer.seal(buf, list, count);
    sealed.catch(() => undefined); // awaited in order by drain(); a failure fails the part there
    return sealed;
  }

  /** Reserves `size` bytes (a multiple of 64, at most 8192) aligned to `align`; returns [file offset, buffer offset]. */
  private reserve(size: number, align: number): [number, number] {
    this.start();
    let at = alignUp(this.fill, align);
    if (at + size > AMAP_INTERVAL) {
      this.flushInterval();
      at = alignUp(this.fill, align);
    }
    this.fill = at; // the gap (if any) stays free in the AMap
    const off = this.allocate(size);
    return [intervalOffset(this.interval) + off, off];
  }

  private newBlockBid(internal: boolean): number {
    const bid = this.nextBlockBidIndex * 4 + (internal ? 2 : 0);
    this.nextBlockBidIndex++;
    return bid;
  }

  /**
   * Writes one block (MS-PST 2.2.2.8.1): payload, zero padding to 64 bytes, BLOCKTRAILER.
   * External (data) blocks are encoded with the store's bCryptMethod; internal blocks are not.
   * @param payload 1..8176 bytes  @throws NdbWriteError "BlockTooLarge"
   * @returns the block's BID
   */
  async writeBlock(payload: Uint8Array | string, internal = false): Promise<number> {
    const bid = this.writeBlockNow(payload, internal);
    if (this.pendingAppend.length > 0) await this.drain();
    return bid;
  }

  /** {@link writeBlock} without waiting for the sink; callers drain when an interval is full. */
  private writeBlockNow(payload: Uint8Array | string, internal = false): number {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new NdbWriteError('WriterClosed', 'the NDB writer is closed');
    const cb = typeof payload === 'string' ? payload.length * 2 : payload.length;
    if (cb > MAX_BLOCK_DATA) throw new NdbWriteError('BlockTooLarge', `block payload of ${cb} bytes exceeds ${MAX_BLOCK_DATA} (MS-PST 2.2.2.8.1)`, { cb });
    const size = alignUp(cb + BLOCK_TRAILER_SIZE, BLOCK_ALIGN);
    const bid = this.newBlockBid(internal);
    const [ib, off] = this.reserve(size, BLOCK_ALIGN);
    const data = this.buf.subarray(off, off + cb);
    if (typeof payload === 'string') {
      // a string's UTF-16LE code units, straight into the interval
      this.bufText ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      this.bufText.write(payload, off, 'utf16le');
    } else data.set(payload);
    const t = off + size - BLOCK_TRAILER_SIZE;
    writeU16(this.buf, t, cb);
    writeU16(this.buf, t + 2, computeSig(ib, bid));
    if (!internal && this.cryptMethod === CryptMethod.Cyclic) {
      // cyclic (rare): encoded and sealed here; the key is the BID
      cryptCyclic(data, bid % 0x100000000);
      writeU32(this.buf, t + 4, computeCrc(data));
    } else {
      // permute and the CRC (of the encoded bytes) when the interval is full: sealInterval
      const e = this.sealCount++ * SEAL_ENTRY;
      this.sealList[e] = off;
      this.sealList[e + 1] = cb;
      this.sealList[e + 2] = !internal && this.cryptMethod === CryptMethod.Permute ? SEAL_PERMUTE : 0;
    }
    writeU64(this.buf, t + 8, bid);
    // BBTENTRY (MS-PST 2.2.2.7.7.3): BREF (bid, ib), cb, cRef, dwPadding
    const e = this.bbtPendingCount * BBTENTRY_SIZE;
    if (this.bbtPendingCount === 0) this.bbtPendingFirst = bid;
    writeU64(this.bbtPending, e, bid);
    writeU64(this.bbtPending, e + 8, ib);
    writeU16(this.bbtPending, e + 16, cb);
    writeU16(this.bbtPending, e + 18, 2); // one reference (the node or tree that points at it) + 1, as Outlook writes
    writeU32(this.bbtPending, e + 20, 0);
    this.bbtPendingCount++;
    this.blocksWritten++;
    if (this.bbtPendingCount === this.bbtLeafMax) this.writeBbtLeaf();
    return bid;
  }

  /** Writes the pending BBTENTRYs as a BBT leaf page (cLevel 0) and records its BTENTRY. Callers drain. */
  private writeBbtLeaf(): void {
    const n = this.bbtPendingCount;
    const bref = this.writeBtPageNow(PageType.BBT, 0, BBTENTRY_SIZE, this.bbtLeafMax, (page) => {
      page.set(this.bbtPending.subarray(0, n * BBTENTRY_SIZE), 0);
      return n;
    });
    this.bbtLeafKey.push(n === 0 ? 0 : this.bbtPendingFirst);
    this.bbtLeafBid.push(bref.bid);
    this.bbtLeafIb.push(bref.ib);
    this.bbtPendingCount = 0;
  }

  /**
   * Writes a data tree (MS-PST 2.2.2.8.3.1-2) for a node's stream given as block payloads (each
   * ≤ 8176 bytes; a heap-on-node passes one payload a heap block). One payload → one data block;
   * up to 1021 → an XBLOCK; more → an XXBLOCK over XBLOCKs.
   * @throws NdbWriteError "StreamTooLarge" past 1021·1021 blocks
   */
  async writeDataTree(payloads: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<number> {
    const bids: number[] = [];
    const sizes: number[] = [];
    if (Array.isArray(payloads)) {
      // the common case (a node's heap blocks): no async iteration, await only when an interval is full
      for (let i = 0; i < payloads.length; i++) {
        const p = payloads[i] as Uint8Array;
        bids.push(this.writeBlockNow(p));
        sizes.push(p.length);
        if (this.pendingAppend.length > 0) await this.drain();
      }
      if (bids.length === 0) return this.writeBlock(new Uint8Array(0));
      return this.writeTreeOver(bids, sizes);
    }
    for await (const p of payloads as AsyncIterable<Uint8Array>) {
      bids.push(this.writeBlockNow(p));
      if (this.pendingAppend.length > 0) await this.drain();
      sizes.push(p.length);
    }
    if (bids.length === 0) return this.writeBlock(new Uint8Array(0));
    return this.writeTreeOver(bids, sizes);
  }

  /**
   * Writes the XBLOCK/XXBLOCK over data blocks already written (in stream order) and returns the
   * tree's root BID; one block needs no tree (MS-PST 2.2.2.8.3.2). Lets a caller write a node's
   * blocks as they become final, in any order, and tie them together at the end.
   * @throws NdbWriteError "StreamTooLarge" past 1021·1021 blocks
   */
  async writeTreeOver(bids: readonly number[], sizes: readonly number[]): Promise<number> {
    if (bids.length === 1) return bids[0];
    if (bids.length <= XBLOCK_MAX_ENTRIES) return this.writeXBlock(1, bids, sizes.reduce((a, b) => a + b, 0));
    if (bids.length > XBLOCK_MAX_ENTRIES * XBLOCK_MAX_ENTRIES) {
      throw new NdbWriteError('StreamTooLarge', `a node stream of ${bids.length} blocks exceeds an XXBLOCK (MS-PST 2.2.2.8.3.2)`);
    }
    const xbids: number[] = [];
    let total = 0;
    for (let i = 0; i < bids.length; i += XBLOCK_MAX_ENTRIES) {
      const part = bids.slice(i, i + XBLOCK_MAX_ENTRIES);
      const lcb = sizes.slice(i, i + XBLOCK_MAX_ENTRIES).reduce((a, b) => a + b, 0);
      total += lcb;
      xbids.push(await this.writeXBlock(1, part, lcb));
    }
    return this.writeXBlock(2, xbids, total);
  }

  /**
   * Splits a stream into ≤ 8176-byte payloads and writes its data tree. A string stands for its
   * UTF-16LE code units (4,088 a block), encoded straight into the blocks.
   */
  async writeStream(data: Uint8Array | string): Promise<number> {
    const step = typeof data === 'string' ? MAX_BLOCK_DATA / 2 : MAX_BLOCK_DATA;
    if (data.length <= step) return this.writeBlock(data);
    const bids: number[] = [];
    const sizes: number[] = [];
    for (let o = 0; o < data.length; o += step) {
      const end = Math.min(data.length, o + step);
      const p = typeof data === 'string' ? data.slice(o, end) : data.subarray(o, end);
      bids.push(this.writeBlockNow(p));
      sizes.push(typeof p === 'string' ? p.length * 2 : p.length);
      if (this.pendingAppend.length > 0) await this.drain();
    }
    return this.writeTreeOver(bids, sizes);
  }

  /** XBLOCK (cLevel 1) or XXBLOCK (cLevel 2) (MS-PST 2.2.2.8.3.2.1-2). */
  private async writeXBlock(cLevel: 1 | 2, bids: readonly number[], lcbTotal: number): Promise<number> {
    const b = new Uint8Array(8 + bids.length * 8);
    b[0] = BTYPE_XBLOCK;
    b[1] = cLevel;
    writeU16(b, 2, bids.length);
    writeU32(b, 4, lcbTotal);
    bids.forEach((bid, i) => writeU64(b, 8 + i * 8, bid));
    return this.writeBlock(b, true);
  }

  /**
   * Writes a subnode tree (MS-PST 2.2.2.8.3.3): SLBLOCKs of ≤ 340 SLENTRYs, under an SIBLOCK when
   * more than one is needed. Entries must be sorted by nid, without duplicates.
   * @returns the BID of the tree's root block, or 0 when `entries` is empty
   * @throws NdbWriteError "SubnodeOrder"
   */
  async writeSubnodeTree(entries: SubnodeRef[]): Promise<number> {
    if (entries.length === 0) return 0;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].nid <= entries[i - 1].nid) throw new NdbWriteError('SubnodeOrder', 'subnode entries must be sorted by nid without duplicates (MS-PST 2.2.2.8.3.3.1)');
    }
    const leaves: { nid: number; bid: number }[] = [];
    for (let i = 0; i < entries.length; i += SLBLOCK_MAX_ENTRIES) {
      const part = entries.slice(i, i + SLBLOCK_MAX_ENTRIES);
      const b = new Uint8Array(8 + part.length * SLENTRY_SIZE);
      b[0] = BTYPE_SLBLOCK;
      b[1] = 0;
      writeU16(b, 2, part.length);
      part.forEach((e, j) => {
        const o = 8 + j * SLENTRY_SIZE;
        writeU64(b, o, e.nid);
        writeU64(b, o + 8, e.bidData);
        writeU64(b, o + 16, e.bidSub);
      });
      leaves.push({ nid: part[0].nid, bid: await this.writeBlock(b, true) });
    }
    if (leaves.length === 1) return leaves[0].bid;
    if (leaves.length > SIBLOCK_MAX_ENTRIES) throw new NdbWriteError('StreamTooLarge', 'subnode tree exceeds one SIBLOCK');
    const b = new Uint8Array(8 + leaves.length * SIENTRY_SIZE);
    b[0] = BTYPE_SLBLOCK;
    b[1] = 1;
    writeU16(b, 2, leaves.length);
    leaves.forEach((e, j) => {
      writeU64(b, 8 + j * SIENTRY_SIZE, e.nid);
      writeU64(b, 8 + j * SIENTRY_SIZE + 8, e.bid);
    });
    return this.writeBlock(b, true);
  }

  /** Records a node in the NBT (MS-PST 2.2.2.7.7.4 NBTENTRY). */
  addNode(nid: number, bidData: number, bidSub: number, nidParent: number): void {
    if (this.closed) throw new NdbWriteError('WriterClosed', 'the NDB writer is closed');
    this.nbtNid.push(nid);
    this.nbtData.push(bidData);
    this.nbtSub.push(bidSub);
    this.nbtParent.push(nidParent);
  }

  /** Number of blocks written so far. */
  get blockCount(): number {
    return this.blocksWritten;
  }

  /** Number of nodes recorded so far. */
  get nodeCount(): number {
    return this.nbtNid.length;
  }

  /** Page BIDs come from bidNextP and count up by 1 (as Outlook's files show). */
  private newPageBid(): number {
    return this.nextPageBid++;
  }

  /** Writes one BTPAGE (MS-PST 2.2.2.7.7.1) and returns its BREF. */
  private async writeBtPage(type: PageType.NBT | PageType.BBT, cLevel: number, cbEnt: number, cEntMax: number, fillEntries: (page: Uint8Array) => number): Promise<{ bid: number; ib: number }> {
    const bref = this.writeBtPageNow(type, cLevel, cbEnt, cEntMax, fillEntries);
    if (this.pendingAppend.length > 0) await this.drain();
    return bref;
  }

  /** {@link writeBtPage} without waiting for the sink; callers drain when an interval is full. */
  private writeBtPageNow(type: PageType.NBT | PageType.BBT, cLevel: number, cbEnt: number, cEntMax: number, fillEntries: (page: Uint8Array) => number): { bid: number; ib: number } {
    const [ib, off] = this.reserve(PAGE_SIZE, PAGE_SIZE);
    const page = this.buf.subarray(off, off + PAGE_SIZE);
    const cEnt = fillEntries(page);
    page[BTPAGE.cEnt] = cEnt;
    page[BTPAGE.cEntMax] = cEntMax;
    page[BTPAGE.cbEnt] = cbEnt;
    page[BTPAGE.cLevel] = cLevel;
    const bid = this.newPageBid();
    page[PAGE_TRAILER_OFFSET] = type;
    page[PAGE_TRAILER_OFFSET + 1] = type;
    writeU16(page, PAGE_TRAILER_OFFSET + 2, computeSig(ib, bid));
    writeU32(page, PAGE_TRAILER_OFFSET + 4, computeCrc(page, 0, PAGE_TRAILER_OFFSET));
    writeU64(page, PAGE_TRAILER_OFFSET + 8, bid);
    return { bid, ib };
  }

  /**
   * Builds a B-tree bottom-up from sorted leaf entries: leaves hold `leafMax` entries, intermediate
   * pages 20 BTENTRYs whose btkey is the first key of their child (MS-PST 2.2.2.7.7.2).
   */
  private async writeBTree(type: PageType.NBT | PageType.BBT, count: number, leafCbEnt: number, leafMax: number, keyOf: (i: number) => number, writeLeaf: (page: Uint8Array, o: number, i: number) => void): Promise<{ bid: number; ib: number }> {
    const keys = new NumberColumn(64, 'f64');
    const bids = new NumberColumn(64, 'f64');
    const ibs = new NumberColumn(64, 'f64');
    const leafPages = Math.max(1, Math.ceil(count / leafMax));
    for (let p = 0; p < leafPages; p++) {
      const from = Math.floor((p * count) / leafPages);
      const to = Math.floor(((p + 1) * count) / leafPages);
      const bref = await this.writeBtPage(type, 0, leafCbEnt, leafMax, (page) => {
        for (let i = from; i < to; i++) writeLeaf(page, (i - from) * leafCbEnt, i);
        return to - from;
      });
      keys.push(count === 0 ? 0 : keyOf(from));
      bids.push(bref.bid);
      ibs.push(bref.ib);
    }
    return this.writeUpperLevels(type, keys, bids, ibs);
  }

  /**
   * The intermediate levels of a B-tree over its leaf pages (given by their BTENTRYs, in key order):
   * pages of up to 20 BTENTRYs whose btkey is the first key of their child (MS-PST 2.2.2.7.7.2),
   * until one page, the root, remains.
   */
  private async writeUpperLevels(type: PageType.NBT | PageType.BBT, leafKeys: NumberColumn, leafBids: NumberColumn, leafIbs: NumberColumn): Promise<{ bid: number; ib: number }> {
    let level: { key: NumberColumn; bid: NumberColumn; ib: NumberColumn } = { key: leafKeys, bid: leafBids, ib: leafIbs };
    let cLevel = 1;
    const interMax = Math.floor(BTPAGE.entriesSize / BTENTRY_SIZE);
    while (level.key.length > 1) {
      const cur = level;
      const n = cur.key.length;
      const next = { key: new NumberColumn(64, 'f64'), bid: new NumberColumn(64, 'f64'), ib: new NumberColumn(64, 'f64') };
      const pages = Math.ceil(n / interMax);
      for (let p = 0; p < pages; p++) {
        const from = Math.floor((p * n) / pages);
        const to = Math.floor(((p + 1) * n) / pages);
        const bref = await this.writeBtPage(type, cLevel, BTENTRY_SIZE, interMax, (page) => {
          for (let i = from; i < to; i++) {
            const o = (i - from) * BTENTRY_SIZE;
            writeU64(page, o, cur.key.get(i));
            writeU64(page, o + 8, cur.bid.get(i));
            writeU64(page, o + 16, cur.ib.get(i));
          }
          return to - from;
        });
        next.key.push(cur.key.get(from));
        next.bid.push(bref.bid);
        next.ib.push(bref.ib);
      }
      level = next;
      cLevel++;
    }
    return { bid: level.bid.get(0), ib: level.ib.get(0) };
  }

  /**
   * Writes the NBT and BBT, finishes the last interval, and rewrites the header region
   * (HEADER + DLISTPAGE) at offset 0. The sink is closed by the caller.
   * @throws NdbWriteError "DuplicateNid"
   */
  async close(info: NdbCloseInfo): Promise<NdbStats> {
    if (this.closed) throw new NdbWriteError('WriterClosed', 'the NDB writer is already closed');
    this.start();
    // NBT: sort node entries by nid
    const n = this.nbtNid.length;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => this.nbtNid.get(a) - this.nbtNid.get(b));
    for (let i = 1; i < n; i++) {
      if (this.nbtNid.get(order[i]) === this.nbtNid.get(order[i - 1])) {
        throw new NdbWriteError('DuplicateNid', `node 0x${this.nbtNid.get(order[i]).toString(16)} was added twice`);
      }
    }
    const nbtLeafMax = Math.floor(BTPAGE.entriesSize / NBTENTRY_SIZE);
    const nbtRoot = await this.writeBTree(PageType.NBT, n, NBTENTRY_SIZE, nbtLeafMax, (i) => this.nbtNid.get(order[i]), (page, o, i) => {
      const j = order[i];
      writeU64(page, o, this.nbtNid.get(j));
      writeU64(page, o + 8, this.nbtData.get(j));
      writeU64(page, o + 16, this.nbtSub.get(j));
      writeU32(page, o + 24, this.nbtParent.get(j));
    });
    // BBT: blocks were numbered in write order, so they are already sorted by BID
    // BBT: the leaf pages are written (blocks got increasing BIDs); the last, partial one now
    const m = this.blocksWritten;
    if (this.bbtPendingCount > 0 || this.bbtLeafKey.length === 0) this.writeBbtLeaf();
    if (this.pendingAppend.length > 0) await this.drain();
    const bbtRoot = await this.writeUpperLevels(PageType.BBT, this.bbtLeafKey, this.bbtLeafBid, this.bbtLeafIb);
    const lastInterval = this.interval;
    this.flushInterval();
    await this.drain();
    // every append resolved before the header is rewritten (and before the caller closes the sink)
    while (this.inFlight.length > 0) await this.settled(this.inFlight.shift()!);
    if (this.abandoned) throw new NdbWriteError('WriterClosed', 'the part was abandoned while it was being closed');
    this.closed = true;
    const fileSize = intervalOffset(lastInterval + 1);
    const freeBytes = Float64Array.from(this.intervalFree.view());
    const totalFree = freeBytes.reduce((a, b) => a + b, 0);
    const region = buildHeaderRegion({
      cryptMethod: this.cryptMethod,
      fileEof: fileSize,
      amapLast: intervalOffset(lastInterval),
      amapFree: totalFree,
      nbt: nbtRoot,
      bbt: bbtRoot,
      bidNextB: this.nextBlockBidIndex * 4,
      bidNextP: this.nextPageBid,
      rgnid: info.rgnid,
      intervalFreeBytes: freeBytes,
      intervalLongestRun: Float64Array.from(this.intervalLongestRun.view()),
    });
    // the header rewrite is the chain's last link: settle() waits for it too
    const header = this.appendChain.then(() => {
      if (this.abandoned) throw new NdbWriteError('WriterClosed', 'the part was abandoned while it was being closed');
      return this.sink.writeAt(0, region);
    });
    this.appendChain = header;
    try {
      await header;
    } catch (err) {
      throw markPartFailure(err);
    }
    if (this.abandoned) throw new NdbWriteError('WriterClosed', 'the part was abandoned while it was being closed');
    return { fileSizeBytes: fileSize, blocks: m, nodes: n, intervals: lastInterval + 1, freeBytes: totalFree };
  }
}
