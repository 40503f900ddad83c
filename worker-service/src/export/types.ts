/**
 * Types of one export run (export/run.ts): the request, the checkpoint store it resumes from, the
 * progress it reports, the per-part manifest it writes. ARCHITECTURE.md "Resume": a part is atomic;
 * finished parts are recorded with the items they hold, a restarted run skips those items and redoes
 * the unfinished part from its start. The jobs layer (jobs/) implements {@link ExportCheckpoint}.
 */
import type { SourceFidelity, SourceMailbox, SourceOptions } from '../graph/source-types';

/** What kind of pass: everything, everything older than N days, or only what changed since the last pass. */
export type ExportPass = 'full' | 'prestage' | 'incremental' | 'retry-errors';

/** One line of a part manifest: an item written into the part. */
export interface ManifestItem {
  /** The item's id at the source (mailboxItem id or REST id). */
  sourceId: string;
  /** Folder path, display names joined by "/" (e.g. "Inbox/Lists"). */
  folderPath: string;
  messageClass: string;
  /** Bytes of the item as stored in the PST (PidTagMessageSize). */
  sizeBytes: number;
  fidelity: SourceFidelity;
  /**
   * SHA-256 (lowercase hex) of the item's source data (exportItems bytes, or the MIME/JSON for
   * REST), as the Graph source reports it (`SourceItemEvent.sourceSha256`); absent when the source
   * did not give one.
   */
  sourceSha256?: string;
}

/** The manifest stored beside each part as "<part>.manifest.json". */
export interface PartManifest {
  /** Manifest format version (1). */
  version: 1;
  part: { name: string; index: number; sizeBytes: number; sha256: string };
  mailbox: { source: string; archive: boolean; mailboxId?: string };
  pass: ExportPass;
  /** When the part was closed (ISO 8601). */
  closedAt: string;
  items: ManifestItem[];
}

/** A part already finished by an earlier (interrupted or earlier-pass) run of the same export. */
export interface FinishedPart {
  name: string;
  /** 1-based part index (name.pst = 1, name-2.pst = 2, …). */
  index: number;
  sizeBytes: number;
  sha256: string;
  /**
   * Source ids of the items the part holds — or none, from a checkpoint whose record is the
   * manifest ({@link ExportCheckpoint.sourceIdsInManifests}): the run then reads the ids from the
   * part's `<name>.manifest.json` in the destination.
   */
  sourceIds: readonly string[];
  /** Items the part holds; absent: `sourceIds.length` (records made before it was kept). */
  itemCount?: number;
  pass: ExportPass;
}

/**
 * A part written by a run, as its {@link ExportResult} reports it: the finished-part record without
 * the ids (they are in the part's manifest and, when the checkpoint keeps them, in the checkpoint),
 * so that a run's result does not grow with its items.
 */
export type WrittenPart = Omit<FinishedPart, 'sourceIds' | 'itemCount'> & {
  /** Items the part holds. */
  itemCount: number;
};

/** A per-item (or per-folder) failure recorded for statistics and "retry errors". */
export interface ExportItemError {
  /** FtsDecodeFailed, a Graph error code, PstWriteFailed… */
  code: string;
  sourceId: string;
  /** Display names joined by "/". */
  folderPath?: string;
  message: string;
  /** Only when the project enables subject logging (personal data). */
  subject?: string;
  /** ISO 8601. */
  at: string;
}

/**
 * Where a run keeps what must survive a crash (the jobs store, or for the CLI the manifests in the
 * destination). Calls are awaited in order; a part counts as finished only once `partFinished`
 * resolved, after its blob and manifest were committed.
 */
export interface ExportCheckpoint {
  /**
   * True when the part's manifest in the destination is the record of its ids
   * (export/checkpoint-destination.ts, and the jobs backends): `partFinished` then gets the part
   * with `sourceIds` empty and its `itemCount` — the run does not read the ids back from its
   * manifest spill, nor hold them (docs/export.md "Memory") — and `finishedParts` may give parts
   * with `sourceIds` empty: the run reads their ids from their manifests, one part at a time.
   * Absent or false: `partFinished` gets every id of the part, and `finishedParts` gives them back.
   */
  readonly sourceIdsInManifests?: boolean;
  /**
   * A run of `pass` begins (a first attempt or a restart after a crash or cancel): forget the
   * errors recorded by earlier attempts of the current, unfinished pass — their items are in no
   * part and are read again. Errors of the last *completed* pass ({@link lastPassErrors}) stay.
   */
  beginPass(pass: ExportPass): Promise<void>;
  /** The current pass completed: its errors become {@link lastPassErrors}. Called after saveDeltaLinks. */
  completePass(pass: ExportPass): Promise<void>;
  /** Parts finished by earlier runs of this job (all passes), in index order. */
  finishedParts(): Promise<FinishedPart[]>;
  /** Records a committed part (blob and manifest stored). */
  partFinished(part: FinishedPart): Promise<void>;
  /** Records a per-item failure of the current pass. */
  itemError(error: ExportItemError): Promise<void>;
  /** Errors recorded by the last completed pass (for "retry errors"); [] before the first completed pass. */
  lastPassErrors(): Promise<ExportItemError[]>;
  /** deltaLinks by folder id saved by the last completed full or incremental pass (for "incremental"); {} before. */
  deltaLinks(): Promise<Record<string, string>>;
  /** Saves the deltaLinks of a completed full or incremental pass (replacing the saved set). */
  saveDeltaLinks(links: Record<string, string>): Promise<void>;
}

/** Progress of a running export, reported at most every `progressIntervalMs`. */
export interface ExportProgress {
  /** Folder path being read. */
  folder?: string;
  itemsDone: number;
  /** From the folders' totalItemCount when known (after filters it is an upper bound). */
  itemsTotal?: number;
  /** Source bytes read (mailboxItem sizes). */
  bytesDone: number;
  bytesTotal?: number;
  itemsPerSecond: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  partsDone: number;
  errors: number;
  /** Items passed over because a finished part of an earlier run already holds them. */
  itemsSkipped: number;
}

/** What one export run is asked to do. */
export interface ExportRequest {
  mailbox: SourceMailbox;
  /** Destination name of the first part ("user1.pst"; archives default "user1-archive.pst"). */
  pstName: string;
  pass: ExportPass;
  /** Source filters (item types, folders, date range); `since`/`onlyItemIds` are set by the pass. */
  source?: Omit<SourceOptions, 'signal' | 'since'>;
  /** For pass "prestage": items older than this many days. */
  olderThanDays?: number;
  /** Default 10 GiB. */
  splitSizeBytes?: number;
  /** Put subjects into error records (personal data; default false). */
  logSubjects?: boolean;
  /** Display name of the PST store (default: pstName without .pst). */
  displayName?: string;
  /** Least time between two progress reports, ms (default 500). */
  progressIntervalMs?: number;
}

/**
 * Something the source reported that is not a failure (graph/source-types.ts SourceNoticeEvent):
 * `RestFallback` (no exportItems for this mailbox: every item REST fidelity, no notes or journal),
 * `DeltaResync` (a saved deltaLink was refused with 410 and the folder re-listed in full).
 */
export interface ExportNotice {
  code: string;
  message: string;
  /** The folder, for folder notices. */
  folderPath?: string;
}

/** The result of a run (also what statistics are built from). */
export interface ExportResult {
  /** Completed: every listed item written; CompletedWithErrors: some per-item errors; Cancelled. */
  outcome: 'Completed' | 'CompletedWithErrors' | 'Cancelled';
  /** Items written into parts by this run. */
  itemsExported: number;
  /** Bytes of the parts written by this run (as stored). */
  bytesExported: number;
  /** Source bytes of the items written (exportItems data, MIME or JSON lengths). */
  sourceBytes: number;
  /** Items passed over because finished parts of earlier runs hold them. */
  itemsSkipped: number;
  /** Per-item errors recorded by this run. */
  errors: number;
  /** Parts written by this run (not the ones skipped from earlier runs); their ids are in their manifests. */
  parts: WrittenPart[];
  fidelity: Record<SourceFidelity, number>;
  /** The source's notices (at most 1,000); absent from results built elsewhere. */
  notices?: ExportNotice[];
  startedAt: string;
  finishedAt: string;
}
