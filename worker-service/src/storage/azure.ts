/**
 * The Azure Blob destination (docs/storage.md): a container in the customer's storage account, reached
 * with @azure/storage-blob through an account key, a container SAS URL or a connection string.
 *
 * A part streams into staged blocks ("Put Block", learn.microsoft.com/rest/api/storageservices/put-block)
 * and is committed with "Put Block List" at close, so nothing is visible until the part is complete and
 * the PST never touches local disk. The PST writer rewrites only its first 0x4400 bytes (header and
 * DList) at close (ARCHITECTURE.md "The PST writer streams"); that region is held in memory and staged
 * last, as the first block. Memory per part: 0x4400 bytes + one block being filled + at most
 * `maxBlocksInFlight` blocks uploading, independent of the part's size.
 *
 * SHA-256: the header region becomes final only at close, so the hash of the final bytes cannot be
 * computed in one pass while streaming. After the commit the blob is read back (ranged GETs, streamed,
 * hashed); the read-back also proves what Azure stored: its bytes after the header region must hash to
 * what was staged, and its header region must equal the one held in memory. The hash is then written
 * as blob metadata `sha256` (docs/storage.md "SHA-256 of a part").
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  AnonymousCredential,
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  RestError,
  StorageRetryPolicyType,
  StorageSharedKeyCredential,
  type BlockBlobClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { StorageError, type Destination, type PartSink, type StoredObject, type StoredPart } from './destination';
import { CREATED_BY_KEY, CREATED_BY_VALUE, HEADER_REGION_BYTES, PST_CONTENT_TYPE } from './constants';
import type { AzureDestinationConfig } from './validate';

/** Default staged block size: 8 MiB (50,000 blocks × 8 MiB = 390 GiB, far above the 50 GiB part limit). */
export const DEFAULT_BLOCK_SIZE_BYTES = 8 * 1024 * 1024;
/** Most blocks a blob may have ("Put Block List": 50,000 committed blocks). */
export const MAX_BLOCKS_PER_BLOB = 50_000;
/** Largest block we stage: the service allows 4,000 MiB, but memory per part is what bounds us. */
export const MAX_BLOCK_SIZE_BYTES = 256 * 1024 * 1024;
/** Largest block of a streamed object (putStream: manifests). */
export const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;
/** Default number of blocks uploading at once per part. */
export const DEFAULT_MAX_BLOCKS_IN_FLIGHT = 2;

/** Options of {@link AzureBlobDestination}. */
export interface AzureBlobOptions {
  /** Staged block size in bytes (default 8 MiB; 64 KiB … 256 MiB). */
  blockSizeBytes?: number;
  /** Blocks uploading at once per part (default 2; 1 … 16). */
  maxBlocksInFlight?: number;
  /** The SDK's retry policy (StorageRetryOptions); defaults: exponential, 6 tries, 1 s base delay, 60 s cap, 120 s server timeout per try. */
  retry?: {
    maxTries?: number;
    retryDelayInMs?: number;
    maxRetryDelayInMs?: number;
    tryTimeoutInMs?: number;
  };
}

/**
 * A container as a {@link Destination}. Construct with a validated config (storage/validate.ts).
 * Errors are {@link StorageError}s whose messages name the operation, the location (no query) and
 * the service's error code; never a key, SAS signature or connection string.
 */
export class AzureBlobDestination implements Destination {
  readonly location: string;
  readonly blockSizeBytes: number;
  readonly maxBlocksInFlight: number;
  /** @internal */ readonly container: ContainerClient;
  private readonly canSign: boolean;

  constructor(readonly config: AzureDestinationConfig, options: AzureBlobOptions = {}) {
    this.blockSizeBytes = options.blockSizeBytes ?? DEFAULT_BLOCK_SIZE_BYTES;
    if (!Number.isInteger(this.blockSizeBytes) || this.blockSizeBytes < 64 * 1024 || this.blockSizeBytes > MAX_BLOCK_SIZE_BYTES) {
      throw new RangeError(`blockSizeBytes must be an integer within 64 KiB … 256 MiB, got ${this.blockSizeBytes}`);
    }
    this.maxBlocksInFlight = options.maxBlocksInFlight ?? DEFAULT_MAX_BLOCKS_IN_FLIGHT;
    if (!Number.isInteger(this.maxBlocksInFlight) || this.maxBlocksInFlight < 1 || this.maxBlocksInFlight > 16) {
      throw new RangeError(`maxBlocksInFlight must be an integer within 1 … 16, got ${this.maxBlocksInFlight}`);
    }
    const pipeline: StoragePipelineOptions = {
      retryOptions: {
        retryPolicyType: StorageRetryPolicyType.EXPONENTIAL,
        maxTries: options.retry?.maxTries ?? 6,
        retryDelayInMs: options.retry?.retryDelayInMs ?? 1000,
        maxRetryDelayInMs: options.retry?.maxRetryDelayInMs ?? 60_000,
        tryTimeoutInMs: options.retry?.tryTimeoutInMs ?? 120_000,
      },
      userAgentOptions: { userAgentPrefix: 'outport' },
    };
    this.location = `${config.serviceUrl}/${config.container}`;
    if (config.sharedKey !== undefined) {
      const service = new BlobServiceClient(config.serviceUrl, new StorageSharedKeyCredential(config.accountName, config.sharedKey), pipeline);
      this.container = service.getContainerClient(config.container);
      this.canSign = true;
    } else if (config.sas !== undefined) {
      const base = config.credentialSource === 'sasUrl'
        ? `${config.serviceUrl}/${encodeURIComponent(config.container)}?${config.sas}`
        : undefined;
      this.container = base !== undefined
        ? new ContainerClient(base, new AnonymousCredential(), pipeline)
        : new BlobServiceClient(`${config.serviceUrl}?${config.sas}`, new AnonymousCredential(), pipeline).getContainerClient(config.container);
      this.canSign = false;
    } else {
      throw new StorageError('AuthenticationFailed', `no credential for ${this.location}: give an account key, a SAS URL or a connection string`);
    }
  }

  /**
   * Creates the container when missing, with metadata createdby=outport (and createdat); an existing
   * container is left as it is. With a container SAS URL (which cannot create or read container
   * properties) it only proves access by listing one blob.
   * @throws StorageError AuthenticationFailed, ContainerNotFound (SAS URL to a missing container), Unreachable, StorageFailed */
  async ensure(signal?: AbortSignal): Promise<void> {
    try {
      if (this.config.credentialSource === 'sasUrl') {
        await this.container.listBlobsFlat({ abortSignal: signal }).byPage({ maxPageSize: 1 }).next();
        return;
      }
      await this.container.createIfNotExists({ metadata: { [CREATED_BY_KEY]: CREATED_BY_VALUE, createdat: new Date().toISOString() }, abortSignal: signal });
    } catch (err) {
      throw this.mapError(err, 'create or open container');
    }
  }

  /**
   * Deletes the container only when its metadata says Outport created it.
   * @throws StorageError ContainerNotOurs (nothing deleted), ContainerNotFound, AuthenticationFailed (e.g. a container SAS, which cannot read container metadata) */
  async deleteContainer(signal?: AbortSignal): Promise<void> {
    let metadata: Record<string, string> | undefined;
    try {
      metadata = (await this.container.getProperties({ abortSignal: signal })).metadata;
    } catch (err) {
      throw this.mapError(err, 'read container metadata');
    }
    if (metadata?.[CREATED_BY_KEY] !== CREATED_BY_VALUE) {
      throw new StorageError('ContainerNotOurs', `container ${this.location} was not created by Outport (no metadata ${CREATED_BY_KEY}=${CREATED_BY_VALUE}): it is not deleted; delete it yourself in the Azure portal if you mean to`, 409);
    }
    try {
      await this.container.delete({ abortSignal: signal });
    } catch (err) {
      throw this.mapError(err, 'delete container');
    }
  }

  /** A sink staging blocks of blob `name`; see the file comment. */
  async openPart(name: string, signal?: AbortSignal): Promise<PartSink> {
    return new AzureBlobPartSink(this, name, signal);
  }

  /** Uploads `bytes` as one block blob ("Put Blob"). */
  async putSmall(name: string, bytes: Uint8Array, contentType: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.container.getBlockBlobClient(name).upload(bytes, bytes.length, {
        blobHTTPHeaders: { blobContentType: contentType },
        metadata: { [CREATED_BY_KEY]: CREATED_BY_VALUE },
        abortSignal: signal,
      });
    } catch (err) {
      throw this.mapError(err, `upload ${name}`);
    }
  }

  /**
   * Uploads an object streamed from `chunks` (Destination.putStream): gathered into blocks of at
   * most 4 MiB (or `blockSizeBytes` when smaller), staged one at a time, committed with "Put Block
   * List" — or sent as one "Put Blob" when it fits one block. Until the commit nothing is visible;
   * staged blocks of a failed upload are never committed (the service discards them after a week).
   * Memory: one block buffer. Metadata: createdby, sha256 of the bytes.
   */
  async putStream(name: string, chunks: AsyncIterable<Uint8Array>, contentType: string, signal?: AbortSignal): Promise<void> {
    const blob = this.container.getBlockBlobClient(name);
    const nonce = randomBytes(4).toString('hex');
    const block = Buffer.allocUnsafe(Math.min(this.blockSizeBytes, STREAM_BLOCK_BYTES));
    const blockIds: string[] = [];
    const hash = createHash('sha256');
    let used = 0;
    const stage = async (): Promise<void> => {
      if (blockIds.length + 1 > MAX_BLOCKS_PER_BLOB) throw new StorageError('StorageFailed', `${name} needs more than ${MAX_BLOCKS_PER_BLOB} blocks of ${block.length} bytes`);
      const id = Buffer.from(`${nonce}-${String(blockIds.length).padStart(6, '0')}`).toString('base64');
      try {
        await blob.stageBlock(id, block.subarray(0, used), used, { abortSignal: signal });
      } catch (err) {
        throw this.mapError(err, `upload block of ${name}`);
      }
      blockIds.push(id);
      used = 0;
    };
    for await (const chunk of chunks) {
      signal?.throwIfAborted();
      hash.update(chunk);
      for (let o = 0; o < chunk.length;) {
        if (used === block.length) await stage();
        const n = Math.min(block.length - used, chunk.length - o);
        block.set(chunk.subarray(o, o + n), used);
        used += n;
        o += n;
      }
    }
    signal?.throwIfAborted();
    const options = { blobHTTPHeaders: { blobContentType: contentType }, metadata: { [CREATED_BY_KEY]: CREATED_BY_VALUE, sha256: hash.digest('hex') }, abortSignal: signal };
    try {
      if (blockIds.length === 0) {
        await blob.upload(block.subarray(0, used), used, options);
      } else {
        if (used > 0) await stage();
        await blob.commitBlockList(blockIds, options);
      }
    } catch (err) {
      throw this.mapError(err, `upload ${name}`);
    }
  }

  /** Downloads a blob whole; undefined when it does not exist. */
  async getSmall(name: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const chunks = await this.getStream(name, signal);
    if (!chunks) return undefined;
    const all: Uint8Array[] = [];
    for await (const c of chunks) all.push(c);
    return Buffer.concat(all);
  }

  /** Streams a blob ("Get Blob"; the SDK resumes a broken download up to 5 times); undefined when absent. */
  async getStream(name: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined> {
    let body: AsyncIterable<Buffer | string>;
    try {
      const res = await this.container.getBlobClient(name).download(0, undefined, { abortSignal: signal, maxRetryRequests: 5 });
      body = res.readableStreamBody! as AsyncIterable<Buffer | string>;
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404 && err.code !== 'ContainerNotFound') return undefined;
      throw this.mapError(err, `download ${name}`);
    }
    const mapError = (err: unknown) => this.mapError(err, `download ${name}`);
    return (async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for await (const c of body) yield typeof c === 'string' ? Buffer.from(c) : c;
      } catch (err) {
        throw mapError(err);
      }
    })();
  }

  /** Blobs whose names start with `prefix`, with their metadata. */
  async list(prefix: string, signal?: AbortSignal): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    try {
      for await (const blob of this.container.listBlobsFlat({ prefix, includeMetadata: true, abortSignal: signal })) {
        out.push({ name: blob.name, sizeBytes: blob.properties.contentLength ?? 0, metadata: lowerKeys(blob.metadata ?? {}) });
      }
    } catch (err) {
      throw this.mapError(err, `list ${prefix || '(all)'}`);
    }
    return out;
  }

  /** Deletes a blob; absent is fine. */
  async delete(name: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.container.getBlobClient(name).deleteIfExists({ abortSignal: signal });
    } catch (err) {
      throw this.mapError(err, `delete ${name}`);
    }
  }

  /**
   * A read-only service SAS URL for `name`, valid from 5 minutes ago (clock skew) for `minutes`
   * (1 … 1440, default 15); undefined for a SAS destination (a SAS cannot mint another).
   * Azure "Create a service SAS". @throws RangeError for minutes out of range */
  async readUrl(name: string, minutes = 15): Promise<string | undefined> {
    if (!(minutes >= 1 && minutes <= 1440)) throw new RangeError(`minutes must be within 1 … 1440, got ${minutes}`);
    if (!this.canSign) return undefined;
    const now = Date.now();
    return this.container.getBlobClient(name).generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + minutes * 60_000),
    });
  }

  /**
   * Turns an SDK failure into a StorageError with a message built from the operation, the location
   * and the service's error code and request id only: the SDK's own messages and request objects can
   * carry the Authorization header's signature or a SAS query, so they are never copied.
   * @internal */
  mapError(err: unknown, operation: string): Error {
    if (err instanceof StorageError) return err;
    if (isAbort(err)) return err as Error;
    const where = `${operation} at ${this.location}`;
    if (err instanceof RestError) {
      const status = err.statusCode;
      const code = err.code ?? (err.response?.headers.get('x-ms-error-code') ?? undefined);
      const requestId = err.response?.headers.get('x-ms-request-id');
      const tail = `${code ? ` ${code}` : ''}${status ? ` (HTTP ${status})` : ''}${requestId ? `, request id ${requestId}` : ''}`;
      if (status === 401 || status === 403) {
        return new StorageError('AuthenticationFailed', `${where}: the storage service refused the credential${tail}: check the account key, SAS (permissions, expiry) or connection string`, status);
      }
      if (status === 404 && code === 'ContainerNotFound') return new StorageError('ContainerNotFound', `${where}: container "${this.config.container}" does not exist${tail}`, 404);
      if (status === 404) return new StorageError('NotFound', `${where}: not found${tail}`, 404);
      if (status === undefined || status === 0) {
        const netCode = String(err.code ?? 'network error');
        return new StorageError('Unreachable', `${where}: cannot reach the storage endpoint (${netCode}) after retries: check the account name, endpoint suffix or blob endpoint, and the network`);
      }
      return new StorageError('StorageFailed', `${where}:${tail}`, status);
    }
    const code = (err as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && /^E[A-Z]+/.test(code)) {
      return new StorageError('Unreachable', `${where}: cannot reach the storage endpoint (${code}) after retries`);
    }
    return new StorageError('StorageFailed', `${where}: ${err instanceof Error ? err.name : 'unknown failure'}`);
  }
}

/**
 * One part streaming into staged blocks. Block 0 is the header region (first 0x4400 bytes, staged at
 * close); blocks 1… carry the rest in `blockSizeBytes` pieces, staged as they fill with at most
 * `maxBlocksInFlight` uploads at a time. Block ids are base64 of "<8 hex random>-<6-digit index>":
 * equal length (as Put Block List requires) and unique to this sink, so a stale writer of the same
 * name can never slip its blocks into this commit.
 */
class AzureBlobPartSink implements PartSink {
  private readonly blob: BlockBlobClient;
  private readonly header = Buffer.alloc(HEADER_REGION_BYTES);
  private headerLength = 0;
  private current: Buffer;
  private currentLength = 0;
  private readonly blockIds: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private length = 0;
  private readonly tailHash = createHash('sha256');
  private readonly nonce = randomBytes(4).toString('hex');
  /**
   * Block buffers whose upload succeeded, reused for the next blocks: at most one filling plus
   * `maxBlocksInFlight` uploading (and one waiting for a slot) exist, instead of a new 8 MiB buffer a
   * block left for the garbage collector (which let a 4 GB part's external memory swing by ~60 MB).
   */
  private readonly spare: Buffer[] = [];
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private result?: StoredPart;
  /** Blocks staged (for tests and statistics). */
  blocksStaged = 0;

  constructor(private readonly dest: AzureBlobDestination, readonly name: string, private readonly signal?: AbortSignal) {
    this.blob = dest.container.getBlockBlobClient(name);
    this.current = Buffer.allocUnsafe(dest.blockSizeBytes);
  }

  private blockId(index: number): string {
    return Buffer.from(`${this.nonce}-${String(index).padStart(6, '0')}`).toString('base64');
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.dest.mapError(this.failure, `upload block of ${this.name}`);
    if (this.state !== 'open') throw new StorageError('StorageFailed', `part ${this.name} is already ${this.state}`);
  }

  async append(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    let offset = 0;
    if (this.headerLength < HEADER_REGION_BYTES) {
      const n = Math.min(HEADER_REGION_BYTES - this.headerLength, bytes.length);
      this.header.set(bytes.subarray(0, n), this.headerLength);
      this.headerLength += n;
      offset = n;
    }
    while (offset < bytes.length) {
      const n = Math.min(this.current.length - this.currentLength, bytes.length - offset);
      this.current.set(bytes.subarray(offset, offset + n), this.currentLength);
      this.currentLength += n;
      offset += n;
      if (this.currentLength === this.current.length) await this.stageCurrent();
    }
    this.length += bytes.length;
  }

  /** Rewrites bytes not yet staged: the header region (what the PST writer does at close) or the block being filled. */
  async writeAt(offset: number, bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    const end = offset + bytes.length;
    if (offset < 0 || end > this.length) throw new RangeError(`writeAt(${offset}, ${bytes.length} bytes) passes the end of what was appended (${this.length})`);
    const currentStart = this.length - this.currentLength;
    for (let i = 0; i < bytes.length;) {
      const at = offset + i;
      if (at < HEADER_REGION_BYTES) {
        const n = Math.min(HEADER_REGION_BYTES - at, bytes.length - i);
        this.header.set(bytes.subarray(i, i + n), at);
        i += n;
      } else if (at >= currentStart) {
        this.current.set(bytes.subarray(i), at - currentStart);
        break;
      } else {
        throw new RangeError(`writeAt(${offset}, ${bytes.length} bytes): bytes ${HEADER_REGION_BYTES}…${currentStart} are already staged; only the first ${HEADER_REGION_BYTES} bytes (the PST header region) and the unstaged tail can be rewritten`);
      }
    }
  }

  private async stageCurrent(): Promise<void> {
    if (this.currentLength === 0) return;
    if (this.blockIds.length + 2 > MAX_BLOCKS_PER_BLOB) {
      throw new StorageError('StorageFailed', `part ${this.name} would need more than ${MAX_BLOCKS_PER_BLOB} blocks of ${this.dest.blockSizeBytes} bytes: use a larger block size or a smaller split size`);
    }
    const buffer = this.current;
    const body = buffer.subarray(0, this.currentLength);
    this.tailHash.update(body);
    const id = this.blockId(this.blockIds.length + 1);
    this.blockIds.push(id);
    this.current = this.spare.pop() ?? Buffer.allocUnsafe(this.dest.blockSizeBytes);
    this.currentLength = 0;
    while (this.inFlight.size >= this.dest.maxBlocksInFlight) await Promise.race(this.inFlight);
    this.throwIfFailed();
    const p: Promise<void> = this.stage(id, body).then(
      // Reused only after a successful upload: a failed one may still be read by a request being torn down.
      () => { this.inFlight.delete(p); if (this.state === 'open') this.spare.push(buffer); },
      (err) => { this.failure ??= err; this.inFlight.delete(p); },
    );
    this.inFlight.add(p);
  }

  private async stage(id: string, body: Buffer): Promise<void> {
    await this.blob.stageBlock(id, body, body.length, {
      abortSignal: this.signal,
      // The service checks each block against its MD5 in transit (Put Block "Content-MD5").
      transactionalContentMD5: createHash('md5').update(body).digest(),
    });
    this.blocksStaged++;
  }

  private async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
  }

  /** Stages the rest and the header block, commits, reads back for SHA-256, stores it as metadata. */
  async close(): Promise<void> {
    this.throwIfFailed();
    try {
      await this.stageCurrent();
      await this.drain();
      this.throwIfFailed();
      // Put Block refuses an empty body: an empty part commits an empty block list (a 0-byte blob).
      const headerId = this.blockId(0);
      if (this.headerLength > 0) await this.stage(headerId, this.header.subarray(0, this.headerLength));
      const metadata = { [CREATED_BY_KEY]: CREATED_BY_VALUE };
      await this.blob.commitBlockList(this.headerLength > 0 ? [headerId, ...this.blockIds] : [], {
        blobHTTPHeaders: { blobContentType: PST_CONTENT_TYPE },
        metadata,
        abortSignal: this.signal,
      });
      this.state = 'closed';
      // committed: the block buffers are not needed for the read-back (up to 2 ranges in flight)
      this.current = Buffer.alloc(0);
      this.spare.length = 0;
      const sha256 = await this.readBack();
      await this.blob.setMetadata({ ...metadata, sha256 }, { abortSignal: this.signal });
      this.result = { name: this.name, sizeBytes: this.length, sha256 };
    } catch (err) {
      if (this.state === 'open') this.state = 'aborted';
      throw this.dest.mapError(err, `commit ${this.name}`);
    }
  }

  /**
   * Streams the committed blob back in ranges of one block size (the next range's request started
   * while this one is read), hashing each chunk as it arrives (no range is gathered into one buffer);
   * checks its size, its header region and the hash of the rest against what was staged.
   * @returns SHA-256 (lowercase hex) of the stored bytes */
  private async readBack(): Promise<string> {
    const full = createHash('sha256');
    const tail = createHash('sha256');
    const range = this.dest.blockSizeBytes;
    const request = (offset: number) => this.blob.download(offset, Math.min(range, this.length - offset), { abortSignal: this.signal, maxRetryRequests: 5 });
    let next = this.length > 0 ? request(0) : undefined;
    for (let offset = 0; next; offset += range) {
      const res = await next;
      next = offset + range < this.length ? request(offset + range) : undefined;
      next?.catch(() => undefined); // awaited next round; avoid an unhandled rejection if this round throws
      const want = Math.min(range, this.length - offset);
      let got = 0;
      for await (const c of res.readableStreamBody! as AsyncIterable<Buffer | string>) {
        const chunk = typeof c === 'string' ? Buffer.from(c) : c;
        const at = offset + got;
        got += chunk.length;
        if (got > want) break;
        full.update(chunk);
        let from = 0;
        if (at < HEADER_REGION_BYTES) {
          from = Math.min(HEADER_REGION_BYTES - at, chunk.length);
          if (!chunk.subarray(0, from).equals(this.header.subarray(at, at + from))) {
            throw new StorageError('StorageFailed', `read-back of ${this.name}: the stored header region differs from what was staged`);
          }
        }
        if (from < chunk.length) tail.update(chunk.subarray(from));
      }
      if (got !== want) throw new StorageError('StorageFailed', `read-back of ${this.name} returned ${got} bytes at ${offset}: the stored blob is not the size written (${this.length})`);
    }
    if (tail.digest('hex') !== this.tailHash.digest('hex')) {
      throw new StorageError('StorageFailed', `read-back of ${this.name}: the stored bytes after the header region differ from what was staged`);
    }
    return full.digest('hex');
  }

  /** Stops staging; nothing is committed (staged blocks expire after 7 days unless a later commit of this name supersedes them). */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.drain().catch(() => undefined);
    this.current = Buffer.alloc(0);
    this.spare.length = 0;
  }

  stored(): StoredPart {
    if (!this.result) throw new Error(`part ${this.name} is not closed: stored() is valid after close() resolved`);
    return this.result;
  }
}

function lowerKeys(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k.toLowerCase()] = v;
  return out;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}
