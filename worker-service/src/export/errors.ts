/**
 * Errors of an export run (export/run.ts) that set policy: the caller (jobs runner, CLI) decides
 * from `code`, never from the message (STYLE.md "Errors"). Per-item failures are not thrown: they
 * are recorded through `ExportCheckpoint.itemError` and the run goes on.
 */

/** Codes of {@link ExportError}. */
export type ExportErrorCode =
  /** "Retry errors" asked, but the last completed pass recorded no per-item error (or no pass completed). */
  | 'RetryNotAllowed'
  /** "Incremental" asked, but no completed full or incremental pass saved deltaLinks to continue from. */
  | 'IncrementalNotAllowed'
  /** The request itself is wrong (bad PST name, split size, older-than days); the message names the field. */
  | 'BadRequest'
  /** The destination holds parts of this PST name that belong to another mailbox. */
  | 'DestinationMismatch'
  /**
   * A part the checkpoint records as finished has no readable manifest of its own beside it in the
   * destination (deleted, replaced or damaged): the run cannot tell which items it holds.
   */
  | 'FinishedPartUnreadable';

/** A refusal or a request error of an export run, with a stable code. Never carries a secret. */
export class ExportError extends Error {
  constructor(readonly code: ExportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExportError';
  }
}
