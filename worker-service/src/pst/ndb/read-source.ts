/**
 * Positional byte sources for the reader: a file read piece by piece through a file descriptor
 * (never loaded whole: a PST may be 50 GB) or an in-memory Uint8Array (tests, fuzzing).
 */
import { promises as fsp } from 'node:fs';
import { PstReadError } from './read-error';

/** A random-access byte source. Offsets and lengths are in bytes; `size` is the total length. */
export interface ByteSource {
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset`.
   * @throws PstReadError "Truncated" when the range passes the end, "ReadFailed" on an I/O error */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases the file descriptor (no-op for memory sources). */
  close(): Promise<void>;
}

function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new PstReadError('Truncated', 'read past the end of the file', { offset, length, fileSize: size });
  }
}

/** A ByteSource over bytes in memory. */
export class MemoryByteSource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.bytes.length, offset, length);
    // A copy, also for a Node Buffer (whose slice() is a view): callers decode blocks in place.
    return Uint8Array.prototype.slice.call(this.bytes, offset, offset + length);
  }
  async close(): Promise<void> {}
}

/** A ByteSource over a file, read with positional reads on one descriptor. */
export class FileByteSource implements ByteSource {
  private constructor(private readonly handle: fsp.FileHandle, readonly size: number, readonly path: string) {}

  /** Opens `path` read-only. @throws PstReadError "ReadFailed" */
  static async open(path: string): Promise<FileByteSource> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (err) {
      throw new PstReadError('ReadFailed', `cannot open ${path}`, {}, { cause: err });
    }
    const st = await handle.stat();
    return new FileByteSource(handle, st.size, path);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.size, offset, length);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        ({ bytesRead: n } = await this.handle.read(buf, done, length - done, offset + done));
      } catch (err) {
        throw new PstReadError('ReadFailed', `read failed in ${this.path}`, { offset, length }, { cause: err });
      }
      if (n === 0) throw new PstReadError('Truncated', 'file shrank while reading', { offset, length });
      done += n;
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
