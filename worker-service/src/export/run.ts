/**
 * One export run (issue 4 part 2; ARCHITECTURE.md "The job, end to end" and "Resume"): Graph source
 * events → PST writer → destination parts, a manifest beside each part, the checkpoint told of each
 * finished part. docs/export.md describes the pipeline, the resume rule and the passes.
 *
 *   source.items() ──item──► PstWriter.addItem ──bytes──► PartSink (destination.openPart)
 *                                  │ part closes (split size or end)
 *                                  ▼
 *        PartSink.close (blob committed) → "<part>.manifest.json" → checkpoint.partFinished
 *
 * Memory does not grow with the part (docs/export.md "Memory"): each item's manifest line is
 * spilled to a temporary file as it is written (export/manifest.ts) and streamed to the destination
 * at the part's close (`putStream`); the ids written are kept as 96-bit hashes (export/id-set.ts).
 *
 * Resume at part granularity: items held by finished parts (checkpoint.finishedParts) are skipped
 * by source id — the source gets them as `skipItemIds` and drops them from its listing, so they are
 * not read from Graph again (counted from `folderEnd.skipped`); an item a source yields anyway is
 * skipped here — the writer starts at the next part index, and the part that was open when the
 * previous run stopped is written again from its start (an orphan blob of that name is replaced).
 */
import type { SourceErrorEvent, SourceEvent, SourceFidelity, SourceMailbox, SourceOptions } from '../graph/source-types';
import { olderThanDays } from '../graph/source-filters';
import { TAG } from '../mapi/tags';
import type { MapiItem } from '../mapi/item';
import { DEFAULT_SPLIT_SIZE_BYTES, PstWriter, PstWriterError, isPartFailure, partFileName, type PstPartInfo, type PstSink } from '../pst/writer';
import type { Destination, PartSink } from '../storage/destination';
import { ExportError } from './errors';
import { IdHashSet } from './id-set';
import { MANIFEST_CONTENT_TYPE, ManifestBuilder, manifestMailbox, manifestName, readManifestIds } from './manifest';
import { removeStaleParts } from './stale-parts';
import type { ExportCheckpoint, ExportItemError, ExportNotice, ExportProgress, ExportRequest, ExportResult, PartManifest, WrittenPart } from './types';

/** Least time between two progress reports when the request does not say (ms). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 500;

/** Most notices kept in a result (one per folder at most, so this is plenty). */
const MAX_NOTICES = 1000;

/** Code recorded for an item the PST writer refused (bad property value, name-to-id map full…). */
export const PST_WRITE_FAILED = 'PstWriteFailed';

/** The part of the Graph source (graph/source.ts `GraphSource`) a run reads through. */
export interface ExportSource {
  items(mailbox: SourceMailbox, options?: SourceOptions): AsyncIterable<SourceEvent>;
}

/** What a run works with. */
export interface ExportDeps {
  source: ExportSource;
  destination: Destination;
  checkpoint: ExportCheckpoint;
  /** Called at most every `request.progressIntervalMs` (default 500 ms) and once at the end. Must not throw. */
  onProgress?: (progress: ExportProgress) => void;
  /** Cancels the run: the open part is aborted, nothing half-written is recorded, outcome Cancelled. */
  signal?: AbortSignal;
  /** Clock, epoch ms (tests); default Date.now. */
  now?: () => number;
  /**
   * PidTagRecordKey of each part's store (pst/writer.ts `recordKey`); default random per part.
   * With a fixed one, the same items give byte-identical parts (tests of retried uploads).
   */
  recordKey?: (partIndex: number) => Uint8Array;
  /** Directory of the manifest spill files (~250 bytes an item of the open part); default the OS temporary directory. */
  spillDir?: string;
}

/** Marks errors raised by the destination or the checkpoint: they end the run, unlike an item's. */
class FatalMarks {
  private readonly marks = new WeakSet<object>();
  mark(e: unknown): unknown {
    if (e !== null && typeof e === 'object') this.marks.add(e);
    return e;
  }
  has(e: unknown): boolean {
    return e !== null && typeof e === 'object' && this.marks.has(e);
  }
}

/** The sink handed to the writer: the destination's PartSink, its failures marked fatal. */
function guardedSink(sink: PartSink, fatal: FatalMarks): PstSink {
  const guard = <T>(p: Promise<T>): Promise<T> => p.catch((e: unknown) => { throw fatal.mark(e); });
  return {
    append: (bytes) => guard(sink.append(bytes)),
    writeAt: (offset, bytes) => guard(sink.writeAt(offset, bytes)),
    close: () => guard(sink.close()),
    abort: () => guard(sink.abort ? sink.abort() : sink.close()),
  };
}

/**
 * What a run needs of the parts earlier runs finished: their count, the next part index, and their
 * items' ids as two IdHashSets — the source's skip list, and the run's dedupe set that grows as
 * items are written. The parts' `sourceIds` arrays (a resume of a million items holds ~235 MB of
 * id strings) are dropped when this returns: the run keeps 24-48 bytes an id outside the JS heap.
 * A part given without ids by a checkpoint whose record is the manifest
 * (`sourceIdsInManifests`) has them read from its manifest in the destination as it streams in
 * (Destination.getStream), one line at a time: neither the manifest nor its ids are held whole.
 * @throws ExportError "FinishedPartUnreadable" when such a part's manifest is missing or is not
 *         that part's (name, SHA-256, item count)
 */
async function loadFinished(checkpoint: ExportCheckpoint, destination: Destination, signal?: AbortSignal): Promise<{ finishedCount: number; firstPartIndex: number; finishedIds: IdHashSet; done: IdHashSet }> {
  const finished = await checkpoint.finishedParts();
  const finishedIds = new IdHashSet(finished.reduce((n, p) => n + Math.max(p.sourceIds.length, p.itemCount ?? 0), 0));
  for (const p of finished) {
    if (p.sourceIds.length > 0 || !checkpoint.sourceIdsInManifests || (p.itemCount ?? 0) === 0) {
      for (const id of p.sourceIds) finishedIds.add(id);
      continue;
    }
    const name = manifestName(p.name);
    const unreadable = (why: string) => new ExportError('FinishedPartUnreadable',
      `${destination.location}: part ${p.name} is recorded as finished but ${why}, so the items it holds are unknown: restore ${name}, or delete ${p.name} and run the export again from the start`);
    const chunks = await destination.getStream(name, signal);
    if (!chunks) throw unreadable(`its manifest ${name} is missing`);
    const read = await readManifestIds(chunks, (id) => { finishedIds.add(id); });
    if (!read) throw unreadable(`its manifest ${name} is not an Outport manifest`);
    if (read.head.part.name !== p.name || read.head.part.sha256 !== p.sha256 || read.count !== p.itemCount) {
      throw unreadable(`its manifest ${name} describes another part (${read.head.part.name}, ${read.count} items, SHA-256 ${read.head.part.sha256.slice(0, 12)}…)`);
    }
  }
  return {
    finishedCount: finished.length,
    firstPartIndex: finished.reduce((m, p) => Math.max(m, p.index), 0) + 1,
    finishedIds,
    done: finishedIds.clone(),
  };
}

function validate(request: ExportRequest): void {
  try {
    partFileName(request.pstName, 1);
  } catch (e) {
    throw new ExportError('BadRequest', `pstName: ${(e as Error).message}`);
  }
  if (request.pass === 'prestage') {
    const d = request.olderThanDays;
    if (d === undefined || !Number.isFinite(d) || d < 0) {
      throw new ExportError('BadRequest', `olderThanDays: a pre-stage pass needs a number of days ≥ 0 (items created before now minus that many days), got ${String(d)}`);
    }
  }
  if (!['full', 'prestage', 'incremental', 'retry-errors'].includes(request.pass)) {
    throw new ExportError('BadRequest', `pass: "${String(request.pass)}" is not one of full, prestage, incremental, retry-errors`);
  }
}

const subjectOf = (item: MapiItem): string | undefined => {
  const s = item.properties.get(TAG.PidTagSubject.id);
  return typeof s === 'string' ? s : undefined;
};
const pathText = (path: readonly { displayName: string }[] | undefined): string | undefined => path?.map((f) => f.displayName).join('/');

/**
 * Runs one export pass of `request.mailbox` into `deps.destination`.
 *
 * Passes: `full` (everything not in a finished part; saves the deltaLinks), `prestage` (items
 * created more than `olderThanDays` days ago; saves no deltaLinks, so a later full pass reads the
 * rest), `incremental` (changes since the saved deltaLinks, into new parts; merges and saves the new
 * links), `retry-errors` (exactly the items of the last completed pass's errors, into an extra part).
 * Per-item failures (source `error` events, items the writer refuses: {@link PST_WRITE_FAILED}) are
 * recorded through `checkpoint.itemError` (subject only with `logSubjects`) and the run goes on.
 *
 * @returns the outcome: Completed, CompletedWithErrors (some per-item errors) or Cancelled (the
 *          signal fired; parts finished before stay recorded)
 * @throws ExportError "BadRequest" (the message names the field), "RetryNotAllowed",
 *         "IncrementalNotAllowed"; a StorageError or GraphError (the mailbox as a whole: not found,
 *         no archive, folder tree unreadable) or a checkpoint failure — the open part is aborted first
 */
export async function runExport(request: ExportRequest, deps: ExportDeps): Promise<ExportResult> {
  const now = deps.now ?? Date.now;
  const startMs = now();
  const startedAt = new Date(startMs).toISOString();
  validate(request);
  const { source, destination, checkpoint, signal } = deps;
  const pass = request.pass;

  // Ids of finished parts (for the source to skip: a resume) and every id written (dedupe), as
  // hashes only: the finished parts' id strings are not kept for the run.
  const { finishedCount, firstPartIndex, finishedIds, done } = await loadFinished(checkpoint, destination, signal);

  let onlyItemIds: string[] | undefined;
  if (pass === 'retry-errors') {
    const errors = await checkpoint.lastPassErrors();
    if (errors.length === 0) {
      throw new ExportError('RetryNotAllowed', 'retry errors needs a completed pass with at least one error; the last completed pass recorded none (or no pass has completed yet)');
    }
    onlyItemIds = [...new Set(errors.map((e) => e.sourceId))].filter((id) => !done.has(id));
  }
  let since: Record<string, string> | undefined;
  if (pass === 'incremental') {
    since = await checkpoint.deltaLinks();
    if (Object.keys(since).length === 0) {
      throw new ExportError('IncrementalNotAllowed', 'an incremental pass continues from the deltaLinks of a completed full or incremental pass; none is saved: run a full export first');
    }
  }
  const options: SourceOptions & { onlyItemIds?: readonly string[] } = {
    ...request.source,
    signal,
    ...(since ? { since } : {}),
    ...(pass === 'prestage' ? { dateRange: { ...request.source?.dateRange, ...olderThanDays(request.olderThanDays!, new Date(startMs)) } } : {}),
    ...(onlyItemIds ? { onlyItemIds } : {}),
    // Items of finished parts are not read again (a source that ignores this yields them, and they are skipped below).
    ...(finishedIds.size > 0 ? { skipItemIds: finishedIds } : {}),
  };
  const onlyIds = onlyItemIds ? new Set(onlyItemIds) : undefined;

  const fatal = new FatalMarks();
  const parts: WrittenPart[] = [];
  const fidelity: Record<SourceFidelity, number> = { full: 0, rest: 0 };
  const mailbox = manifestMailbox(request.mailbox);
  let building: ManifestBuilder | undefined;
  let sink: PartSink | undefined;
  let itemsExported = 0;
  let sourceBytes = 0;
  let bytesExported = 0;
  let itemsSkipped = 0;
  let errors = 0;
  let itemsTotal = 0;
  let totalKnown = false;
  let folder: string | undefined;

  let writer: PstWriter;
  try {
    writer = PstWriter.open({
      partName: request.pstName,
      splitSizeBytes: request.splitSizeBytes ?? DEFAULT_SPLIT_SIZE_BYTES,
      displayName: request.displayName,
      firstPartIndex,
      // an export of nothing is one empty PST; a later pass with nothing new adds no part
      emptyPart: finishedCount === 0,
      ...(deps.recordKey ? { recordKey: deps.recordKey } : {}),
      openSink: async (name, index) => {
        try {
          sink = await destination.openPart(name, signal);
        } catch (e) {
          throw fatal.mark(e);
        }
        building?.dispose();
        try {
          building = new ManifestBuilder(name, index, { spillDir: deps.spillDir });
        } catch (e) {
          // no room for the manifest spill (temporary directory missing, read-only, full): the run ends
          await sink.abort?.().catch(() => undefined);
          building = undefined;
          throw fatal.mark(e);
        }
        return guardedSink(sink, fatal);
      },
      onPartClosed: async (info: PstPartInfo) => {
        try {
          const stored = sink!.stored();
          sink = undefined; // its block buffers may go before the manifest streams
          const b = building!;
          const head: Omit<PartManifest, 'items'> = {
            version: 1,
            part: { name: stored.name, index: info.index, sizeBytes: stored.sizeBytes, sha256: stored.sha256 },
            mailbox,
            pass,
            closedAt: new Date(now()).toISOString(),
          };
          await destination.putStream(manifestName(stored.name), b.chunks(head), MANIFEST_CONTENT_TYPE, signal);
          const written: WrittenPart = { name: stored.name, index: info.index, sizeBytes: stored.sizeBytes, sha256: stored.sha256, pass, itemCount: b.items };
          await checkpoint.partFinished({ ...written, sourceIds: checkpoint.sourceIdsInManifests ? [] : await b.sourceIds() });
          parts.push(written);
          bytesExported += stored.sizeBytes;
          b.dispose();
          building = undefined;
        } catch (e) {
          throw fatal.mark(e);
        }
      },
    });
  } catch (e) {
    if (e instanceof PstWriterError) throw new ExportError('BadRequest', `splitSizeBytes: ${e.message}`);
    throw e;
  }

  await checkpoint.beginPass(pass);

  const intervalMs = request.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  let lastProgressMs = -Infinity;
  const report = (force: boolean): void => {
    if (!deps.onProgress) return;
    const t = now();
    if (!force && t - lastProgressMs < intervalMs) return;
    lastProgressMs = t;
    const seconds = Math.max(0.001, (t - startMs) / 1000);
    const itemsPerSecond = (itemsExported + errors) / seconds;
    const remaining = totalKnown ? Math.max(0, itemsTotal - itemsExported - itemsSkipped - errors) : undefined;
    try {
      deps.onProgress({
        folder,
        itemsDone: itemsExported,
        itemsTotal: totalKnown ? itemsTotal : undefined,
        bytesDone: sourceBytes,
        itemsPerSecond,
        bytesPerSecond: sourceBytes / seconds,
        etaSeconds: remaining !== undefined && itemsPerSecond > 0 ? remaining / itemsPerSecond : undefined,
        partsDone: parts.length,
        errors,
        itemsSkipped,
      });
    } catch { /* a progress consumer's failure is not the export's */ }
  };

  const recordError = async (e: Omit<ExportItemError, 'at'>): Promise<void> => {
    errors++;
    try {
      await checkpoint.itemError({ ...e, at: new Date(now()).toISOString() });
    } catch (err) {
      throw fatal.mark(err);
    }
  };
  // A source error may be followed at once by the same item re-read through REST (FtsDecodeFailed →
  // fidelity "rest"): the item got in, so the error is not recorded. Otherwise it is, before the next event.
  let pendingError: SourceErrorEvent | undefined;
  const flushPending = async (): Promise<void> => {
    const e = pendingError;
    if (!e) return;
    pendingError = undefined;
    if (onlyIds && !onlyIds.has(e.sourceId)) return;
    await recordError({ code: e.code, sourceId: e.sourceId, folderPath: pathText(e.path), message: e.message });
  };

  const deltaLinks: Record<string, string> = {};
  const notices: ExportNotice[] = [];
  try {
    if (!onlyItemIds || onlyItemIds.length > 0) {
      for await (const ev of source.items(request.mailbox, options)) {
        if (signal?.aborted) break;
        if (pendingError && !(ev.kind === 'item' && ev.sourceId === pendingError.sourceId)) await flushPending();
        switch (ev.kind) {
          case 'folder':
            folder = pathText(ev.path);
            if (typeof ev.folder.totalItemCount === 'number') {
              itemsTotal += ev.folder.totalItemCount;
              totalKnown = true;
            }
            break;
          case 'folderEnd':
            if (ev.deltaLink) deltaLinks[ev.folderId] = ev.deltaLink;
            itemsSkipped += ev.skipped ?? 0;
            break;
          case 'error':
            pendingError = ev;
            break;
          case 'item': {
            pendingError = undefined;
            if (done.has(ev.sourceId)) {
              itemsSkipped++;
              break;
            }
            if (onlyIds && !onlyIds.has(ev.sourceId)) break;
            const folderPath = pathText(ev.path) ?? '';
            let placement;
            try {
              placement = await writer.addItem(ev.path, ev.item);
            } catch (e) {
              // the destination failed, or the part broke (isPartFailure): not this item's fault
              if (fatal.has(e) || isPartFailure(e) || signal?.aborted) throw e;
              const err = e as { code?: string; message?: string };
              await recordError({
                code: PST_WRITE_FAILED, sourceId: ev.sourceId, folderPath,
                message: `${err.code ? err.code + ': ' : ''}${err.message ?? String(e)}`,
                ...(request.logSubjects ? { subject: subjectOf(ev.item) } : {}),
              });
              break;
            }
            if (!building || building.index !== placement.partIndex) throw new Error(`internal: item placed in part ${placement.partIndex} but the manifest is for ${building?.index}`);
            const messageClass = ev.item.properties.get(TAG.PidTagMessageClass.id);
            building.add(ev.sourceId, folderPath, typeof messageClass === 'string' ? messageClass : '', placement.sizeBytes, ev.fidelity, (ev as { sourceSha256?: string }).sourceSha256);
            done.add(ev.sourceId);
            itemsExported++;
            sourceBytes += ev.sizeBytes;
            fidelity[ev.fidelity]++;
            break;
          }
          default: {
            // a notice (RestFallback, DeltaResync): not a failure; kept for the summary
            const n = ev as { kind: string; code?: string; message?: string; path?: readonly { displayName: string }[] };
            if (n.kind === 'notice' && notices.length < MAX_NOTICES) notices.push({ code: String(n.code), message: String(n.message ?? ''), ...(n.path ? { folderPath: pathText(n.path) } : {}) });
          }
        }
        report(false);
      }
    }
    if (!signal?.aborted) await flushPending();
    signal?.throwIfAborted();
    await writer.close();
  } catch (e) {
    await writer.abort().catch(() => undefined);
    building?.dispose();
    if (signal?.aborted) {
      report(true);
      return { outcome: 'Cancelled', itemsExported, bytesExported, sourceBytes, itemsSkipped, errors, parts, fidelity, notices, startedAt, finishedAt: new Date(now()).toISOString() };
    }
    throw e;
  }

  // Parts of this PST name above the last recorded one are an earlier run's leftovers (a full pass
  // that started over and wrote fewer parts, or a part committed but never recorded): remove them.
  const lastIndex = Math.max(firstPartIndex - 1, ...parts.map((p) => p.index));
  const stale = await removeStaleParts(destination, request.pstName, lastIndex, request.mailbox, signal);
  if (stale.length > 0 && notices.length < MAX_NOTICES) {
    notices.push({ code: 'StalePartsRemoved', message: `removed ${stale.length} object(s) left by an earlier run above part ${lastIndex}: ${stale.join(', ')}` });
  }

  if (pass === 'full') await checkpoint.saveDeltaLinks(deltaLinks);
  else if (pass === 'incremental') await checkpoint.saveDeltaLinks({ ...since, ...deltaLinks });
  await checkpoint.completePass(pass);
  report(true);
  return {
    outcome: errors > 0 ? 'CompletedWithErrors' : 'Completed',
    itemsExported, bytesExported, sourceBytes, itemsSkipped, errors, parts, fidelity, notices, startedAt,
    finishedAt: new Date(now()).toISOString(),
  };
}
