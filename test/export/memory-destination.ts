/**
 * A Destination kept in memory for the export tests (storage/destination.ts contract): parts are
 * committed only at close (an aborted or failed part leaves nothing, an earlier object of the name
 * stays until then), SHA-256 of the stored bytes, and fault knobs: `failAppendOnce` throws from one
 * append of a chosen part (a storage failure mid-part), `failStreamOnce` from a streamed object
 * (a failure mid-manifest).
 */
import { createHash } from 'node:crypto';
import type { Destination, PartSink, StoredObject, StoredPart } from '../../worker-service/src/storage/destination';
import { StorageError } from '../../worker-service/src/storage/destination';

export class MemoryDestination implements Destination {
  readonly location = 'memory:';
  readonly objects = new Map<string, { bytes: Buffer; metadata: Record<string, string> }>();
  /** Parts opened, in order (names). */
  readonly opened: string[] = [];
  /** Parts aborted, in order (names). */
  readonly aborted: string[] = [];
  /** Throw once from the Nth append (1-based) of the part with this name. */
  failAppendOnce?: { part: string; append: number };

  /** Throw once from putStream of an object whose name ends with `suffix`, once `afterBytes` were received. */
  failStreamOnce?: { suffix: string; afterBytes: number };
  /** Objects written through putStream, in order (names). */
  readonly streamed: string[] = [];

  async ensure(): Promise<void> {}

  async openPart(name: string, signal?: AbortSignal): Promise<PartSink> {
    signal?.throwIfAborted();
    this.opened.push(name);
    const chunks: Buffer[] = [];
    let appends = 0;
    let result: StoredPart | undefined;
    let head: { offset: number; bytes: Buffer }[] = [];
    return {
      append: async (bytes) => {
        signal?.throwIfAborted();
        appends++;
        const f = this.failAppendOnce;
        if (f && f.part === name && f.append === appends) {
          this.failAppendOnce = undefined;
          throw new StorageError('StorageFailed', `injected failure on append ${appends} of ${name}`, 503);
        }
        chunks.push(Buffer.from(bytes));
      },
      writeAt: async (offset, bytes) => {
        head.push({ offset, bytes: Buffer.from(bytes) });
      },
      close: async () => {
        signal?.throwIfAborted();
        const all = Buffer.concat(chunks);
        for (const h of head) h.bytes.copy(all, h.offset);
        head = [];
        const sha256 = createHash('sha256').update(all).digest('hex');
        this.objects.set(name, { bytes: all, metadata: { sha256 } });
        result = { name, sizeBytes: all.length, sha256 };
      },
      abort: async () => {
        this.aborted.push(name);
      },
      stored: () => {
        if (!result) throw new Error('stored() before close()');
        return result;
      },
    };
  }

  async putSmall(name: string, bytes: Uint8Array, _contentType: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.objects.set(name, { bytes: Buffer.from(bytes), metadata: {} });
  }
  /** Committed at the end only (Destination.putStream): a failure mid-stream leaves nothing. */
  async putStream(name: string, chunks: AsyncIterable<Uint8Array>, _contentType: string, signal?: AbortSignal): Promise<void> {
    const got: Buffer[] = [];
    let bytes = 0;
    for await (const c of chunks) {
      signal?.throwIfAborted();
      got.push(Buffer.from(c)); // copied: the producer may reuse its buffer
      bytes += c.length;
      const f = this.failStreamOnce;
      if (f && name.endsWith(f.suffix) && bytes >= f.afterBytes) {
        this.failStreamOnce = undefined;
        throw new StorageError('StorageFailed', `injected failure after ${bytes} bytes of ${name}`, 503);
      }
    }
    signal?.throwIfAborted();
    const all = Buffer.concat(got);
    this.streamed.push(name);
    this.objects.set(name, { bytes: all, metadata: { sha256: createHash('sha256').update(all).digest('hex') } });
  }
  async getSmall(name: string): Promise<Uint8Array | undefined> {
    return this.objects.get(name)?.bytes;
  }
  /** The object in chunks of `streamChunkBytes` (tests set it to cut lines at every place). */
  streamChunkBytes = 64 * 1024;
  async getStream(name: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const bytes = this.objects.get(name)?.bytes;
    if (!bytes) return undefined;
    const size = this.streamChunkBytes;
    return (async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
    })();
  }
  async list(prefix: string): Promise<StoredObject[]> {
    return [...this.objects].filter(([n]) => n.startsWith(prefix)).map(([name, o]) => ({ name, sizeBytes: o.bytes.length, metadata: { ...o.metadata } }));
  }
  async delete(name: string): Promise<void> {
    this.objects.delete(name);
  }
  async deleteContainer(): Promise<void> {
    this.objects.clear();
  }
  async readUrl(): Promise<string | undefined> {
    return undefined;
  }
  /** Names of stored objects, sorted. */
  names(): string[] {
    return [...this.objects.keys()].sort();
  }
}
