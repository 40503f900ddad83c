/**
 * Types of the Graph source API (source.ts): which mailbox, the options, and the events it yields.
 * docs/graph-source.md describes the pipeline.
 */
import type { MapiFolder, MapiItem } from '../mapi/item';

/** Which mailbox to read: a mailbox id (`MBX:…`), or a user (id or UPN) and whether the archive. */
export type SourceMailbox =
  | {
    mailboxId: string;
    /** The owner (id or UPN): needed for the REST path (fallback of undecodable mail, REST mode). */
    user?: string;
  }
  | { user: string; archive?: boolean };

/** Which dates a date range looks at. */
export type SourceDateField = 'createdDateTime' | 'lastModifiedDateTime';

/** A date range on items; `before` is exclusive, `notBefore` inclusive. */
export interface SourceDateRange {
  /** Default createdDateTime. */
  field?: SourceDateField;
  notBefore?: Date;
  before?: Date;
}

/** How items are read: `auto` = exportItems where the cloud has it, else REST; `rest` = REST only. */
export type SourceMode = 'auto' | 'rest';

/**
 * What a source asks of a set of item ids it is given: membership and a count. A `Set<string>`
 * is one; export/id-set.ts `IdHashSet` (96-bit hashes outside the JS heap) is another, for the ids
 * of a resumed export's finished parts.
 */
export interface IdMembership {
  /** Whether `id` (a mailboxItem id as Graph lists it) is in the set. */
  has(id: string): boolean;
  /** Ids in the set; 0 is an empty set (nothing is skipped). */
  readonly size: number;
}

/** Options of {@link items}. */
export interface SourceOptions {
  /** Message class prefixes to keep (`IPM.Note`, `IPM.Appointment`…); case-insensitive; default all. */
  itemTypes?: readonly string[];
  /** Folder paths (`Inbox/Lists`, display names joined by `/`, case-insensitive): only these and their subfolders. */
  includeFolders?: readonly string[];
  /** Folder paths to leave out, with their subfolders. */
  excludeFolders?: readonly string[];
  /** Only items in this range (the pre-stage's "older than N days": {@link olderThanDays}). */
  dateRange?: SourceDateRange;
  /** Saved deltaLinks by folder id (from `folderEnd` events of an earlier pass): only changes since. */
  since?: Readonly<Record<string, string>>;
  /**
   * Read exactly these items (ids as in earlier `item`/`error` events' `sourceId`; "retry errors").
   * The folders are listed in full (delta without `since`) and only these ids kept, grouped by folder
   * and exported by id; a folder's `folder`/`folderEnd` events appear only when it holds one of them
   * (and its `folderEnd` has no deltaLink: a partial read must not replace the saved one). Ids found
   * nowhere end as `error` events with Graph's code `ErrorItemNotFound` after the last folder.
   * `since`, `itemTypes`, `dateRange`, `includeFolders` and `excludeFolders` are ignored.
   * Listing stops as soon as every id has been found.
   */
  onlyItemIds?: readonly string[];
  /**
   * Ids already read (as in earlier `item` events' `sourceId`): e.g. the items held by the finished
   * parts of an interrupted export being resumed. They are dropped from the listing before anything
   * is fetched for them — no exportItems id, no REST `$value` — and counted in their folder's
   * `folderEnd.skipped`; the folders are still listed in full (the deltaLink stays complete).
   * With `onlyItemIds`, an id in both is found (no ErrorItemNotFound) but not read.
   */
  skipItemIds?: IdMembership;
  /** Default `auto`. */
  mode?: SourceMode;
  /** Ids per exportItems call, 1..20; default 20. */
  batchSize?: number;
  /** Byte budget per exportItems call by mailboxItem.size; default 16 MiB. */
  batchBytes?: number;
  /** Listing page size (`Prefer: odata.maxpagesize`); default 1000 on the exportItems path
   *  (DEFAULT_SOURCE_PAGE_SIZE), 100 on the REST path. */
  pageSize?: number;
  /** Export batches (or REST items) started ahead of the consumer; default 8 (the gate lets 4 run). */
  maxAhead?: number;
  /** Owner's time zone for the REST converters (Windows or IANA); default UTC. */
  timeZone?: string;
  signal?: AbortSignal;
}

/** Where an item came from: the FastTransfer stream (exportItems) or REST JSON/MIME. */
export type SourceFidelity = 'full' | 'rest';

/** Folder facts as the source saw them. */
export interface SourceFolderInfo {
  id: string;
  displayName: string;
  /** v1.0 wellKnownName (`inbox`…); null for user folders or where Graph does not say. */
  wellKnownName: string | null;
  /** Container class (`IPF.Note`…). */
  type: string;
  totalItemCount?: number;
}

/** A folder begins; its items follow. */
export interface SourceFolderEvent {
  kind: 'folder';
  /** From the top-level folder down to this one. */
  path: MapiFolder[];
  folder: SourceFolderInfo;
}

/** One item read. */
export interface SourceItemEvent {
  kind: 'item';
  path: MapiFolder[];
  item: MapiItem;
  fidelity: SourceFidelity;
  /** The item's id at the source (mailboxItem id, or REST id). */
  sourceId: string;
  changeKey?: string;
  /** exportItems: byte length of the (base64-decoded) data; REST mail: of the MIME; other REST items: of the item's JSON (UTF-8). */
  sizeBytes: number;
  /**
   * SHA-256 (lower-case hex, 64 digits) of the same bytes `sizeBytes` counts: the exportItems `data`
   * bytes, the REST MIME (`$value`), or the item's JSON as received (`JSON.stringify` of the parsed
   * object, UTF-8). Computed from the buffer already in hand; no extra copy is kept.
   */
  sourceSha256: string;
}

/** A per-item (or per-folder) failure; the read goes on. */
export interface SourceErrorEvent {
  kind: 'error';
  /** `FtsDecodeFailed`, Graph's error code (`ErrorItemNotFound`, `TooManyRequests`…), or `RestFallbackUnavailable`. */
  code: string;
  /** The item id (or the folder id when a folder could not be listed). */
  sourceId: string;
  message: string;
  /** FtsDecodeFailed: the byte offset in the exportItems data where decoding stopped. */
  offset?: number;
  path?: MapiFolder[];
}

/**
 * Something the reader should know that is not a failure, logged and shown in the summary:
 * - `RestFallback` (first event of a read): exportItems is not used for this mailbox (`reason`
 *   `cloud` = the cloud has no exportItems, e.g. GCC High, DoD, 21Vianet; `mode` = `mode: 'rest'`
 *   asked for); every item comes with fidelity `rest`, and notes and journal items are not read.
 * - `DeltaResync` (before a folder's items): the saved deltaLink of that folder was refused with
 *   410 Gone (`SyncStateNotFound`/`SyncStateInvalid`/`resyncRequired`: Exchange dropped the sync
 *   state); the folder is re-listed in full, so items already exported by an earlier pass come again
 *   (the consumer dedupes by `sourceId`). The folder's `folderEnd` has `fullResync: true`.
 */
export interface SourceNoticeEvent {
  kind: 'notice';
  code: 'RestFallback' | 'DeltaResync';
  message: string;
  /** RestFallback: why. */
  reason?: 'cloud' | 'mode';
  /** DeltaResync: the folder. */
  folderId?: string;
  path?: MapiFolder[];
  /** DeltaResync: Graph's error code and status that refused the deltaLink. */
  graphCode?: string;
  statusCode?: number;
}

/** A folder's items are done; keep `deltaLink` for the next incremental pass. */
export interface SourceFolderEndEvent {
  kind: 'folderEnd';
  path: MapiFolder[];
  folderId: string;
  /** Absent where the listing has no delta (REST events). */
  deltaLink?: string;
  /** Ids reported `@removed` by a delta round. */
  removedIds: string[];
  /** Items listed (after filters) and items yielded / failed for this folder. */
  listed: number;
  /** Items listed (after filters) but not read because their id was in `skipItemIds`; not in `listed`.
   *  Present when one was. */
  skipped?: number;
  /** The saved deltaLink was refused (410) and the folder was re-listed in full (see the `DeltaResync` notice). */
  fullResync?: boolean;
}

/** What {@link items} yields. */
export type SourceEvent = SourceFolderEvent | SourceItemEvent | SourceErrorEvent | SourceFolderEndEvent | SourceNoticeEvent;
