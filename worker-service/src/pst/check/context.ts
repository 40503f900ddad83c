/**
 * State shared by the checks of one run: the byte source, the header as parsed, the NDB reader
 * (opened without CRC verification: the checker verifies CRCs itself and reports them as
 * findings), the finding sink, and the block/node tables filled by the B-tree walk.
 */
import type { PstHeader } from '../ndb/read-header';
import type { NdbFormat } from '../ndb/read-format';
import type { NdbReader } from '../ndb/read-ndb';
import type { ByteSource } from '../ndb/read-source';
import { BlockTable, NodeTable } from './tables';
import type { CheckStats, FindingSink } from './types';

/** What every check receives. */
export interface CheckContext {
  readonly source: ByteSource;
  readonly header: PstHeader;
  readonly fmt: NdbFormat;
  readonly ndb: NdbReader;
  readonly sink: FindingSink;
  readonly stats: CheckStats;
  readonly blocks: BlockTable;
  readonly nodes: NodeTable;
  /** File offsets of every NBT/BBT page visited (bytes). */
  pageOffsets: number[];
  /** Highest BID of an NBT/BBT page (for bidNextP). */
  maxPageBid: number;
  /** NIDs whose LTP structures failed (the messaging checks skip them). */
  readonly ltpBad: Set<number>;
  /** Block indexes sorted by file offset (set by the block pass). */
  blocksByOffset?: Uint32Array;
}

/**
 * Reads file ranges through a sliding window (1 MiB by default) so passes that visit structures
 * in offset order cost one positional read per window, not one per block.
 */
export class WindowReader {
  private start = 0;
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly source: ByteSource, private readonly windowBytes = 1 << 20) {}

  /** `length` bytes at `offset` (a view; valid until the next call). Caller checks the range is inside the file. */
  async get(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.start && offset + length <= this.start + this.buf.length) {
      return this.buf.subarray(offset - this.start, offset - this.start + length);
    }
    const n = Math.min(Math.max(length, this.windowBytes), this.source.size - offset);
    this.buf = await this.source.read(offset, n);
    this.start = offset;
    return this.buf.subarray(0, length);
  }
}
