/**
 * Where an export's PST parts and their manifests go: a container in the customer's Azure Blob
 * account, or a local directory (ARCHITECTURE.md "The PST writer streams"; docs/storage.md).
 * The export pipeline (export/) writes through this interface only; it knows nothing of Azure.
 */
import type { PstSink } from '../pst/sink';

/** What a part sink reports once closed. */
export interface StoredPart {
  /** Blob or file name, e.g. "user1-2.pst". */
  name: string;
  /** Bytes stored. */
  sizeBytes: number;
  /** SHA-256 of the stored bytes, lowercase hex (also kept as blob metadata `sha256`). */
  sha256: string;
}

/** A PST sink that, once {@link PstSink.close} resolved, tells what it stored. */
export interface PartSink extends PstSink {
  /** Valid after close(). @throws Error when called before close() */
  stored(): StoredPart;
}

/** A stored object's name and size (listing). */
export interface StoredObject {
  name: string;
  sizeBytes: number;
  /** Metadata stored with it (blob metadata; a directory sink keeps a sidecar), keys lowercase. */
  metadata: Record<string, string>;
}

/**
 * One destination (container or directory). Names are flat file names (no separators); callers
 * validate them with storage/validate.ts first. Every method may throw a {@link StorageError}.
 */
export interface Destination {
  /** Human-readable location without secrets, e.g. "https://acct.blob.core.windows.net/outport" or "/data/exports". */
  readonly location: string;
  /** Creates the container/directory when missing (marking it as created by Outport). */
  ensure(signal?: AbortSignal): Promise<void>;
  /** A sink for a new part; an existing object of that name is replaced only at close (commit). */
  openPart(name: string, signal?: AbortSignal): Promise<PartSink>;
  /** Writes a small object (a part's manifest JSON, a probe) in one request. */
  putSmall(name: string, bytes: Uint8Array, contentType: string, signal?: AbortSignal): Promise<void>;
  /**
   * Writes an object streamed from `chunks` (a part's manifest: tens of MB for a large part), never
   * holding it whole. Atomic: the object appears (or replaces an earlier one of the name) only once
   * every chunk is stored; when `chunks` throws, the signal fires or the storage fails, nothing of
   * it is visible and an earlier object of the name stays as it was. Each chunk is used before the
   * next one is asked for (a producer may reuse its buffer). Azure: staged blocks + "Put Block
   * List" (or one "Put Blob" when it fits one block); directory: a ".partial" file renamed.
   * Stores metadata `sha256` of the bytes. @throws what `chunks` throws, or a StorageError
   */
  putStream(name: string, chunks: AsyncIterable<Uint8Array>, contentType: string, signal?: AbortSignal): Promise<void>;
  /** Reads a small object whole; undefined when absent. */
  getSmall(name: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /**
   * Reads an object as it arrives, in chunks (a large part's manifest on a resume), never holding
   * it whole; undefined when absent. Each chunk may be reused once the next is asked for. A
   * failure while reading is thrown by the iteration. @throws StorageError
   */
  getStream(name: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Objects whose names start with `prefix`. */
  list(prefix: string, signal?: AbortSignal): Promise<StoredObject[]>;
  /** Deletes an object; absent is not an error. */
  delete(name: string, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes the whole container/directory with everything in it, but only when Outport created it
   * (container metadata `createdby=outport`; a directory's marker file `.outport-container.json`).
   * @throws StorageError "ContainerNotOurs" when it was created by someone else (nothing deleted),
   *   "ContainerNotFound" when absent */
  deleteContainer(signal?: AbortSignal): Promise<void>;
  /**
   * A short-lived read-only URL of an object (a service SAS, `sp=r`, valid `minutes`, default 15), or
   * undefined when the credential cannot mint one (a SAS URL destination, a directory).
   * Azure "Create a service SAS" (learn.microsoft.com/rest/api/storageservices/create-service-sas). */
  readUrl(name: string, minutes?: number): Promise<string | undefined>;
}

/** Codes of {@link StorageError}. */
export type StorageErrorCode =
  | 'AuthenticationFailed'   // key, SAS or connection string refused (403/401)
  | 'ContainerNotFound'
  | 'ContainerNotOurs'       // delete refused: Outport did not create it
  | 'NotFound'
  | 'Unreachable'            // DNS, TLS, connection refused after the SDK's retries
  | 'StorageFailed';         // anything else, with the service's code in the message

/** A storage failure with a stable code; never carries a key, SAS signature or connection string. */
export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, message: string, readonly status?: number) {
    super(message);
    this.name = 'StorageError';
  }
}
