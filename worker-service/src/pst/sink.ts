/**
 * The byte sink a PST part streams into (ARCHITECTURE.md "The PST writer streams"): the writer only
 * appends, then rewrites the header region once at offset 0 when it closes. A file sink uses
 * positional writes; the Azure Blob sink (storage/) stages blocks and replaces the first one.
 */
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Where a PST part's bytes go. Calls are made one at a time and in order: the writer starts a call
 * only after the previous one has resolved, though it may go on encoding while an append runs
 * (NdbWriter keeps up to two appends outstanding). A rejected append fails the part.
 */
export interface PstSink {
  /** Appends bytes at the current end. The sink may keep a reference until the promise resolves. */
  append(bytes: Uint8Array): Promise<void>;
  /** Overwrites already-appended bytes at `offset` (the writer calls this once, with offset 0, at close). */
  writeAt(offset: number, bytes: Uint8Array): Promise<void>;
  /** Flushes and releases the destination; after this the part is complete. */
  close(): Promise<void>;
  /** Releases the destination after a failure; the partial part is removed where the sink can. */
  abort?(): Promise<void>;
}

/** A sink writing a local file with positional writes. Creates or truncates `path`. */
export class FilePstSink implements PstSink {
  private handle?: FileHandle;
  private offset = 0;
  private constructor(readonly path: string) {}

  /** Opens `path` for writing (truncating). @throws the fs error (ENOENT, EACCES, …) */
  static async create(path: string): Promise<FilePstSink> {
    const sink = new FilePstSink(path);
    sink.handle = await open(path, 'w');
    return sink;
  }
  async append(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle!.write(bytes, done, bytes.length - done, this.offset + done);
      done += bytesWritten;
    }
    this.offset += bytes.length;
  }
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.offset) throw new RangeError(`writeAt(${offset}, ${bytes.length} bytes) passes the end of what was appended (${this.offset})`);
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle!.write(bytes, done, bytes.length - done, offset + done);
      done += bytesWritten;
    }
  }
  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
  async abort(): Promise<void> {
    await this.close();
    const { rm } = await import('node:fs/promises');
    await rm(this.path, { force: true });
  }
}

/** A sink that keeps the bytes in memory (tests and small parts). */
export class MemoryPstSink implements PstSink {
  private chunks: Uint8Array[] = [];
  private length = 0;
  private result?: Buffer;
  async append(bytes: Uint8Array): Promise<void> {
    this.chunks.push(Uint8Array.from(bytes));
    this.length += bytes.length;
  }
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    const all = this.bytes();
    if (offset + bytes.length > all.length) throw new RangeError('writeAt passes the end of what was appended');
    all.set(bytes, offset);
  }
  async close(): Promise<void> {}
  /** The bytes written so far (after close: the whole PST). */
  bytes(): Buffer {
    if (!this.result || this.result.length !== this.length) {
      this.result = Buffer.concat([...(this.result ? [this.result] : []), ...this.chunks]);
      this.chunks = [];
    }
    return this.result;
  }
}
