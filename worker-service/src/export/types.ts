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
  /** SHA-256 (hex) of the item's source data (exportItems bytes, or the MIME/JSON for REST). */
  sourceSha256: string;
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
