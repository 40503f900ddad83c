/**
 * Heap-on-node builder (MS-PST 2.3.1): lays allocations into heap blocks of ≤ 8176 bytes, each with
 * its HNHDR / HNPAGEHDR / HNBITMAPHDR and a trailing HNPAGEMAP, and hands back one payload a block
 * for the NDB data tree (the data tree's blocks and the heap's blocks are the same blocks).
 */
import { MAX_BLOCK_DATA } from '../ndb/constants';
import { writeU16, writeU32 } from '../ndb/bytes';
import {
  ClientSig,
  HN_SIGNATURE,
  HNBITMAPHDR_SIZE,
  HNHDR_SIZE,
  HNPAGEHDR_SIZE,
  MAX_HEAP_ALLOC,
  MAX_HEAP_ALLOCS_PER_BLOCK,
  isHnBitmapBlock,
} from './constants';

/** Error of the LTP writer with a stable code. */
export class LtpWriteError extends Error {
  constructor(
    readonly code: 'HeapAllocTooLarge' | 'HeapTooLarge' | 'BadHid' | 'TooManyColumns',
    message: string,
  ) {
    super(message);
    this.name = 'LtpWriteError';
  }
}

/** HID layout (MS-PST 2.3.1.1): hidType 5 bits (0), hidIndex 11 bits (1-based), hidBlockIndex 16 bits. */
export function makeHid(blockIndex: number, index: number): number {
  return ((blockIndex << 16) | (index << 5)) >>> 0;
}

/** Fill level of a heap block by free bytes (MS-PST 2.3.1.2 rgbFillLevel): 0 empty … 0xF full. */
export function fillLevel(freeBytes: number): number {
  const limits = [3584, 2560, 2048, 1792, 1536, 1280, 1024, 768, 512, 256, 128, 64, 32, 16, 8];
  for (let i = 0; i < limits.length; i++) if (freeBytes >= limits[i]) return i;
  return 0xf;
}

/**
 * An allocation's bytes: a byte array, or a string that stands for its UTF-16LE code units
 * (2 bytes a UTF-16 code unit, lone surrogates as they are — PtypString, MS-OXCDATA 2.11.1), encoded
 * straight into the heap block when it is rendered instead of into a buffer of its own first.
 */
export type HeapAllocation = Uint8Array | string;

/** Bytes an allocation takes in the heap. */
function allocBytes(a: HeapAllocation): number {
  return typeof a === 'string' ? a.length * 2 : a.length;
}

/** Strings shorter than this (UTF-16 code units) are encoded by a loop, longer ones by Buffer.write. */
const SHORT_TEXT = 48;

/** Allocations up to this many bytes are copied by a loop (cheaper than TypedArray.set's call for a few bytes). */
const SMALL_COPY = 24;

interface HeapBlock {
  allocs: HeapAllocation[];
  used: number; // header + allocation bytes
  /** Final size once the block is closed (allocations are then dropped if it was emitted). */
  size?: number;
  emitted?: boolean;
}

/** A finished heap block handed out before the heap is complete (streaming mode). */
export interface EmittedHeapBlock {
  index: number;
  payload: Uint8Array;
}

/**
 * Collects allocations and produces heap block payloads. Allocations are immutable once made,
 * except through {@link HeapBuilder.replace} (same length, block not yet emitted).
 *
 * Streaming mode (`streaming = true`): a block that is full and whose bytes no longer depend on
 * later blocks — every block except block 0 (HNHDR fill levels of blocks 0-7) and the HNBITMAPHDR
 * blocks 8, 136, … (fill levels of the next 128) — is queued in {@link HeapBuilder.takeEmitted} and
 * its allocations are released, so a heap of any size is built in bounded memory.
 */
export class HeapBuilder {
  private readonly blocks: HeapBlock[] = [];
  private userRoot = 0;
  private emittedQueue: EmittedHeapBlock[] = [];

  constructor(
    private readonly clientSig: ClientSig,
    private readonly streaming = false,
  ) {
    this.blocks.push({ allocs: [], used: HNHDR_SIZE });
  }

  private headerSize(blockIndex: number): number {
    if (blockIndex === 0) return HNHDR_SIZE;
    return isHnBitmapBlock(blockIndex) ? HNBITMAPHDR_SIZE : HNPAGEHDR_SIZE;
  }

  /** Size a block would have with its page map: used bytes, 2-byte alignment, cAlloc/cFree, rgibAlloc. */
  private static blockSize(used: number, cAlloc: number): number {
    return used + (used & 1) + 4 + (cAlloc + 1) * 2;
  }

  /** True when block `bi`'s bytes depend on the fill levels of later blocks. */
  private static holdsFillLevels(bi: number): boolean {
    return bi === 0 || isHnBitmapBlock(bi);
  }

  private closeBlock(bi: number): void {
    const block = this.blocks[bi];
    block.size = HeapBuilder.blockSize(block.used, block.allocs.length);
    if (this.streaming && !HeapBuilder.holdsFillLevels(bi)) {
      this.emittedQueue.push({ index: bi, payload: this.render(bi, []) });
      block.allocs = [];
      block.emitted = true;
    }
  }

  /**
   * Allocates `data` (0..3580 bytes; a string: its UTF-16LE code units, up to 1790 of them) and
   * returns its HID. The builder keeps `data` until the block is rendered: do not change it.
   * @throws LtpWriteError "HeapAllocTooLarge" (callers put larger values in subnodes)
   */
  allocate(data: HeapAllocation): number {
    const bytes = allocBytes(data);
    if (bytes > MAX_HEAP_ALLOC) throw new LtpWriteError('HeapAllocTooLarge', `heap allocation of ${bytes} bytes exceeds ${MAX_HEAP_ALLOC} (MS-PST 2.3.1.1); use a subnode`);
    let bi = this.blocks.length - 1;
    let block = this.blocks[bi];
    if (block.allocs.length >= MAX_HEAP_ALLOCS_PER_BLOCK || HeapBuilder.blockSize(block.used + bytes, block.allocs.length + 1) > MAX_BLOCK_DATA) {
      this.closeBlock(bi);
      bi = this.blocks.length;
      if (bi > 0xffff) throw new LtpWriteError('HeapTooLarge', 'heap exceeds 65,536 blocks (hidBlockIndex is 16 bits)');
      block = { allocs: [], used: this.headerSize(bi) };
      this.blocks.push(block);
    }
    block.allocs.push(data);
    block.used += bytes;
    return makeHid(bi, block.allocs.length);
  }

  /** Replaces the bytes of an existing allocation with bytes of the same length. @throws LtpWriteError "BadHid" */
  replace(hid: number, data: Uint8Array): void {
    const bi = hid >>> 16;
    const idx = ((hid >>> 5) & 0x7ff) - 1;
    const block = this.blocks[bi];
    if (!block || block.emitted || block.allocs[idx] === undefined || allocBytes(block.allocs[idx]) !== data.length) throw new LtpWriteError('BadHid', `cannot replace HID 0x${hid.toString(16)}`);
    block.allocs[idx] = data;
  }

  /** Sets HNHDR.hidUserRoot (the BTH header of a PC, the TCINFO of a TC). */
  setUserRoot(hid: number): void {
    this.userRoot = hid;
  }

  /** Number of heap blocks so far. */
  get blockCount(): number {
    return this.blocks.length;
  }

  /** Bytes the heap's blocks will have (final for every block, the last one as it stands now). */
  sizeBytes(): number {
    let n = 0;
    for (const b of this.blocks) n += b.size ?? HeapBuilder.blockSize(b.used, b.allocs.length);
    return n;
  }

  /** Streaming mode: true when blocks finished since the last {@link takeEmitted}. */
  hasEmitted(): boolean {
    return this.emittedQueue.length > 0;
  }

  /** Streaming mode: the blocks finished since the last call, to be written now. */
  takeEmitted(): EmittedHeapBlock[] {
    const q = this.emittedQueue;
    this.emittedQueue = [];
    return q;
  }

  private render(bi: number, levels: number[]): Uint8Array {
    const block = this.blocks[bi];
    const allocs = block.allocs;
    const size = block.size ?? HeapBuilder.blockSize(block.used, allocs.length);
    // not zero-filled (blocks up to 4 KiB come from Node's shared pool: no allocation of their own):
    // every byte is written below — the header, each allocation, the pad byte, the page map
    const out = Buffer.allocUnsafe(size);
    // HNPAGEMAP after the allocations (2-byte aligned): cAlloc, cFree = 0, rgibAlloc[cAlloc + 1]
    const ibHnpm = block.used + (block.used & 1);
    writeU16(out, 0, ibHnpm);
    if (block.used & 1) out[block.used] = 0;
    writeU16(out, ibHnpm, allocs.length);
    writeU16(out, ibHnpm + 2, 0);
    const headerSize = this.headerSize(bi);
    out.fill(0, 2, headerSize); // HNHDR / HNBITMAPHDR fields after ibHnpm, set below
    let o = headerSize;
    let m = ibHnpm + 4;
    for (let k = 0; k < allocs.length; k++) {
      const a = allocs[k];
      out[m] = o & 0xff;
      out[m + 1] = o >>> 8;
      m += 2;
      if (typeof a === 'string') {
        const n = a.length;
        if (n < SHORT_TEXT) {
          // a loop costs less than Buffer.write's argument handling for a few characters
          for (let j = 0; j < n; j++) {
            const c = a.charCodeAt(j);
            out[o + 2 * j] = c;
            out[o + 2 * j + 1] = c >>> 8;
          }
        } else out.write(a, o, 'utf16le');
        o += n * 2;
      } else {
        const n = a.length;
        if (n <= SMALL_COPY) for (let j = 0; j < n; j++) out[o + j] = a[j];
        else out.set(a, o);
        o += n;
      }
    }
    out[m] = o & 0xff;
    out[m + 1] = o >>> 8;
    if (bi === 0) {
      out[2] = HN_SIGNATURE;
      out[3] = this.clientSig;
      writeU32(out, 4, this.userRoot);
      for (let i = 0; i < 8 && i < levels.length; i++) out[8 + (i >> 1)] |= levels[i] << ((i & 1) * 4);
    } else if (isHnBitmapBlock(bi)) {
      for (let i = 0; i < 128 && bi + i < levels.length; i++) out[2 + (i >> 1)] |= levels[bi + i] << ((i & 1) * 4);
    }
    return out;
  }

  /**
   * The block payloads not yet emitted, with their indexes (MS-PST 2.3.1.2-5). Without streaming
   * that is every block, in order.
   */
  finishBlocks(): EmittedHeapBlock[] {
    this.closeBlock(this.blocks.length - 1);
    const levels = this.blocks.map((b) => fillLevel(MAX_BLOCK_DATA - b.size!));
    const out: EmittedHeapBlock[] = this.takeEmitted();
    this.blocks.forEach((b, bi) => {
      if (!b.emitted) out.push({ index: bi, payload: this.render(bi, levels) });
    });
    return out.sort((a, b) => a.index - b.index);
  }

  /** All block payloads in order (non-streaming use). */
  finish(): Uint8Array[] {
    return this.finishBlocks().map((b) => b.payload);
  }
}
