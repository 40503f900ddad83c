/**
 * Keeps the packed contents-table rows of a store being written in bounded memory: rows are
 * appended to an in-memory buffer and, past `memoryLimitBytes`, spilled to a temporary file (not a
 * PST: just the packed rows). Each folder keeps only typed arrays of (row id, offset, length), so a
 * folder of 100,000 items costs ~24 bytes an item in memory. At close each folder's rows are read
 * back in order to build its table.
 */
import { openSync, writeSync, readSync, closeSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackedTcRow } from '../ltp/write-tc';
import { NumberColumn } from '../ndb/bytes';

/** Default bytes of rows kept in memory before spilling (4 MiB). */
export const DEFAULT_ROW_MEMORY_BYTES = 4 * 1024 * 1024;

/** Bytes read from the spill file at a time when rows are read back (1 MiB). */
const SPILL_READ_BYTES = 1 << 20;

/** The rows of one table: positions in the spill, in insertion order. */
export class SpilledRows {
  readonly rowIds = new NumberColumn(64, 'u32');
  readonly versions = new NumberColumn(64, 'u32');
  readonly offsets = new NumberColumn(64, 'f64');
  readonly lengths = new NumberColumn(64, 'u32');
  get count(): number {
    return this.rowIds.length;
  }
}

/** A store-wide spill of packed rows. */
export class RowSpill {
  private buf: Buffer;
  private bufUsed = 0;
  private fileBytes = 0;
  private fd?: number;
  private dir?: string;

  constructor(private readonly memoryLimitBytes = DEFAULT_ROW_MEMORY_BYTES) {
    this.buf = Buffer.alloc(Math.min(memoryLimitBytes, 64 * 1024));
  }

  /** Appends a row to `table`. */
  add(table: SpilledRows, row: PackedTcRow): void {
    const len = row.packed.length;
    if (this.bufUsed + len > this.buf.length) {
      if (this.bufUsed + len <= this.memoryLimitBytes) {
        const bigger = Buffer.alloc(Math.min(this.memoryLimitBytes, Math.max(this.buf.length * 2, this.bufUsed + len)));
        this.buf.copy(bigger, 0, 0, this.bufUsed);
        this.buf = bigger;
      } else {
        this.flush();
        if (len > this.buf.length) this.buf = Buffer.alloc(len);
      }
    }
    table.rowIds.push(row.rowId);
    table.versions.push(row.rowVersion ?? 0);
    table.offsets.push(this.fileBytes + this.bufUsed);
    table.lengths.push(len);
    this.buf.set(row.packed, this.bufUsed);
    this.bufUsed += len;
  }

  private flush(): void {
    if (this.bufUsed === 0) return;
    if (this.fd === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'outport-rows-'));
      this.fd = openSync(join(this.dir, 'rows.bin'), 'w+');
    }
    let done = 0;
    while (done < this.bufUsed) done += writeSync(this.fd, this.buf, done, this.bufUsed - done, this.fileBytes + done);
    this.fileBytes += this.bufUsed;
    this.bufUsed = 0;
  }

  /**
   * The rows of `table` in insertion order (read back from memory or the spill file). A row's
   * `packed` bytes are valid until the next row is taken (they may be a view of a read-ahead
   * window that the next read refills): consumers copy what they keep, as TableContextBuilder does.
   * Spilled rows are read through a window of up to {@link SPILL_READ_BYTES} (a table's rows lie in
   * increasing file order, interleaved with other folders'): one read for many rows.
   */
  *rows(table: SpilledRows): Generator<PackedTcRow> {
    let window: Buffer | undefined;
    let windowAt = 0;
    let windowLen = 0;
    for (let i = 0; i < table.count; i++) {
      const off = table.offsets.get(i);
      const len = table.lengths.get(i);
      let packed: Uint8Array;
      // plain Uint8Array views (not Buffer.subarray's): the consumer takes many subarrays of each
      if (off >= this.fileBytes) {
        packed = new Uint8Array(this.buf.buffer, this.buf.byteOffset + off - this.fileBytes, len);
      } else if (len > SPILL_READ_BYTES) {
        packed = Buffer.alloc(len);
        this.readFully(packed, len, off);
      } else {
        if (window === undefined || off < windowAt || off + len > windowAt + windowLen) {
          window ??= Buffer.allocUnsafe(SPILL_READ_BYTES);
          windowAt = off;
          windowLen = Math.min(SPILL_READ_BYTES, this.fileBytes - off);
          this.readFully(window, windowLen, off);
        }
        packed = new Uint8Array(window.buffer, window.byteOffset + off - windowAt, len);
      }
      yield { rowId: table.rowIds.get(i), rowVersion: table.versions.get(i), packed };
    }
  }

  /** Reads `len` bytes of the spill file at `off` into the start of `into`. */
  private readFully(into: Uint8Array, len: number, off: number): void {
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd!, into, done, len - done, off + done);
      if (n === 0) throw new Error(`row spill file ended early at ${off + done}`);
      done += n;
    }
  }

  /** Removes the spill file. Safe to call more than once. */
  dispose(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.buf = Buffer.alloc(0);
    this.bufUsed = 0;
  }
}
