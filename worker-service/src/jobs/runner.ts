/**
 * The runner: claims jobs from a {@link JobQueue} up to a local concurrency, renews each lease with
 * heartbeats (carrying progress) while the job runs, and drives one export pass (export/run.ts
 * `runExport`) or a verification (jobs/verify.ts) per job. ARCHITECTURE.md "Jobs"; docs/jobs.md "Runner".
 *
 *   claim ──► buildDeps(claimed) ──► runExport / verifyItem ──► complete | fail | waitForAuth | release
 *     ▲            heartbeat every heartbeatMs: false (cancelled, taken over) ──► abort the run
 *     └── next claim when a slot frees, on a work hint (JobQueue.onWork: a job enqueued or freed
 *         anywhere), or every pollMs
 *
 * How a job ends: the ExportResult's outcome (Completed, CompletedWithErrors, Cancelled); a token
 * that expired (Graph InvalidAuthenticationToken, OBO refused: jobs/errors.ts isAuthExpired) →
 * WaitingForAuth — runExport has aborted the open part and kept the finished ones, a clean point;
 * any other throw → Failed with the error's code and a scrubbed message; a lost lease → nothing
 * (the job belongs to someone else now); `stop()` → the job is released for another worker.
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { runExport as defaultRunExport, type ExportDeps, type ExportSource } from '../export/run';
import type { ExportCheckpoint, ExportProgress, ExportRequest, ExportResult } from '../export/types';
import type { SourceOptions } from '../graph/source-types';
import type { Destination } from '../storage/destination';
import {
  DEFAULT_PROJECT_OPTIONS, type ClaimedJob, type ItemType, type JobAction, type JobQueue, type Verification,
} from './contract';
import { errorCode, isAuthExpired, safeErrorMessage } from './errors';
import { itemMailbox, verifyItem, type VerifySource } from './verify';

/** Listeners a job's AbortSignal may have at once before Node warns of a leak (its default is 10). */
const JOB_SIGNAL_MAX_LISTENERS = 100;

/** What a job runs with; made per job by {@link RunnerOptions.buildDeps}. */
export interface JobDeps {
  /** The Graph source (export passes). */
  source: ExportSource;
  destination: Destination;
  /** For "verify" jobs. */
  verify?: VerifySource;
  /** Default: the queue's checkpoint for the job's lease. */
  checkpoint?: ExportCheckpoint;
  /** Called when the job ends (close clients, drop tokens). */
  close?: () => Promise<void>;
}

/**
 * The PidTagRecordKey of part `partIndex` (1-based) of an item's PST: the first 16 bytes of
 * SHA-256("outport-pst-record-key", project id, item id, part index). Stable across runs, workers
 * and takeovers, distinct per file — so a part written again (resume, takeover, a repeated pass)
 * is byte-identical to the first writing (MS-PST 2.4.3.1: the store's record key is otherwise free).
 */
export function partRecordKey(projectId: string, itemId: string, partIndex: number): Uint8Array {
  return createHash('sha256').update(`outport-pst-record-key\0${projectId}\0${itemId}\0${partIndex}`).digest().subarray(0, 16);
}

/** The export function (export/run.ts runExport), injectable for tests. */
export type RunExport = (request: ExportRequest, deps: ExportDeps) => Promise<ExportResult>;
/** The verify function (jobs/verify.ts verifyItem), injectable for tests. */
export type VerifyFn = (item: ClaimedJob['item'], deps: { source: VerifySource; destination: Destination }, signal?: AbortSignal) => Promise<Verification>;

/** A pino-like logger; messages never carry secrets. */
export interface RunnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link Runner}. */
export interface RunnerOptions {
  /** Unique per process (default `<hostname>:<pid>`). */
  workerId?: string;
  queue: JobQueue;
  /**
   * Builds a job's source, destination (and optionally verify source and checkpoint) — the API/serve
   * wiring decides token sources (OBO with the stored assertion, client credentials) and reads the
   * destination secret (ProjectStore.destinationSecret). A token error thrown here also means WaitingForAuth.
   */
  buildDeps: (claimed: ClaimedJob, signal: AbortSignal) => Promise<JobDeps>;
  /** Jobs run at once by this runner; default 4. The project's maxConcurrentExports holds on top (queue). */
  concurrency?: number;
  /** Lease length, ms; default 60,000. A dead runner's job is taken over this long after its last heartbeat. */
  leaseMs?: number;
  /** Heartbeat period, ms; default leaseMs / 3. */
  heartbeatMs?: number;
  /** How often to look for work when idle, ms; default 1,000. */
  pollMs?: number;
  /** Claim only these actions (default all). */
  actions?: JobAction[];
  /** Default export/run.ts runExport. */
  runExport?: RunExport;
  /** Default jobs/verify.ts verifyItem. */
  verify?: VerifyFn;
  logger?: RunnerLogger;
}

/** Why a run was aborted (the AbortSignal's reason). */
export class RunAborted extends Error {
  constructor(readonly why: 'LeaseLost' | 'Stopping') {
    super(why === 'LeaseLost' ? 'the lease was lost (cancelled or taken over)' : 'the runner is stopping');
    this.name = 'RunAborted';
  }
}

interface Active {
  claimed: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

/** Message class prefixes per project item type (MS-OXCMSG message classes; graph source `itemTypes`). */
export const ITEM_TYPE_CLASSES: Readonly<Record<ItemType, readonly string[]>> = {
  mail: ['IPM.Note', 'IPM.Schedule.Meeting', 'IPM.Post', 'IPM.Sharing', 'IPM.Recall', 'REPORT.IPM'],
  contacts: ['IPM.Contact', 'IPM.DistList'],
  calendar: ['IPM.Appointment'],
  tasks: ['IPM.Task', 'IPM.TaskRequest'],
  notes: ['IPM.StickyNote'],
  journal: ['IPM.Activity'],
};

/** The export request of a claimed job: mailbox, PST name, pass, the project's filters and split size. */
export function exportRequestFor(claimed: ClaimedJob): ExportRequest {
  const { job, item, project } = claimed;
  if (job.action === 'verify') throw new TypeError('a verify job has no export request');
  const o = project.options;
  const source: NonNullable<ExportRequest['source']> = {};
  const allTypes = DEFAULT_PROJECT_OPTIONS.itemTypes;
  if (o.itemTypes.length < allTypes.length) source.itemTypes = o.itemTypes.flatMap((t) => ITEM_TYPE_CLASSES[t]);
  if (o.includeFolders.length) source.includeFolders = o.includeFolders;
  if (o.excludeFolders.length) source.excludeFolders = o.excludeFolders;
  if (o.dateRange.notBefore || o.dateRange.before) {
    const dr: NonNullable<SourceOptions['dateRange']> = {};
    if (o.dateRange.notBefore) dr.notBefore = new Date(o.dateRange.notBefore);
    if (o.dateRange.before) dr.before = new Date(o.dateRange.before);
    source.dateRange = dr;
  }
  return {
    mailbox: itemMailbox(item),
    pstName: item.pstName,
    pass: job.action,
    ...(Object.keys(source).length ? { source } : {}),
    ...(job.olderThanDays !== undefined ? { olderThanDays: job.olderThanDays } : {}),
    splitSizeBytes: o.splitSizeBytes,
    logSubjects: o.logSubjects,
  };
}

/** Claims and runs jobs until stopped. `start()` then `stop()`. */
export class Runner {
  readonly workerId: string;
  readonly #o: Required<Omit<RunnerOptions, 'workerId' | 'actions' | 'runExport' | 'logger'>> & Pick<RunnerOptions, 'actions' | 'runExport' | 'logger'>;
  readonly #active = new Map<string, Active>();
  #running = false;
  #loop?: Promise<void>;
  #wake?: () => void;
  /** A work hint (JobQueue.onWork) came while no sleep was there to end: claim once more before sleeping. */
  #hintPending = false;
  #stopHints?: () => void;
  #stopping = false;

  constructor(options: RunnerOptions) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    const leaseMs = options.leaseMs ?? 60_000;
    this.#o = {
      queue: options.queue, buildDeps: options.buildDeps, concurrency: options.concurrency ?? 4, leaseMs,
      heartbeatMs: options.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3)), pollMs: options.pollMs ?? 1000,
      actions: options.actions, runExport: options.runExport, verify: options.verify ?? verifyItem, logger: options.logger,
    };
    if (!(this.#o.concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
    if (this.#o.heartbeatMs >= leaseMs) throw new RangeError('heartbeatMs must be shorter than leaseMs');
  }

  /** Jobs running now (job ids). */
  get activeJobs(): string[] { return [...this.#active.keys()]; }

  /** Starts the claim loop (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#stopHints = this.#o.queue.onWork?.(() => {
      this.#hintPending = true;
      if (this.#active.size < this.#o.concurrency) this.#wake?.();
    });
    this.#loop = this.#claimLoop();
  }

  /**
   * Stops claiming. graceful (default): lets running jobs finish for up to `timeoutMs` (default 30 s),
   * then aborts the rest; not graceful: aborts at once. An aborted job's open part is dropped
   * (runExport aborts the sink: nothing half-written is recorded) and the job is released, so another
   * worker claims it at once and resumes from its finished parts.
   */
  async stop(options: { graceful?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const graceful = options.graceful ?? true;
    this.#running = false;
    this.#stopping = true;
    this.#stopHints?.();
    this.#stopHints = undefined;
    this.#wake?.();
    await this.#loop;
    const all = () => Promise.all([...this.#active.values()].map((a) => a.done));
    if (graceful) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), options.timeoutMs ?? 30_000); });
      const r = await Promise.race([all().then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (r === 'done') return;
    }
    for (const a of this.#active.values()) a.controller.abort(new RunAborted('Stopping'));
    await all();
  }

  /** Runs until the queue has nothing claimable and no job is active (tests, `outport export`-like one-shots). */
  async drain(): Promise<void> {
    for (;;) {
      while (this.#active.size < this.#o.concurrency && await this.#claimOne()) { /* fill the slots */ }
      if (this.#active.size === 0) return;
      await Promise.race([...this.#active.values()].map((a) => a.done));
    }
  }

  async #claimLoop(): Promise<void> {
    while (this.#running) {
      // Hints that came before these claims are covered by them (a hint is sent after its change commits).
      this.#hintPending = false;
      try {
        while (this.#running && this.#active.size < this.#o.concurrency && await this.#claimOne()) { /* fill the slots */ }
      } catch (e) {
        this.#o.logger?.error({ workerId: this.workerId, code: errorCode(e), err: safeErrorMessage(e) }, 'claim failed');
      }
      if (!this.#running) break;
      // A hint that came during the claims above may name a job they did not see yet; with every slot
      // busy it waits: a slot that frees wakes the loop anyway.
      if (this.#hintPending && this.#active.size < this.#o.concurrency) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.pollMs);
        this.#wake = () => { clearTimeout(t); resolve(); };
      });
      this.#wake = undefined;
    }
  }

  /** Claims one job and starts it. @returns false when nothing was claimable */
  async #claimOne(): Promise<boolean> {
    const claimed = await this.#o.queue.claim(this.workerId, this.#o.leaseMs, this.#o.actions ? { actions: this.#o.actions } : {});
    if (!claimed) return false;
    const controller = new AbortController();
    // A job's signal legitimately has many listeners at once (4 Graph requests in flight per
    // mailbox, listing pages ahead, block uploads, sleeps): not a leak, so no MaxListeners warning.
    setMaxListeners(JOB_SIGNAL_MAX_LISTENERS, controller.signal);
    const active: Active = { claimed, controller, done: Promise.resolve() };
    active.done = this.#run(claimed, controller).finally(() => {
      this.#active.delete(claimed.job.id);
      this.#wake?.();
    });
    this.#active.set(claimed.job.id, active);
    return true;
  }

  async #run(claimed: ClaimedJob, controller: AbortController): Promise<void> {
    const { queue } = this.#o;
    const { lease, job } = claimed;
    const log = { workerId: this.workerId, jobId: job.id, itemId: job.itemId, action: job.action, attempt: job.attempts, takeover: claimed.takeover };
    this.#o.logger?.info(log, 'job claimed');
    let progress: ExportProgress | undefined;
    let progressDirty = false;
    let lost = false;
    const beat = async () => {
      const p = progressDirty ? progress : undefined;
      progressDirty = false;
      let ok: boolean;
      try {
        ok = await queue.heartbeat(lease, this.#o.leaseMs, p);
      } catch (e) {
        // A backend hiccup is not a lost lease; the next beat tries again (the lease outlives ~3 beats).
        this.#o.logger?.warn({ ...log, code: errorCode(e), err: safeErrorMessage(e) }, 'heartbeat failed');
        return;
      }
      if (!ok && !lost) {
        lost = true;
        this.#o.logger?.warn(log, 'lease lost: stopping the run');
        controller.abort(new RunAborted('LeaseLost'));
      }
    };
    let beating = Promise.resolve();
    const timer = setInterval(() => { beating = beating.then(beat); }, this.#o.heartbeatMs);
    let deps: JobDeps | undefined;
    const finish = async (fn: () => Promise<boolean>, what: string) => {
      clearInterval(timer);
      await beating;
      if (lost) return;
      const ok = await fn();
      this.#o.logger?.info({ ...log, ok }, what);
    };
    try {
      deps = await this.#o.buildDeps(claimed, controller.signal);
      if (job.action === 'verify') {
        if (!deps.verify) throw Object.assign(new Error('no verify source was built for this job'), { code: 'VerifyUnavailable' });
        const verification = await this.#o.verify(claimed.item, { source: deps.verify, destination: deps.destination }, controller.signal);
        await finish(() => queue.complete(lease, { action: 'verify', verification }), verification.ok ? 'verified' : 'verification failed');
        return;
      }
      const runExport = this.#o.runExport ?? defaultRunExport;
      const result = await runExport(exportRequestFor(claimed), {
        source: deps.source, destination: deps.destination, checkpoint: deps.checkpoint ?? queue.checkpoint(lease),
        recordKey: (partIndex: number) => partRecordKey(claimed.project.id, claimed.item.id, partIndex),
        onProgress: (p) => { progress = p; progressDirty = true; }, signal: controller.signal,
      });
      if (result.outcome === 'Cancelled' && this.#stopping && !lost) {
        await finish(() => queue.release(lease), 'released (runner stopping)');
        return;
      }
      const pass = job.action;
      await finish(() => queue.complete(lease, { action: pass, export: result }), `export ${result.outcome}`);
    } catch (e) {
      if (lost) {
        clearInterval(timer);
        await beating;
        return;
      }
      if (controller.signal.aborted && this.#stopping) {
        await finish(() => queue.release(lease), 'released (runner stopping)');
      } else if (isAuthExpired(e)) {
        await finish(() => queue.waitForAuth(lease, { code: errorCode(e), message: safeErrorMessage(e) }), 'waiting for a fresh token');
      } else {
        this.#o.logger?.error({ ...log, code: errorCode(e), err: safeErrorMessage(e) }, 'job failed');
        await finish(() => queue.fail(lease, { code: errorCode(e), message: safeErrorMessage(e) }), 'failed');
      }
    } finally {
      clearInterval(timer);
      await deps?.close?.().catch(() => undefined);
    }
  }
}
