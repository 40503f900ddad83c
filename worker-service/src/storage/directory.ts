/**
 * A local directory as a {@link Destination} (CLI `--to DIR`; docs/storage.md "Directory").
 * A part is written to "<name>.partial" with positional writes and renamed to "<name>" at close
 * (rename is atomic on one file system), so a crash or abort never leaves a partial "<name>".
 * Metadata (sha256, content type, createdby) lives in a sidecar ".<name>.outport-meta.json".
 * A directory created by Outport holds a marker ".outport-container.json"; deleteContainer() refuses
 * any directory without it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { StorageError, type Destination, type PartSink, type StoredObject, type StoredPart } from './destination';
import { CREATED_BY_KEY, CREATED_BY_VALUE, HEADER_REGION_BYTES, PST_CONTENT_TYPE } from './constants';

/** Marker file of a directory Outport created. */
export const DIRECTORY_MARKER = '.outport-container.json';
/** Suffix of a part being written. */
export const PARTIAL_SUFFIX = '.partial';

/** The sidecar file name holding `name`'s metadata. */
export function sidecarName(name: string): string {
  return `.${name}.outport-meta.json`;
}

/** A directory destination. Names are flat file names validated by storage/validate.ts. */
export class DirectoryDestination implements Destination {
  readonly location: string;

  /** @param dir  the directory (relative paths resolve against the working directory) */
  constructor(dir: string) {
    this.location = path.resolve(dir);
  }

  private file(name: string): string {
    if (name.length === 0 || name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('\0')) {
      throw new StorageError('StorageFailed', `"${name}" is not a plain file name`);
    }
    return path.join(this.location, name);
  }

  /** Creates the directory (and parents) when missing, writing the marker into a directory it created. */
  async ensure(): Promise<void> {
    try {
      const existing = await stat(this.location).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err; });
      if (existing) {
        if (!existing.isDirectory()) throw new StorageError('StorageFailed', `${this.location} exists and is not a directory`);
        return;
      }
      await mkdir(this.location, { recursive: true });
      await writeFile(path.join(this.location, DIRECTORY_MARKER), JSON.stringify({ [CREATED_BY_KEY]: CREATED_BY_VALUE, createdat: new Date().toISOString() }) + '\n');
    } catch (err) {
      throw mapFsError(err, `create ${this.location}`);
    }
  }

  /**
   * Removes the directory and its content, only when it holds Outport's marker.
   * @throws StorageError ContainerNotOurs, ContainerNotFound */
  async deleteContainer(): Promise<void> {
    let marker: string;
    try {
      await stat(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError('ContainerNotFound', `${this.location} does not exist`);
      throw mapFsError(err, `open ${this.location}`);
    }
    try {
      marker = await readFile(path.join(this.location, DIRECTORY_MARKER), 'utf8');
    } catch {
      throw new StorageError('ContainerNotOurs', `${this.location} was not created by Outport (no ${DIRECTORY_MARKER}): it is not deleted`);
    }
    let parsed: unknown;
    try { parsed = JSON.parse(marker); } catch { parsed = undefined; }
    if ((parsed as Record<string, unknown> | undefined)?.[CREATED_BY_KEY] !== CREATED_BY_VALUE) {
      throw new StorageError('ContainerNotOurs', `${this.location} has a ${DIRECTORY_MARKER} that does not say ${CREATED_BY_KEY}=${CREATED_BY_VALUE}: it is not deleted`);
    }
    await rm(this.location, { recursive: true, force: true }).catch((err) => { throw mapFsError(err, `delete ${this.location}`); });
  }

  async openPart(name: string): Promise<PartSink> {
    const target = this.file(name);
    try {
      const handle = await open(target + PARTIAL_SUFFIX, 'w');
      return new DirectoryPartSink(this, name, target, handle);
    } catch (err) {
      throw mapFsError(err, `create ${target}${PARTIAL_SUFFIX}`);
    }
  }

  /** Writes `name` atomically (temp file + rename) with a sidecar holding its content type. */
  async putSmall(name: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const target = this.file(name);
    try {
      await writeFile(target + PARTIAL_SUFFIX, bytes);
      await rename(target + PARTIAL_SUFFIX, target);
      await this.writeMeta(name, { contenttype: contentType, [CREATED_BY_KEY]: CREATED_BY_VALUE });
    } catch (err) {
      throw mapFsError(err, `write ${target}`);
    }
  }

  /**
   * Writes `name` from streamed chunks (Destination.putStream): into "<name>.partial", synced, then
   * renamed, so a failure leaves no "<name>" (and an earlier one stays as it was). Sidecar: content
   * type and sha256 of the bytes.
   */
  async putStream(name: string, chunks: AsyncIterable<Uint8Array>, contentType: string, signal?: AbortSignal): Promise<void> {
    const target = this.file(name);
    const partial = target + PARTIAL_SUFFIX;
    const hash = createHash('sha256');
    let handle: FileHandle | undefined;
    try {
      handle = await open(partial, 'w');
      let length = 0;
      for await (const chunk of chunks) {
        signal?.throwIfAborted();
        hash.update(chunk);
        await writeFully(handle, chunk, length);
        length += chunk.length;
      }
      signal?.throwIfAborted();
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(partial, target);
      await this.writeMeta(name, { contenttype: contentType, [CREATED_BY_KEY]: CREATED_BY_VALUE, sha256: hash.digest('hex') });
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await rm(partial, { force: true }).catch(() => undefined);
      if (signal?.aborted && err === signal.reason) throw err;
      throw err instanceof StorageError || (err as NodeJS.ErrnoException).code === undefined ? err : mapFsError(err, `write ${target}`);
    }
  }

  async getSmall(name: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.file(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw mapFsError(err, `read ${name}`);
    }
  }

  /** Streams a file in 1 MiB reads; undefined when absent. */
  async getStream(name: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.file(name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw mapFsError(err, `read ${name}`);
    }
    return (async function* chunks(): AsyncGenerator<Uint8Array> {
      const buf = Buffer.allocUnsafe(1024 * 1024);
      try {
        for (;;) {
          let got: number;
          try {
            ({ bytesRead: got } = await handle.read(buf, 0, buf.length, null));
          } catch (err) {
            throw mapFsError(err, `read ${name}`);
          }
          if (got === 0) return;
          yield buf.subarray(0, got);
        }
      } finally {
        await handle.close().catch(() => undefined);
      }
    })();
  }

  /** Files whose names start with `prefix`, without sidecars, markers and partial parts. */
  async list(prefix: string): Promise<StoredObject[]> {
    let names: string[];
    try {
      names = await readdir(this.location);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StorageError('ContainerNotFound', `${this.location} does not exist`);
      throw mapFsError(err, `list ${this.location}`);
    }
    const out: StoredObject[] = [];
    for (const name of names.sort()) {
      if (!name.startsWith(prefix) || name.startsWith('.') || name.endsWith(PARTIAL_SUFFIX)) continue;
      const st = await stat(path.join(this.location, name)).catch(() => undefined);
      if (!st?.isFile()) continue;
      out.push({ name, sizeBytes: st.size, metadata: await this.readMeta(name) });
    }
    return out;
  }

  async delete(name: string): Promise<void> {
    try {
      await rm(this.file(name), { force: true });
      await rm(path.join(this.location, sidecarName(name)), { force: true });
    } catch (err) {
      throw mapFsError(err, `delete ${name}`);
    }
  }

  /** Directories have no URLs to share. */
  async readUrl(): Promise<string | undefined> {
    return undefined;
  }

  /** @internal */
  async writeMeta(name: string, metadata: Record<string, string>): Promise<void> {
    const file = path.join(this.location, sidecarName(name));
    await writeFile(file + PARTIAL_SUFFIX, JSON.stringify(metadata) + '\n');
    await rename(file + PARTIAL_SUFFIX, file);
  }

  private async readMeta(name: string): Promise<Record<string, string>> {
    try {
      return JSON.parse(await readFile(path.join(this.location, sidecarName(name)), 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }
}

/**
 * A part file. SHA-256: the bytes after the header region are hashed as they are appended; at close
 * the whole file is read back once (local, sequential, usually from the page cache) to hash the final
 * bytes, and the read-back's hash of the bytes after the header region must equal the running one.
 */
class DirectoryPartSink implements PartSink {
  private length = 0;
  private readonly tailHash = createHash('sha256');
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private result?: StoredPart;

  constructor(private readonly dest: DirectoryDestination, readonly name: string, private readonly target: string, private handle: FileHandle) {}

  private partial(): string {
    return this.target + PARTIAL_SUFFIX;
  }

  async append(bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new StorageError('StorageFailed', `part ${this.name} is already ${this.state}`);
    await writeFully(this.handle, bytes, this.length);
    if (this.length + bytes.length > HEADER_REGION_BYTES) {
      this.tailHash.update(bytes.subarray(Math.max(0, HEADER_REGION_BYTES - this.length)));
    }
    this.length += bytes.length;
  }

  /** Rewrites the header region (the PST writer's one writeAt at close). */
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new StorageError('StorageFailed', `part ${this.name} is already ${this.state}`);
    if (offset < 0 || offset + bytes.length > this.length) throw new RangeError(`writeAt(${offset}, ${bytes.length} bytes) passes the end of what was appended (${this.length})`);
    if (offset + bytes.length > HEADER_REGION_BYTES) throw new RangeError(`writeAt(${offset}, ${bytes.length} bytes): only the first ${HEADER_REGION_BYTES} bytes (the PST header region) can be rewritten`);
    await writeFully(this.handle, bytes, offset);
  }

  async close(): Promise<void> {
    if (this.state !== 'open') throw new StorageError('StorageFailed', `part ${this.name} is already ${this.state}`);
    try {
      await this.handle.sync();
      await this.handle.close();
      const { full, tail } = await hashFile(this.partial());
      if (tail !== this.tailHash.digest('hex')) throw new StorageError('StorageFailed', `read-back of ${this.partial()}: the bytes after the header region differ from what was written`);
      await rename(this.partial(), this.target);
      await this.dest.writeMeta(this.name, { [CREATED_BY_KEY]: CREATED_BY_VALUE, contenttype: PST_CONTENT_TYPE, sha256: full });
      this.state = 'closed';
      this.result = { name: this.name, sizeBytes: this.length, sha256: full };
    } catch (err) {
      this.state = 'aborted';
      await rm(this.partial(), { force: true }).catch(() => undefined);
      throw mapFsError(err, `close ${this.target}`);
    }
  }

  /** Closes and removes the .partial file; an earlier complete "<name>" is left as it was. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.handle.close().catch(() => undefined);
    await rm(this.partial(), { force: true });
  }

  stored(): StoredPart {
    if (!this.result) throw new Error(`part ${this.name} is not closed: stored() is valid after close() resolved`);
    return this.result;
  }
}

async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

async function hashFile(file: string): Promise<{ full: string; tail: string }> {
  const full = createHash('sha256');
  const tail = createHash('sha256');
  let offset = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    full.update(chunk);
    if (offset + chunk.length > HEADER_REGION_BYTES) tail.update(chunk.subarray(Math.max(0, HEADER_REGION_BYTES - offset)));
    offset += chunk.length;
  }
  return { full: full.digest('hex'), tail: tail.digest('hex') };
}

function mapFsError(err: unknown, operation: string): Error {
  if (err instanceof StorageError || err instanceof RangeError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new StorageError('AuthenticationFailed', `${operation}: permission denied (${code})`);
  if (code === 'ENOENT') return new StorageError('ContainerNotFound', `${operation}: the directory does not exist (run ensure() first)`);
  return new StorageError('StorageFailed', `${operation}: ${code ?? (err as Error).message}`);
}
