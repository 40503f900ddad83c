/**
 * The BullMQ backend of the jobs contract (jobs/contract.ts) on bullmq 6 + ioredis 5: every
 * `outport serve --queue redis://…` (API, stateless) and `outport worker --queue redis://…`
 * (runners) on any number of machines shares one Redis. docs/reliability.md "BullMQ backend".
 *
 * Two layers, both in Redis under one key prefix (default `outport`):
 *
 * 1. Records — projects, items, jobs, parts, errors, passes, deltaLinks, progress events — as JSON
 *    documents in Redis strings and hashes. Every change is one optimistic transaction
 *    (WATCH `<prefix>:ver` … MULTI … INCR ver … EXEC, retried on conflict), so each change is
 *    atomic and serializable across processes, as SQLite's BEGIN IMMEDIATE is for the embedded
 *    backend. The job record is the authority on the lease: state Running with a lease token.
 * 2. The work itself in two BullMQ queues, `verify` and `export` (BullMQ prefix `<prefix>:bull`).
 *    A job enters BullMQ only when it is *admitted*: admission (in a record transaction) takes the
 *    oldest Queued jobs whose project has a free slot (`maxConcurrentExports`) and whose mailbox
 *    (tenant + source + primary|archive) has none, and reserves both; a reservation is held until the
 *    job ends, so the caps hold over every worker. Claiming is BullMQ's own `Worker.getNextJob`
 *    (manual fetching: https://docs.bullmq.io/patterns/manually-fetching-jobs): the BullMQ lock
 *    token is the lease token, the lock's TTL is the lease; heartbeats re-set the lock. A worker that
 *    dies stops renewing, its lock expires, BullMQ's stalled-job checker (run by every claiming
 *    process every `stalledIntervalMs`) moves the job back to wait, and the next claim takes it over
 *    (`takeover: true`, attempts + 1) and resumes from its checkpoint. A BullMQ job whose record no
 *    longer expects it (cancelled, released, deleted, finished by its old holder) is dropped when
 *    next fetched.
 *
 * Redis must keep its data over a restart for jobs to continue (appendonly yes) and must not evict
 * keys (maxmemory-policy noeviction, as BullMQ requires). Connections retry forever
 * (maxRetriesPerRequest null): during a Redis restart calls wait and then go on.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { WorkHintListeners } from '../work-hints';
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import type { ExportCheckpoint, ExportItemError, ExportPass, ExportProgress, FinishedPart } from '../../export/types';
import {
  ITEM_STATES, JobsError,
  type ClaimOptions, type ClaimedJob, type Destination, type DestinationSecret, type EnqueueRequest, type Item, type ItemError,
  type ItemProgress, type ItemState, type ItemStatistics, type Job, type JobAction, type JobBackend, type JobQueue,
  type JobResult, type JobState, type Lease, type NewItem, type NewProject, type Part, type Project, type ProjectOptions,
  type ProjectPatch, type ProjectStore, type RowError, type StatisticsTotals, type Subscription, type Verification,
} from '../contract';
import { mailboxKey, pstKey, pstNameProblem, resolveOptions, sourceProblem, splitDestination } from '../items';
import { loadSecretKey, SecretBox } from '../secrets';
import { parseRedisUrl } from './redis-url';

/** Options of {@link openBullmqBackend}. */
export interface BullmqBackendOptions {
  /** `redis://HOST:PORT[/DB]` or ioredis options. */
  redis: string | RedisOptions;
  /** Key prefix of every record and queue (default `outport`); one deployment, one prefix. */
  prefix?: string;
  /** 32-byte AES key; default OUTPORT_SECRET_KEY (required: every process must hold the same key). */
  secretKey?: Uint8Array;
  /** How often subscribers read new progress events (ms); default 250. */
  pollIntervalMs?: number;
  /** How often a claiming process runs BullMQ's stalled-job check (ms); default 1,000. A dead worker's job is taken over within lease + 2 × this. */
  stalledIntervalMs?: number;
}

/**
 * Connects and checks the secret key against the deployment's key check.
 * @throws JobsError SecretKey — no key, or the key does not open this deployment's secrets; BackendFailed — Redis unreachable for 10 s at start
 */
export async function openBullmqBackend(options: BullmqBackendOptions): Promise<BullmqBackend> {
  const key = options.secretKey ?? loadSecretKey({ production: true });
  const b = new BullmqBackend(options, new SecretBox(key));
  try {
    await b.init();
  } catch (e) {
    await b.close().catch(() => undefined);
    throw e;
  }
  return b;
}

const KEY_CHECK = 'outport secret key check';
/** Longest pre-stage window accepted: 100 years in days. */
const MAX_OLDER_THAN_DAYS = 36_500;
/** Progress events kept per project (a capped Redis stream). */
const EVENTS_PER_PROJECT = 10_000;
/** An admitted job not yet in BullMQ after this long (its admitter died between the two steps) is added again (ms). */
const ADMISSION_REPAIR_MS = 5_000;
/** Optimistic transaction attempts before giving up. */
const MAX_TX_ATTEMPTS = 200;
const EXPORT_PASSES: ExportPass[] = ['full', 'prestage', 'incremental', 'retry-errors'];
type QueueName = 'verify' | 'export';
const queueOf = (action: JobAction): QueueName => (action === 'verify' ? 'verify' : 'export');

interface ProjectDoc {
  id: string; tenantId: string; createdBy: string; name: string; createdAt: string; authMode: Project['authMode'];
  destination: Destination; secret: string; options: Required<ProjectOptions>; assertion?: string; assertionExpiresMs?: number; seq: number;
}
interface ItemDoc {
  id: string; projectId: string; tenantId: string; source: string; mailbox: Item['mailbox']; mailboxKey: string; pstName: string;
  pstKey: string; state: ItemState; lastPass?: ExportPass; verification?: Verification; error?: { code: string; message: string };
  progress?: ItemProgress; lastExportJob?: string; lastExportOutcome?: string; lastExportPass?: string; seq: number;
}
interface JobDoc {
  id: string; seq: number; tenantId: string; projectId: string; itemId: string; mailboxLock: string; action: JobAction;
  olderThanDays?: number; state: JobState; attempts: number; workerId?: string; leaseToken?: string; leaseExpiresMs?: number;
  createdMs: number; startedMs?: number; finishedMs?: number; error?: { code: string; message: string };
  /** The BullMQ job id of the current admission (`<id>.<n>`), while admitted or running. */
  bullId?: string; admissions: number;
}
interface PartDoc { index: number; name: string; sizeBytes: number; sha256: string; itemCount: number; sourceIds: string[]; pass: ExportPass; jobId: string }
interface ErrorDoc extends ItemError { ord: number }
interface PassDoc { jobId: string; pass: string; outcome: string; errors: number; ff: number; fr: number; startedAt: string; finishedAt: string; durationMs: number }

const iso = (ms: number): string => new Date(ms).toISOString();
const ACTIVE_JOB_STATES: JobState[] = ['Queued', 'Running', 'WaitingForAuth'];

/** One optimistic transaction: reads go to Redis (with this tx's own writes seen first), writes are queued for EXEC. */
class Tx {
  readonly writes: (string | number)[][] = [];
  readonly after: (() => Promise<unknown>)[] = [];
  /** Docs read or written in this tx, by `key` or `key\0field` (undefined = deleted). */
  readonly cache = new Map<string, unknown>();
  constructor(readonly r: Redis) {}
  cmd(...args: (string | number)[]): void { this.writes.push(args); }
}

/** The BullMQ backend; use {@link openBullmqBackend}. */
export class BullmqBackend implements JobBackend, ProjectStore, JobQueue {
  readonly kind = 'bullmq';
  readonly store: ProjectStore = this;
  readonly queue: JobQueue = this;
  /** The Redis server, without credentials. */
  readonly display: string;
  readonly prefix: string;
  readonly #redisOptions: RedisOptions;
  readonly #r: Redis;
  readonly #box: SecretBox;
  readonly #pollMs: number;
  readonly #stalledMs: number;
  readonly #queues = new Map<QueueName, Queue>();
  readonly #workers = new Map<QueueName, Worker>();
  readonly #subscriptions = new Set<() => void>();
  /** The connection subscribed to the work channel (opened by the first {@link onWork}). */
  #sub?: Redis;
  readonly #workListeners = new WorkHintListeners();
  #txChain: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Use {@link openBullmqBackend}. */
  constructor(options: BullmqBackendOptions, box: SecretBox) {
    if (typeof options.redis === 'string') {
      const t = parseRedisUrl(options.redis);
      this.#redisOptions = t.options;
      this.display = t.display;
    } else {
      this.#redisOptions = options.redis;
      this.display = `redis://${options.redis.host ?? '127.0.0.1'}:${options.redis.port ?? 6379}/${options.redis.db ?? 0}`;
    }
    this.prefix = options.prefix ?? 'outport';
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.prefix)) throw new JobsError('InvalidInput', 'prefix must be 1-64 letters, digits, "_", "." or "-"', { field: 'prefix' });
    this.#box = box;
    this.#pollMs = options.pollIntervalMs ?? 250;
    this.#stalledMs = options.stalledIntervalMs ?? 1000;
    this.#r = new IORedis({ ...this.#redisOptions, maxRetriesPerRequest: null, lazyConnect: true });
    this.#r.on('error', () => { /* reconnects on its own; calls wait (maxRetriesPerRequest null) */ });
  }

  /** Connects, checks the key. Called by {@link openBullmqBackend}. */
  async init(): Promise<void> {
    try {
      await Promise.race([
        this.#r.connect(),
        new Promise((_, rej) => setTimeout(() => rej(new Error('no answer within 10 s')), 10_000).unref()),
      ]);
    } catch (e) {
      throw new JobsError('BackendFailed', `cannot reach Redis at ${this.display}: ${(e as Error).message}`, { cause: e });
    }
    await this.#tx(async (t) => {
      const sealed = await t.r.hget(this.#k('meta'), 'key_check');
      if (!sealed) {
        t.cmd('HSET', this.#k('meta'), 'key_check', this.#box.seal(KEY_CHECK, 'meta:key_check'));
      } else {
        let ok = false;
        try { ok = this.#box.open(sealed, 'meta:key_check') === KEY_CHECK; } catch { ok = false; }
        if (!ok) throw new JobsError('SecretKey', `the secret key does not open the secrets stored under prefix "${this.prefix}" at ${this.display}: every serve and worker process needs the same OUTPORT_SECRET_KEY`);
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // plumbing

  #k(...parts: string[]): string { return [this.prefix, ...parts].join(':'); }

  /** Runs `fn` as one optimistic transaction (serialized within this process), retried on conflict. */
  async #tx<T>(fn: (t: Tx) => Promise<T>): Promise<T> {
    if (this.#closed) throw new JobsError('BackendFailed', 'the jobs backend is closed');
    const run = async (): Promise<T> => {
      for (let attempt = 0; attempt < MAX_TX_ATTEMPTS; attempt++) {
        const t = new Tx(this.#r);
        let value: T;
        try {
          await this.#r.watch(this.#k('ver'));
          value = await fn(t);
        } catch (e) {
          await this.#r.unwatch().catch(() => undefined);
          if (e instanceof JobsError) throw e;
          throw new JobsError('BackendFailed', `Redis (${this.display}): ${(e as Error).message}`, { cause: e });
        }
        if (t.writes.length === 0) {
          await this.#r.unwatch();
          for (const a of t.after) await a().catch(() => undefined);
          return value;
        }
        const m = this.#r.multi();
        for (const w of t.writes) m.call(String(w[0]), ...w.slice(1));
        m.incr(this.#k('ver'));
        let res: unknown;
        try {
          res = await m.exec();
        } catch (e) {
          throw new JobsError('BackendFailed', `Redis (${this.display}): ${(e as Error).message}`, { cause: e });
        }
        if (res === null) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 2)));
          continue;
        }
        for (const [err] of res as [Error | null, unknown][]) {
          if (err) throw new JobsError('BackendFailed', `Redis (${this.display}): ${err.message}`, { cause: err });
        }
        for (const a of t.after) await a().catch(() => undefined);
        return value;
      }
      throw new JobsError('BackendFailed', `Redis (${this.display}): a change collided with others ${MAX_TX_ATTEMPTS} times; try again`);
    };
    const p = this.#txChain.then(run, run);
    this.#txChain = p.catch(() => undefined);
    return p;
  }

  /** Reads outside a transaction, Redis errors as BackendFailed. */
  async #read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new JobsError('BackendFailed', 'the jobs backend is closed');
    try {
      return await fn();
    } catch (e) {
      if (e instanceof JobsError) throw e;
      throw new JobsError('BackendFailed', `Redis (${this.display}): ${(e as Error).message}`, { cause: e });
    }
  }

  // docs (with the tx cache)

  async #getDoc<T>(t: Tx | undefined, key: string): Promise<T | undefined> {
    if (t?.cache.has(key)) return t.cache.get(key) as T | undefined;
    const s = await (t?.r ?? this.#r).get(key);
    const v = s === null ? undefined : JSON.parse(s) as T;
    t?.cache.set(key, v);
    return v;
  }

  #putDoc(t: Tx, key: string, doc: unknown): void {
    t.cache.set(key, doc);
    t.cmd('SET', key, JSON.stringify(doc));
  }

  async #getField<T>(t: Tx | undefined, key: string, field: string): Promise<T | undefined> {
    const ck = `${key}\0${field}`;
    if (t?.cache.has(ck)) return t.cache.get(ck) as T | undefined;
    const s = await (t?.r ?? this.#r).hget(key, field);
    const v = s === null ? undefined : JSON.parse(s) as T;
    t?.cache.set(ck, v);
    return v;
  }

  #putField(t: Tx, key: string, field: string, doc: unknown): void {
    t.cache.set(`${key}\0${field}`, doc);
    t.cmd('HSET', key, field, JSON.stringify(doc));
  }

  async #projectDoc(t: Tx | undefined, tenantId: string, projectId: string): Promise<ProjectDoc> {
    const p = typeof projectId === 'string' && projectId ? await this.#getDoc<ProjectDoc>(t, this.#k('project', projectId)) : undefined;
    if (!p || p.tenantId !== tenantId) throw new JobsError('NotFound', `no project ${projectId} in this tenant`, { field: 'projectId' });
    return p;
  }

  async #itemDoc(t: Tx | undefined, tenantId: string, projectId: string, itemId: string): Promise<ItemDoc> {
    await this.#projectDoc(t, tenantId, projectId);
    const i = typeof itemId === 'string' && itemId ? await this.#getField<ItemDoc>(t, this.#k('items', projectId), itemId) : undefined;
    if (!i || i.tenantId !== tenantId) throw new JobsError('NotFound', `no item ${itemId} in project ${projectId}`, { field: 'itemId' });
    return i;
  }

  async #allItems(projectId: string, r: Redis = this.#r): Promise<ItemDoc[]> {
    const all = await r.hvals(this.#k('items', projectId));
    return all.map((s) => JSON.parse(s) as ItemDoc).sort((a, b) => a.seq - b.seq);
  }

  async #jobDoc(t: Tx | undefined, jobId: string): Promise<JobDoc | undefined> {
    return typeof jobId === 'string' && jobId ? this.#getDoc<JobDoc>(t, this.#k('job', jobId)) : undefined;
  }

  async #projectJobs(projectId: string, r: Redis = this.#r): Promise<JobDoc[]> {
    const ids = await r.zrange(this.#k('pjobs', projectId), 0, -1);
    if (ids.length === 0) return [];
    const docs = await r.mget(ids.map((id) => this.#k('job', id)));
    return docs.filter((d): d is string => d !== null).map((d) => JSON.parse(d) as JobDoc);
  }

  #project(p: ProjectDoc, items: ItemDoc[]): Project {
    const counts = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
    for (const i of items) counts[i.state]++;
    return {
      id: p.id, name: p.name, tenantId: p.tenantId, createdBy: p.createdBy, createdAt: p.createdAt, authMode: p.authMode,
      destination: p.destination, options: p.options, counts,
    };
  }

  async #projectOut(p: ProjectDoc): Promise<Project> {
    return this.#project(p, await this.#allItems(p.id));
  }

  /** Statistics of items (those with a pass or a part), read in one pipeline. */
  async #statistics(items: ItemDoc[]): Promise<Map<string, ItemStatistics>> {
    const out = new Map<string, ItemStatistics>();
    if (items.length === 0) return out;
    const pipe = this.#r.pipeline();
    for (const i of items) {
      pipe.hvals(this.#k('passes', i.id));
      pipe.hvals(this.#k('parts', i.id));
      pipe.hlen(this.#k('errors', i.lastExportJob ?? '-'));
    }
    const res = (await pipe.exec()) ?? [];
    items.forEach((i, n) => {
      const passes = ((res[3 * n]?.[1] ?? []) as string[]).map((s) => JSON.parse(s) as PassDoc);
      const parts = ((res[3 * n + 1]?.[1] ?? []) as string[]).map((s) => JSON.parse(s) as PartDoc);
      const errors = i.lastExportJob ? Number(res[3 * n + 2]?.[1] ?? 0) : 0;
      if (passes.length === 0 && parts.length === 0) return;
      const started = passes.map((p) => p.startedAt).sort();
      const finished = passes.map((p) => p.finishedAt).sort();
      const durationMs = passes.reduce((a, p) => a + p.durationMs, 0);
      out.set(i.id, {
        itemId: i.id, source: i.source, mailbox: i.mailbox, state: i.state,
        itemsExported: parts.reduce((a, p) => a + p.itemCount, 0), bytesExported: parts.reduce((a, p) => a + p.sizeBytes, 0),
        errors, parts: parts.length, passes: passes.length,
        fidelity: { full: passes.reduce((a, p) => a + p.ff, 0), rest: passes.reduce((a, p) => a + p.fr, 0) },
        ...(started.length ? { startedAt: started[0] } : {}),
        ...(finished.length ? { finishedAt: finished[finished.length - 1] } : {}),
        ...(passes.length ? { durationSeconds: Math.round(durationMs / 100) / 10 } : {}),
      });
    });
    return out;
  }

  #item(d: ItemDoc, stats?: ItemStatistics): Item {
    return {
      id: d.id, projectId: d.projectId, source: d.source, mailbox: d.mailbox, pstName: d.pstName, state: d.state,
      ...(d.lastPass ? { lastPass: d.lastPass } : {}),
      ...(d.verification ? { verification: d.verification } : {}),
      ...(d.progress ? { progress: { ...d.progress, state: d.state } } : {}),
      ...(stats ? { statistics: stats } : {}),
      ...(d.error ? { error: d.error } : {}),
    };
  }

  async #itemsOut(projectId: string, ids: string[]): Promise<Item[]> {
    if (ids.length === 0) return [];
    const raw = await this.#r.hmget(this.#k('items', projectId), ...ids);
    const docs = raw.filter((s): s is string => s !== null).map((s) => JSON.parse(s) as ItemDoc);
    const stats = await this.#statistics(docs);
    return docs.map((d) => this.#item(d, stats.get(d.id)));
  }

  #job(d: JobDoc): Job {
    const live = d.state === 'Running';
    return {
      id: d.id, tenantId: d.tenantId, projectId: d.projectId, itemId: d.itemId, action: d.action,
      ...(d.olderThanDays !== undefined ? { olderThanDays: d.olderThanDays } : {}),
      state: d.state, attempts: d.attempts,
      ...(live && d.workerId ? { workerId: d.workerId } : {}),
      ...(live && d.leaseExpiresMs !== undefined ? { leaseExpiresAt: iso(d.leaseExpiresMs) } : {}),
      createdAt: iso(d.createdMs),
      ...(d.startedMs !== undefined ? { startedAt: iso(d.startedMs) } : {}),
      ...(d.finishedMs !== undefined ? { finishedAt: iso(d.finishedMs) } : {}),
      ...(d.error ? { error: d.error } : {}),
    };
  }

  /** Sets an item's state (and more fields) and publishes its progress with the new state. */
  #setItemState(t: Tx, item: ItemDoc, state: ItemState, extra: Partial<Pick<ItemDoc, 'error' | 'verification' | 'lastPass' | 'lastExportJob' | 'lastExportOutcome' | 'lastExportPass'>> & { progress?: ExportProgress } = {}): void {
    const now = Date.now();
    const p = extra.progress;
    const old = item.progress;
    const progress: ItemProgress = p
      ? {
        itemId: item.id, state, ...(p.folder !== undefined ? { folder: p.folder } : {}), itemsDone: p.itemsDone,
        ...(p.itemsTotal !== undefined ? { itemsTotal: p.itemsTotal } : {}), bytesDone: p.bytesDone,
        ...(p.bytesTotal !== undefined ? { bytesTotal: p.bytesTotal } : {}), itemsPerSecond: p.itemsPerSecond,
        bytesPerSecond: p.bytesPerSecond, ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {}),
        partsDone: p.partsDone, updatedAt: iso(now),
      }
      : { ...(old ?? { itemId: item.id, itemsDone: 0, bytesDone: 0, itemsPerSecond: 0, bytesPerSecond: 0, partsDone: 0 }), itemId: item.id, state, updatedAt: iso(now) };
    if (!p && state !== 'Running' && state !== 'Verifying') { progress.itemsPerSecond = 0; progress.bytesPerSecond = 0; delete progress.etaSeconds; }
    const next: ItemDoc = { ...item, state, progress };
    for (const k of ['error', 'verification', 'lastPass', 'lastExportJob', 'lastExportOutcome', 'lastExportPass'] as const) {
      if (k in extra) {
        const v = extra[k];
        if (v === undefined || v === null) delete next[k];
        else (next as unknown as Record<string, unknown>)[k] = v;
      }
    }
    this.#putField(t, this.#k('items', item.projectId), item.id, next);
    this.#publish(t, item.projectId, progress);
  }

  #publish(t: Tx, projectId: string, progress: ItemProgress): void {
    t.cmd('XADD', this.#k('events', projectId), 'MAXLEN', '~', EVENTS_PER_PROJECT, '*', 'p', JSON.stringify(progress));
  }

  /** The job doc when `lease` still holds it (Running under this token), else undefined. */
  async #leased(t: Tx, lease: Lease): Promise<JobDoc | undefined> {
    const d = await this.#jobDoc(t, lease?.jobId);
    if (!d || d.state !== 'Running' || d.leaseToken !== lease.token || d.workerId !== lease.workerId) return undefined;
    return d;
  }

  /** Frees a job's reservations (project slot, mailbox) and forgets its admission. */
  #unreserve(t: Tx, d: JobDoc): void {
    t.cmd('SREM', this.#k('slots', d.projectId), d.id);
    // Only when the mailbox reservation is this job's (HDEL if equal, in one script).
    t.cmd('EVAL', "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0", 1, this.#k('mbx'), d.mailboxLock, d.id);
    t.cmd('ZREM', this.#k('admitted'), d.id);
    t.cmd('ZREM', this.#k('pending'), d.id);
  }

  /** Ends a job (state, finish time, no lease), frees its reservations; a holder's BullMQ job is finished after the commit. */
  #finishJob(t: Tx, d: JobDoc, state: JobState, error?: { code: string; message: string }, holderToken?: string): void {
    const bullId = d.bullId;
    const next: JobDoc = { ...d, state, finishedMs: Date.now() };
    delete next.leaseToken; delete next.leaseExpiresMs; delete next.bullId;
    if (error) next.error = error; else delete next.error;
    this.#putDoc(t, this.#k('job', d.id), next);
    this.#unreserve(t, d);
    if (bullId) this.#dropBull(t, d.action, bullId, holderToken);
  }

  /**
   * After the commit: the BullMQ copy of a job that ended. The holder finishes it with its token
   * (removed at once); otherwise its lock is deleted so the stalled checker returns it to wait,
   * where the next fetch finds it stale and drops it.
   */
  #dropBull(t: Tx, action: JobAction, bullId: string, holderToken?: string): void {
    const q = this.#queue(queueOf(action));
    if (holderToken) {
      t.after.push(async () => {
        const job = await q.getJob(bullId);
        if (job) await job.moveToCompleted('ended', holderToken, false);
      });
    } else {
      t.cmd('DEL', `${q.toKey(bullId)}:lock`);
    }
  }

  #queue(name: QueueName): Queue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: { ...this.#redisOptions, maxRetriesPerRequest: null }, prefix: this.#k('bull') });
      q.on('error', () => { /* reconnects */ });
      this.#queues.set(name, q);
    }
    return q;
  }

  #worker(name: QueueName): Worker {
    let w = this.#workers.get(name);
    if (!w) {
      w = new Worker(name, null, {
        connection: { ...this.#redisOptions, maxRetriesPerRequest: null }, prefix: this.#k('bull'), autorun: false,
        lockDuration: 30_000, stalledInterval: this.#stalledMs, maxStalledCount: Number.MAX_SAFE_INTEGER,
      });
      w.on('error', () => { /* reconnects; the stalled checker goes on */ });
      void w.startStalledCheckTimer();
      this.#workers.set(name, w);
    }
    return w;
  }

  // ------------------------------------------------------------------------------------------
  // ProjectStore

  async createProject(input: NewProject): Promise<Project> {
    if (!input || typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 200) {
      throw new JobsError('InvalidInput', 'name is required (1-200 characters)', { field: 'name' });
    }
    if (!input.tenantId || !input.createdBy) throw new JobsError('InvalidInput', 'tenantId and createdBy are required', { field: 'tenantId' });
    const authMode = input.authMode ?? 'delegated';
    if (authMode !== 'delegated' && authMode !== 'application') {
      throw new JobsError('InvalidInput', 'authMode must be "delegated" or "application"', { field: 'authMode' });
    }
    const { destination, secret } = splitDestination(input.destination);
    const options = resolveOptions(input.options);
    const id = randomUUID();
    const seq = await this.#read(() => this.#r.incr(this.#k('seq')));
    const doc: ProjectDoc = {
      id, tenantId: input.tenantId, createdBy: input.createdBy, name: input.name.trim(), createdAt: iso(Date.now()), authMode,
      destination, secret: this.#box.seal(JSON.stringify(secret), `project:${id}:destination`), options, seq,
    };
    await this.#tx(async (t) => {
      this.#putDoc(t, this.#k('project', id), doc);
      t.cmd('ZADD', this.#k('projects'), seq, id);
    });
    return this.#project(doc, []);
  }

  async listTenants(): Promise<string[]> {
    return this.#read(async () => {
      const ids = await this.#r.zrange(this.#k('projects'), 0, -1);
      if (ids.length === 0) return [];
      const docs = await this.#r.mget(ids.map((id) => this.#k('project', id)));
      return [...new Set(docs.filter((d): d is string => d !== null).map((d) => (JSON.parse(d) as ProjectDoc).tenantId))].sort();
    });
  }

  async listProjects(tenantId: string, filter: { createdBy?: string } = {}): Promise<Project[]> {
    return this.#read(async () => {
      const ids = await this.#r.zrange(this.#k('projects'), 0, -1);
      if (ids.length === 0) return [];
      const docs = (await this.#r.mget(ids.map((id) => this.#k('project', id)))).filter((d): d is string => d !== null)
        .map((d) => JSON.parse(d) as ProjectDoc)
        .filter((p) => p.tenantId === tenantId && (!filter.createdBy || p.createdBy === filter.createdBy));
      return Promise.all(docs.map((p) => this.#projectOut(p)));
    });
  }

  async getProject(tenantId: string, projectId: string): Promise<Project> {
    return this.#read(async () => this.#projectOut(await this.#projectDoc(undefined, tenantId, projectId)));
  }

  async updateProject(tenantId: string, projectId: string, patch: ProjectPatch): Promise<Project> {
    const doc = await this.#tx(async (t) => {
      const p = { ...(await this.#projectDoc(t, tenantId, projectId)) };
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name.trim() === '' || patch.name.length > 200) throw new JobsError('InvalidInput', 'name must be 1-200 characters', { field: 'name' });
        p.name = patch.name.trim();
      }
      if (patch.authMode !== undefined) {
        if (patch.authMode !== 'delegated' && patch.authMode !== 'application') throw new JobsError('InvalidInput', 'authMode must be "delegated" or "application"', { field: 'authMode' });
        p.authMode = patch.authMode;
      }
      if (patch.options !== undefined) p.options = resolveOptions(patch.options, p.options);
      if (patch.destination !== undefined) {
        const { destination, secret } = splitDestination(patch.destination);
        const running = (await this.#projectJobs(projectId, t.r)).some((j) => j.state === 'Running');
        if (running) throw new JobsError('Conflict', 'the destination cannot change while an item is Running: cancel or wait first', { field: 'destination' });
        p.destination = destination;
        p.secret = this.#box.seal(JSON.stringify(secret), `project:${projectId}:destination`);
      }
      this.#putDoc(t, this.#k('project', projectId), p);
      return p;
    });
    return this.#read(() => this.#projectOut(doc));
  }

  async deleteProject(tenantId: string, projectId: string): Promise<void> {
    await this.#tx(async (t) => {
      await this.#projectDoc(t, tenantId, projectId);
      const items = await this.#allItems(projectId, t.r);
      const jobs = await this.#projectJobs(projectId, t.r);
      for (const j of jobs) {
        this.#unreserve(t, j);
        if (j.bullId) this.#dropBull(t, j.action, j.bullId);
        t.cmd('DEL', this.#k('job', j.id), this.#k('errors', j.id));
      }
      for (const i of items) t.cmd('DEL', this.#k('parts', i.id), this.#k('passes', i.id), this.#k('delta', i.id));
      t.cmd('DEL', this.#k('project', projectId), this.#k('items', projectId), this.#k('itemkeys', projectId),
        this.#k('pjobs', projectId), this.#k('events', projectId), this.#k('slots', projectId));
      t.cmd('ZREM', this.#k('projects'), projectId);
    });
  }

  async destinationSecret(projectId: string): Promise<DestinationSecret> {
    const p = await this.#read(() => this.#jobDocless<ProjectDoc>(this.#k('project', String(projectId))));
    if (!p) throw new JobsError('NotFound', `no project ${projectId}`, { field: 'projectId' });
    return JSON.parse(this.#box.open(p.secret, `project:${projectId}:destination`)) as DestinationSecret;
  }

  async #jobDocless<T>(key: string): Promise<T | undefined> {
    const s = await this.#r.get(key);
    return s === null ? undefined : JSON.parse(s) as T;
  }

  async setUserAssertion(tenantId: string, projectId: string, assertion: string, expiresOnMs: number): Promise<void> {
    if (typeof assertion !== 'string' || assertion === '') throw new JobsError('InvalidInput', 'the assertion is empty', { field: 'assertion' });
    await this.#tx(async (t) => {
      const p = await this.#projectDoc(t, tenantId, projectId);
      this.#putDoc(t, this.#k('project', projectId), {
        ...p, assertion: this.#box.seal(assertion, `project:${projectId}:assertion`), assertionExpiresMs: Math.trunc(expiresOnMs),
      });
    });
  }

  async userAssertion(projectId: string): Promise<{ assertion: string; expiresOnMs: number } | undefined> {
    const p = await this.#read(() => this.#jobDocless<ProjectDoc>(this.#k('project', String(projectId))));
    if (!p?.assertion) return undefined;
    return { assertion: this.#box.open(p.assertion, `project:${projectId}:assertion`), expiresOnMs: p.assertionExpiresMs ?? 0 };
  }

  async addItems(tenantId: string, projectId: string, items: NewItem[]): Promise<Item[]> {
    if (!Array.isArray(items) || items.length === 0) throw new JobsError('InvalidInput', 'items must list at least one item', { field: 'items' });
    const base = await this.#read(() => this.#r.incrby(this.#k('seq'), items.length));
    const docs = await this.#tx(async (t) => {
      await this.#projectDoc(t, tenantId, projectId);
      const keys = await t.r.hgetall(this.#k('itemkeys', projectId));
      const existing = new Map<string, ItemDoc>();
      const lookup = async (id: string): Promise<ItemDoc | undefined> => {
        if (!existing.has(id)) existing.set(id, (await this.#getField<ItemDoc>(t, this.#k('items', projectId), id))!);
        return existing.get(id);
      };
      const rows: RowError[] = [];
      const byMailbox = new Map<string, number>();
      const byPst = new Map<string, number>();
      for (const [i, it] of items.entries()) {
        const row = i + 1;
        const source = typeof it?.source === 'string' ? it.source.trim() : '';
        const sp = sourceProblem(source);
        if (sp) { rows.push({ row, field: 'source', message: sp }); continue; }
        if (it.mailbox !== 'primary' && it.mailbox !== 'archive') { rows.push({ row, field: 'mailbox', message: 'mailbox must be "primary" or "archive"' }); continue; }
        const pp = typeof it.pstName === 'string' ? pstNameProblem(it.pstName) : 'pstName is required';
        if (pp) { rows.push({ row, field: 'pstName', message: pp }); continue; }
        const mk = mailboxKey(source, it.mailbox);
        const pk = pstKey(it.pstName);
        if (byMailbox.has(mk)) rows.push({ row, field: 'source', message: `${source} (${it.mailbox}) is also row ${byMailbox.get(mk)}` });
        else if (keys[`m:${mk}`]) rows.push({ row, field: 'source', message: `${source} (${it.mailbox}) is already in this project` });
        if (byPst.has(pk)) rows.push({ row, field: 'pstName', message: `${it.pstName} is also the destination of row ${byPst.get(pk)}: each item needs its own PST name` });
        else if (keys[`p:${pk}`]) {
          const other = await lookup(keys[`p:${pk}`]);
          rows.push({ row, field: 'pstName', message: `${it.pstName} is already the destination of ${other?.source ?? 'another item'} (${other?.mailbox ?? '?'}) in this project` });
        }
        byMailbox.set(mk, row);
        byPst.set(pk, row);
      }
      if (rows.length) throw new JobsError('InvalidInput', `${rows.length} item row(s) are invalid; nothing was added`, { field: 'items', rows });
      const out: ItemDoc[] = items.map((it, i) => {
        const source = it.source.trim();
        return {
          id: randomUUID(), projectId, tenantId, source, mailbox: it.mailbox, mailboxKey: mailboxKey(source, it.mailbox),
          pstName: it.pstName, pstKey: pstKey(it.pstName), state: 'NotStarted', seq: base - items.length + 1 + i,
        };
      });
      const CHUNK = 1000;
      for (let i = 0; i < out.length; i += CHUNK) {
        const slice = out.slice(i, i + CHUNK);
        t.cmd('HSET', this.#k('items', projectId), ...slice.flatMap((d) => [d.id, JSON.stringify(d)]));
        t.cmd('HSET', this.#k('itemkeys', projectId), ...slice.flatMap((d) => [`m:${d.mailboxKey}`, d.id, `p:${d.pstKey}`, d.id]));
      }
      return out;
    });
    return docs.map((d) => this.#item(d));
  }

  async listItems(tenantId: string, projectId: string): Promise<Item[]> {
    return this.#read(async () => {
      await this.#projectDoc(undefined, tenantId, projectId);
      const docs = await this.#allItems(projectId);
      const stats = await this.#statistics(docs);
      return docs.map((d) => this.#item(d, stats.get(d.id)));
    });
  }

  async getItem(tenantId: string, projectId: string, itemId: string): Promise<Item> {
    return this.#read(async () => {
      const d = await this.#itemDoc(undefined, tenantId, projectId, itemId);
      return this.#item(d, (await this.#statistics([d])).get(d.id));
    });
  }

  async removeItem(tenantId: string, projectId: string, itemId: string): Promise<void> {
    await this.#tx(async (t) => {
      const item = await this.#itemDoc(t, tenantId, projectId, itemId);
      const jobs = (await this.#projectJobs(projectId, t.r)).filter((j) => j.itemId === itemId);
      if (jobs.some((j) => j.state === 'Running')) throw new JobsError('Conflict', 'the item is running: cancel it first', { field: 'itemId' });
      for (const j of jobs) {
        this.#unreserve(t, j);
        if (j.bullId) this.#dropBull(t, j.action, j.bullId);
        t.cmd('DEL', this.#k('job', j.id), this.#k('errors', j.id));
        t.cmd('ZREM', this.#k('pjobs', projectId), j.id);
      }
      t.cmd('HDEL', this.#k('items', projectId), itemId);
      t.cmd('HDEL', this.#k('itemkeys', projectId), `m:${item.mailboxKey}`, `p:${item.pstKey}`);
      t.cmd('DEL', this.#k('parts', itemId), this.#k('passes', itemId), this.#k('delta', itemId));
    });
  }

  async listParts(tenantId: string, projectId: string, itemId: string): Promise<Part[]> {
    return this.#read(async () => {
      await this.#itemDoc(undefined, tenantId, projectId, itemId);
      return (await this.#parts(itemId)).map((p) => ({ name: p.name, sizeBytes: p.sizeBytes, sha256: p.sha256, items: p.itemCount }));
    });
  }

  async #parts(itemId: string, r: Redis = this.#r): Promise<PartDoc[]> {
    return (await r.hvals(this.#k('parts', itemId))).map((s) => JSON.parse(s) as PartDoc).sort((a, b) => a.index - b.index);
  }

  async #errorsOf(jobId: string, r: Redis = this.#r): Promise<ItemError[]> {
    return (await r.hvals(this.#k('errors', jobId))).map((s) => JSON.parse(s) as ErrorDoc).sort((a, b) => a.ord - b.ord)
      .map(({ ord: _ord, ...e }) => e);
  }

  async listErrors(tenantId: string, projectId: string, itemId: string): Promise<ItemError[]> {
    return this.#read(async () => {
      const item = await this.#itemDoc(undefined, tenantId, projectId, itemId);
      const current = (await this.#projectJobs(projectId)).filter((j) => j.itemId === itemId && j.action !== 'verify' && ACTIVE_JOB_STATES.includes(j.state))
        .sort((a, b) => b.seq - a.seq)[0];
      const jobId = current?.id ?? item.lastExportJob;
      return jobId ? this.#errorsOf(jobId) : [];
    });
  }

  async statistics(tenantId: string, projectId: string): Promise<{ value: ItemStatistics[]; totals: StatisticsTotals }> {
    return this.#read(async () => {
      await this.#projectDoc(undefined, tenantId, projectId);
      const docs = await this.#allItems(projectId);
      const stats = await this.#statistics(docs);
      const byState = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
      const value: ItemStatistics[] = docs.map((r) => {
        byState[r.state]++;
        return stats.get(r.id) ?? {
          itemId: r.id, source: r.source, mailbox: r.mailbox, state: r.state,
          itemsExported: 0, bytesExported: 0, errors: 0, parts: 0, passes: 0, fidelity: { full: 0, rest: 0 },
        };
      });
      const totals: StatisticsTotals = {
        items: value.length,
        itemsExported: value.reduce((a, s) => a + s.itemsExported, 0),
        bytesExported: value.reduce((a, s) => a + s.bytesExported, 0),
        errors: value.reduce((a, s) => a + s.errors, 0),
        parts: value.reduce((a, s) => a + s.parts, 0),
        byState,
      };
      return { value, totals };
    });
  }

  // ------------------------------------------------------------------------------------------
  // JobQueue

  async enqueue(request: EnqueueRequest): Promise<Item[]> {
    const { tenantId, projectId, action } = request;
    const actions: JobAction[] = ['verify', ...EXPORT_PASSES];
    if (!actions.includes(action)) throw new JobsError('InvalidInput', `action must be one of ${actions.join(', ')}`, { field: 'action' });
    let olderThanDays: number | undefined;
    if (action === 'prestage') {
      const d = request.olderThanDays;
      if (d === undefined || !Number.isInteger(d) || d < 1 || d > MAX_OLDER_THAN_DAYS) {
        throw new JobsError('InvalidInput', `a pre-stage pass needs olderThanDays, an integer from 1 to ${MAX_OLDER_THAN_DAYS}`, { field: 'olderThanDays' });
      }
      olderThanDays = d;
    }
    const explicit = request.itemIds !== undefined;
    if (explicit && (!Array.isArray(request.itemIds) || request.itemIds.length === 0)) {
      throw new JobsError('InvalidInput', 'itemIds, when given, must list at least one item', { field: 'itemIds' });
    }
    const chosenIds = await this.#tx(async (t) => {
      await this.#projectDoc(t, tenantId, projectId);
      const rows: ItemDoc[] = explicit
        ? await Promise.all([...new Set(request.itemIds)].map((id) => this.#itemDoc(t, tenantId, projectId, id)))
        : await this.#allItems(projectId, t.r);
      const jobs = await this.#projectJobs(projectId, t.r);
      const activeItems = new Set(jobs.filter((j) => ACTIVE_JOB_STATES.includes(j.state)).map((j) => j.itemId));
      const retryable = async (r: ItemDoc) => r.lastExportOutcome === 'CompletedWithErrors' && !!r.lastExportJob
        && (await t.r.hlen(this.#k('errors', r.lastExportJob))) > 0;
      const chosen: ItemDoc[] = [];
      for (const r of rows) {
        if (activeItems.has(r.id)) {
          if (explicit) throw new JobsError('Conflict', `${r.source} (${r.mailbox}) already has a ${r.state} job: cancel it or wait`, { field: 'itemIds' });
          continue;
        }
        if (action === 'retry-errors' && !(await retryable(r))) {
          if (explicit) {
            throw new JobsError('RetryNotAllowed', `${r.source} (${r.mailbox}): retry errors needs a completed pass with at least one error; ${r.lastExportOutcome ? `the last pass ended ${r.lastExportOutcome}` : 'no pass has completed'}`, { field: 'itemIds' });
          }
          continue;
        }
        chosen.push(r);
      }
      if (action === 'retry-errors' && chosen.length === 0) {
        throw new JobsError('RetryNotAllowed', 'retry errors needs an item whose last pass completed with at least one error; none has', { field: 'itemIds' });
      }
      const now = Date.now();
      const base = chosen.length ? await t.r.incrby(this.#k('seq'), chosen.length) : 0;
      chosen.forEach((r0, n) => {
        let r = r0;
        if (action === 'full' && (r.lastExportOutcome === 'Completed' || r.lastExportOutcome === 'CompletedWithErrors') && r.lastExportPass !== 'prestage') {
          // A new full pass after a completed one starts over: parts, errors and deltaLinks go.
          t.cmd('DEL', this.#k('parts', r.id), this.#k('passes', r.id), this.#k('delta', r.id));
          for (const j of jobs.filter((x) => x.itemId === r.id)) t.cmd('DEL', this.#k('errors', j.id));
          r = { ...r };
          delete r.lastExportJob; delete r.lastExportOutcome; delete r.lastExportPass; delete r.progress;
        }
        const seq = base - chosen.length + 1 + n;
        const id = randomUUID();
        const job: JobDoc = {
          id, seq, tenantId, projectId, itemId: r.id, mailboxLock: `${tenantId}|${r.mailboxKey}`, action,
          ...(olderThanDays !== undefined ? { olderThanDays } : {}), state: 'Queued', attempts: 0, createdMs: now, admissions: 0,
        };
        this.#putDoc(t, this.#k('job', id), job);
        t.cmd('ZADD', this.#k('pjobs', projectId), seq, id);
        t.cmd('ZADD', this.#k('pending'), seq, id);
        this.#setItemState(t, r, action === 'verify' ? 'Verifying' : 'Queued', { error: undefined, ...(action === 'verify' ? {} : { lastPass: action }) });
      });
      return chosen.map((r) => r.id);
    });
    this.#hint();
    return this.#read(() => this.#itemsOut(projectId, chosenIds));
  }

  /**
   * Admission: the oldest pending jobs that fit both caps get reserved and put into BullMQ; admitted
   * jobs left out of BullMQ by a dead admitter are put in again (BullMQ ignores a job id it holds).
   */
  async #admit(): Promise<void> {
    const toAdd = await this.#tx(async (t) => {
      const now = Date.now();
      const pendingIds = await t.r.zrange(this.#k('pending'), 0, 999);
      const add: JobDoc[] = [];
      if (pendingIds.length > 0) {
        const docs = (await t.r.mget(pendingIds.map((id) => this.#k('job', id)))).map((s) => (s === null ? undefined : JSON.parse(s) as JobDoc));
        const mbx = await t.r.hgetall(this.#k('mbx'));
        const slots = new Map<string, number>();
        const caps = new Map<string, number>();
        for (const [n, d] of docs.entries()) {
          if (!d || d.state !== 'Queued') { t.cmd('ZREM', this.#k('pending'), pendingIds[n]); continue; }
          if (mbx[d.mailboxLock]) continue;
          if (!caps.has(d.projectId)) {
            const p = await this.#getDoc<ProjectDoc>(t, this.#k('project', d.projectId));
            caps.set(d.projectId, p?.options.maxConcurrentExports ?? 0);
            slots.set(d.projectId, await t.r.scard(this.#k('slots', d.projectId)));
          }
          if (slots.get(d.projectId)! >= caps.get(d.projectId)!) continue;
          slots.set(d.projectId, slots.get(d.projectId)! + 1);
          mbx[d.mailboxLock] = d.id;
          const admissions = d.admissions + 1;
          const next: JobDoc = { ...d, admissions, bullId: `${d.id}.${admissions}` };
          this.#putDoc(t, this.#k('job', d.id), next);
          t.cmd('ZREM', this.#k('pending'), d.id);
          t.cmd('ZADD', this.#k('admitted'), now, d.id);
          t.cmd('SADD', this.#k('slots', d.projectId), d.id);
          t.cmd('HSET', this.#k('mbx'), d.mailboxLock, d.id);
          add.push(next);
        }
      }
      // Repair: admitted long ago and never claimed — the admitter may have died before adding it.
      const old = await t.r.zrangebyscore(this.#k('admitted'), 0, now - ADMISSION_REPAIR_MS, 'LIMIT', 0, 100);
      for (const id of old) {
        const d = await this.#jobDoc(t, id);
        if (d?.bullId && d.state === 'Queued') add.push(d);
      }
      return add;
    });
    for (const d of toAdd) {
      await this.#queue(queueOf(d.action)).add(d.action, { jobId: d.id }, { jobId: d.bullId, removeOnComplete: true, removeOnFail: true });
    }
  }

  async claim(workerId: string, leaseMs: number, options: ClaimOptions = {}): Promise<ClaimedJob | undefined> {
    if (!workerId) throw new JobsError('InvalidInput', 'workerId is required', { field: 'workerId' });
    if (!(leaseMs > 0)) throw new JobsError('InvalidInput', 'leaseMs must be positive', { field: 'leaseMs' });
    const actions = options.actions;
    let names: QueueName[] = ['verify', 'export'];
    if (actions?.length) {
      const exports = EXPORT_PASSES.filter((a) => actions.includes(a)).length;
      if (exports !== 0 && exports !== EXPORT_PASSES.length) {
        throw new JobsError('InvalidInput', 'the BullMQ backend claims verify jobs and export passes from two queues: list "verify", all four passes, or both', { field: 'actions' });
      }
      names = names.filter((n) => (n === 'verify' ? actions.includes('verify') : exports > 0));
    }
    await this.#admit();
    for (const name of names) {
      const worker = this.#worker(name);
      for (;;) {
        const token = randomUUID();
        let bull: BullJob | undefined;
        try {
          bull = await worker.getNextJob(token, { block: false });
        } catch (e) {
          throw new JobsError('BackendFailed', `Redis (${this.display}): ${(e as Error).message}`, { cause: e });
        }
        if (!bull) break;
        const jobId = (bull.data as { jobId?: string })?.jobId ?? '';
        const lockKey = `${this.#queue(name).toKey(bull.id!)}:lock`;
        const got = await this.#tx(async (t) => {
          const d = await this.#jobDoc(t, jobId);
          const expected = d && d.bullId === bull!.id && (d.state === 'Queued' || d.state === 'Running');
          if (!d || !expected) return undefined;
          const now = Date.now();
          const takeover = d.state === 'Running';
          const next: JobDoc = {
            ...d, state: 'Running', attempts: d.attempts + 1, workerId, leaseToken: token, leaseExpiresMs: now + leaseMs,
            startedMs: d.startedMs ?? now,
          };
          this.#putDoc(t, this.#k('job', d.id), next);
          t.cmd('ZREM', this.#k('admitted'), d.id);
          t.cmd('SET', lockKey, token, 'PX', Math.ceil(leaseMs));
          const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
          if (item) this.#setItemState(t, item, d.action === 'verify' ? 'Verifying' : 'Running');
          return { job: next, takeover };
        });
        if (!got) {
          // Stale: its record was cancelled, released, deleted or finished meanwhile.
          await bull.moveToCompleted('stale', token, false).catch(() => undefined);
          continue;
        }
        const out = await this.#read(async () => {
          const p = await this.#jobDocless<ProjectDoc>(this.#k('project', got.job.projectId));
          const [item] = await this.#itemsOut(got.job.projectId, [got.job.itemId]);
          return { p, item };
        });
        if (!out.p || !out.item) continue;
        return {
          job: this.#job(got.job), takeover: got.takeover, item: out.item, project: await this.#projectOut(out.p),
          lease: { jobId: got.job.id, workerId, token },
        };
      }
    }
    return undefined;
  }

  async heartbeat(lease: Lease, leaseMs: number, progress?: ExportProgress): Promise<boolean> {
    return this.#tx(async (t) => {
      const d = await this.#leased(t, lease);
      if (!d) return false;
      this.#putDoc(t, this.#k('job', d.id), { ...d, leaseExpiresMs: Date.now() + leaseMs });
      if (d.bullId) {
        const q = this.#queue(queueOf(d.action));
        t.cmd('SET', `${q.toKey(d.bullId)}:lock`, lease.token, 'PX', Math.ceil(leaseMs));
        t.cmd('SREM', q.toKey('stalled'), d.bullId);
      }
      if (progress) {
        const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
        if (item) this.#setItemState(t, item, d.action === 'verify' ? 'Verifying' : 'Running', { progress });
      }
      return true;
    });
  }

  async complete(lease: Lease, result: JobResult): Promise<boolean> {
    return this.#hinted(this.#tx(async (t) => {
      const d = await this.#leased(t, lease);
      if (!d) return false;
      const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
      const now = Date.now();
      if (result.action === 'verify') {
        const v = result.verification;
        this.#finishJob(t, d, v.ok ? 'Completed' : 'Failed', v.ok ? undefined : verificationError(v), lease.token);
        if (item) this.#setItemState(t, item, v.ok ? 'Verified' : 'Failed', { verification: v, error: v.ok ? undefined : verificationError(v) });
        return true;
      }
      const r = result.export;
      if (r.outcome === 'Cancelled') {
        this.#finishJob(t, d, 'Cancelled', undefined, lease.token);
        if (item) this.#setItemState(t, item, 'Cancelled');
        return true;
      }
      const errors = await t.r.hlen(this.#k('errors', d.id));
      const outcome: JobState = errors > 0 || r.outcome === 'CompletedWithErrors' ? 'CompletedWithErrors' : 'Completed';
      const pass: PassDoc = {
        jobId: d.id, pass: d.action, outcome, errors, ff: r.fidelity.full ?? 0, fr: r.fidelity.rest ?? 0,
        startedAt: iso(d.startedMs ?? now), finishedAt: r.finishedAt || iso(now), durationMs: Math.max(0, now - (d.startedMs ?? now)),
      };
      this.#putField(t, this.#k('passes', d.itemId), d.id, pass);
      this.#finishJob(t, d, outcome, undefined, lease.token);
      const parts = await t.r.hlen(this.#k('parts', d.itemId));
      if (item) {
        const old = item.progress;
        this.#setItemState(t, item, outcome as ItemState, {
          error: undefined, lastExportJob: d.id, lastExportOutcome: outcome, lastExportPass: d.action,
          progress: {
            ...(old?.folder !== undefined ? { folder: old.folder } : {}),
            itemsDone: Math.max(old?.itemsDone ?? 0, r.itemsExported), bytesDone: Math.max(old?.bytesDone ?? 0, r.bytesExported),
            ...(old?.itemsTotal !== undefined ? { itemsTotal: old.itemsTotal } : {}), ...(old?.bytesTotal !== undefined ? { bytesTotal: old.bytesTotal } : {}),
            itemsPerSecond: 0, bytesPerSecond: 0, partsDone: parts, errors, itemsSkipped: r.itemsSkipped ?? 0,
          },
        });
      }
      return true;
    }));
  }

  async fail(lease: Lease, error: { code: string; message: string }): Promise<boolean> {
    const e = cleanError(error);
    return this.#hinted(this.#tx(async (t) => {
      const d = await this.#leased(t, lease);
      if (!d) return false;
      this.#finishJob(t, d, 'Failed', e, lease.token);
      const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
      if (item) this.#setItemState(t, item, 'Failed', { error: e });
      return true;
    }));
  }

  async waitForAuth(lease: Lease, error: { code: string; message: string }): Promise<boolean> {
    const e = cleanError(error);
    return this.#hinted(this.#tx(async (t) => {
      const d = await this.#leased(t, lease);
      if (!d) return false;
      const next: JobDoc = { ...d, state: 'WaitingForAuth', error: e };
      delete next.leaseToken; delete next.leaseExpiresMs; delete next.bullId;
      this.#putDoc(t, this.#k('job', d.id), next);
      this.#unreserve(t, d);
      if (d.bullId) this.#dropBull(t, d.action, d.bullId, lease.token);
      const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
      if (item) this.#setItemState(t, item, 'WaitingForAuth', { error: e });
      return true;
    }));
  }

  async release(lease: Lease): Promise<boolean> {
    return this.#hinted(this.#tx(async (t) => {
      const d = await this.#leased(t, lease);
      if (!d) return false;
      const next: JobDoc = { ...d, state: 'Queued' };
      delete next.leaseToken; delete next.leaseExpiresMs; delete next.workerId; delete next.bullId;
      this.#putDoc(t, this.#k('job', d.id), next);
      this.#unreserve(t, d);
      t.cmd('ZADD', this.#k('pending'), d.seq, d.id);
      if (d.bullId) this.#dropBull(t, d.action, d.bullId, lease.token);
      const item = await this.#getField<ItemDoc>(t, this.#k('items', d.projectId), d.itemId);
      if (item) this.#setItemState(t, item, d.action === 'verify' ? 'Verifying' : 'Queued');
      return true;
    }));
  }

  async resumeAuth(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]> {
    const ids = await this.#tx(async (t) => {
      await this.#projectDoc(t, tenantId, projectId);
      if (itemIds) for (const id of itemIds) await this.#itemDoc(t, tenantId, projectId, id);
      const jobs = (await this.#projectJobs(projectId, t.r)).filter((j) => j.state === 'WaitingForAuth' && (!itemIds || itemIds.includes(j.itemId)))
        .sort((a, b) => a.seq - b.seq);
      for (const j of jobs) {
        const next: JobDoc = { ...j, state: 'Queued' };
        delete next.error; delete next.workerId;
        this.#putDoc(t, this.#k('job', j.id), next);
        t.cmd('ZADD', this.#k('pending'), j.seq, j.id);
        const item = await this.#getField<ItemDoc>(t, this.#k('items', projectId), j.itemId);
        if (item) this.#setItemState(t, item, j.action === 'verify' ? 'Verifying' : 'Queued', { error: undefined });
      }
      return jobs.map((j) => j.itemId);
    });
    this.#hint();
    return this.#read(() => this.#itemsOut(projectId, ids));
  }

  async cancel(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]> {
    const ids = await this.#tx(async (t) => {
      await this.#projectDoc(t, tenantId, projectId);
      if (itemIds) for (const id of itemIds) await this.#itemDoc(t, tenantId, projectId, id);
      const jobs = (await this.#projectJobs(projectId, t.r)).filter((j) => ACTIVE_JOB_STATES.includes(j.state) && (!itemIds || itemIds.includes(j.itemId)))
        .sort((a, b) => a.seq - b.seq);
      for (const j of jobs) {
        this.#finishJob(t, j, 'Cancelled');
        const item = await this.#getField<ItemDoc>(t, this.#k('items', projectId), j.itemId);
        if (item) this.#setItemState(t, item, 'Cancelled');
      }
      return [...new Set(jobs.map((j) => j.itemId))];
    });
    this.#hint();
    return this.#read(() => this.#itemsOut(projectId, ids));
  }

  async listJobs(tenantId: string, projectId: string, filter: { itemId?: string; states?: JobState[] } = {}): Promise<Job[]> {
    return this.#read(async () => {
      await this.#projectDoc(undefined, tenantId, projectId);
      return (await this.#projectJobs(projectId)).sort((a, b) => b.seq - a.seq)
        .filter((j) => (!filter.itemId || j.itemId === filter.itemId) && (!filter.states || filter.states.includes(j.state)))
        .map((j) => this.#job(j));
    });
  }

  async getJob(tenantId: string, jobId: string): Promise<Job> {
    return this.#read(async () => {
      const d = await this.#jobDoc(undefined, jobId);
      if (!d || d.tenantId !== tenantId) throw new JobsError('NotFound', `no job ${jobId} in this tenant`, { field: 'jobId' });
      return this.#job(d);
    });
  }

  async progress(tenantId: string, projectId: string): Promise<ItemProgress[]> {
    return this.#read(async () => {
      await this.#projectDoc(undefined, tenantId, projectId);
      return (await this.#allItems(projectId)).filter((d) => d.progress).map((d) => ({ ...d.progress!, state: d.state }));
    });
  }

  /** The Redis channel of work hints: `<prefix>:work:<db>` (pub/sub channels span a server's databases). */
  get #workChannel(): string { return this.#k('work', String(this.#redisOptions.db ?? 0)); }

  /** Publishes a work hint to every process of this prefix (best effort: claimers poll anyway). */
  #hint(): void {
    if (this.#closed) return;
    this.#r.publish(this.#workChannel, '1').catch(() => { /* Redis away: the claimers' polls find the work */ });
  }

  /** Awaits a lease-bound change and hints when it was made (returned true): its job's caps are free again. */
  async #hinted(change: Promise<boolean>): Promise<boolean> {
    const done = await change;
    if (done) this.#hint();
    return done;
  }

  /**
   * Work hints from every process on this prefix: Redis pub/sub on `<prefix>:work:<db>` (one subscriber
   * connection per backend, opened on the first call), published after enqueue, release,
   * resumeAuth, cancel and a job's end (complete, fail, waitForAuth free the caps). Best effort:
   * a hint lost while Redis is away is covered by the claimers' polling.
   * @returns stops this listener
   */
  onWork(listener: () => void): () => void {
    const stop = this.#workListeners.add(listener);
    if (!this.#sub && !this.#closed) {
      const sub = this.#r.duplicate({ lazyConnect: false });
      this.#sub = sub;
      sub.on('error', () => { /* reconnects on its own and subscribes again (autoResubscribe) */ });
      sub.on('message', () => this.#workListeners.notify());
      sub.subscribe(this.#workChannel).catch(() => { /* retried by ioredis on reconnect */ });
    }
    return stop;
  }

  async subscribe(tenantId: string, projectId: string, listener: (progress: ItemProgress) => void): Promise<Subscription> {
    const key = this.#k('events', projectId);
    let last = await this.#read(async () => {
      await this.#projectDoc(undefined, tenantId, projectId);
      const tail = await this.#r.xrevrange(key, '+', '-', 'COUNT', 1);
      return tail[0]?.[0] ?? '0-0';
    });
    let open = true;
    let busy = false;
    const poll = async () => {
      if (!open || this.#closed || busy) return;
      busy = true;
      try {
        const rows = await this.#r.xrange(key, `(${last}`, '+', 'COUNT', 1000);
        for (const [id, fields] of rows) {
          last = id;
          if (!open) break;
          try { listener(JSON.parse(fields[1]) as ItemProgress); } catch { /* a listener's failure is its own */ }
        }
      } catch { /* Redis away: the next poll tries again */ } finally { busy = false; }
    };
    const timer = setInterval(() => { void poll(); }, this.#pollMs);
    timer.unref();
    const stop = () => { open = false; clearInterval(timer); };
    this.#subscriptions.add(stop);
    return { close: async () => { stop(); this.#subscriptions.delete(stop); } };
  }

  checkpoint(lease: Lease): ExportCheckpoint {
    const self = this;
    const guarded = <T>(fn: (t: Tx, d: JobDoc) => T | Promise<T>): Promise<T> => self.#tx(async (t) => {
      const d = await self.#leased(t, lease);
      if (!d) throw new JobsError('LeaseLost', `job ${lease.jobId}: the lease was lost (cancelled or taken over); stop this run`);
      return fn(t, d);
    });
    const jobOf = async (): Promise<JobDoc> => {
      const d = await self.#read(() => self.#jobDoc(undefined, lease.jobId));
      if (!d) throw new JobsError('LeaseLost', `job ${lease.jobId} no longer exists (project or item deleted)`);
      return d;
    };
    return {
      // the part's manifest in the destination is the record of its ids: the run neither hands them
      // here (350,000 ids: 62 MB of heap as an array plus 54 MB as its JSON value) nor
      // gets them back — it reads them from the manifest on a resume (export/run.ts loadFinished)
      sourceIdsInManifests: true,
      async beginPass(): Promise<void> {
        // A restart of this job's pass: errors of its earlier attempts are forgotten (their items are read again).
        await guarded((t, d) => { t.cmd('DEL', self.#k('errors', d.id)); });
      },
      async completePass(): Promise<void> {
        await guarded(() => undefined);
      },
      async finishedParts(): Promise<FinishedPart[]> {
        const d = await jobOf();
        return self.#read(async () => (await self.#parts(d.itemId)).map((p) => ({
          name: p.name, index: p.index, sizeBytes: p.sizeBytes, sha256: p.sha256, sourceIds: p.sourceIds, itemCount: p.itemCount, pass: p.pass,
        })));
      },
      async partFinished(part: FinishedPart): Promise<void> {
        if (!Number.isInteger(part.index) || part.index < 1) throw new JobsError('InvalidInput', `part.index must be a positive integer (got ${part.index})`, { field: 'part.index' });
        await guarded((t, d) => {
          const doc: PartDoc = {
            index: part.index, name: part.name, sizeBytes: part.sizeBytes, sha256: part.sha256, itemCount: part.itemCount ?? part.sourceIds.length,
            sourceIds: [...part.sourceIds], pass: part.pass, jobId: d.id,
          };
          self.#putField(t, self.#k('parts', d.itemId), String(part.index), doc);
        });
      },
      async itemError(error: ExportItemError): Promise<void> {
        const ord = await self.#read(() => self.#r.incr(self.#k('seq')));
        await guarded((t, d) => {
          const e: ErrorDoc = {
            code: error.code, sourceId: error.sourceId, ...(error.folderPath !== undefined ? { folderPath: error.folderPath } : {}),
            message: error.message, ...(error.subject !== undefined ? { subject: error.subject } : {}), at: error.at || iso(Date.now()), ord,
          };
          t.cmd('HSET', self.#k('errors', d.id), `${error.sourceId}\0${error.code}`, JSON.stringify(e));
        });
      },
      async lastPassErrors(): Promise<ExportItemError[]> {
        const d = await jobOf();
        const item = await self.#read(() => self.#getField<ItemDoc>(undefined, self.#k('items', d.projectId), d.itemId));
        return item?.lastExportJob ? self.#read(() => self.#errorsOf(item.lastExportJob!)) : [];
      },
      async deltaLinks(): Promise<Record<string, string>> {
        const d = await jobOf();
        return (await self.#read(() => self.#jobDocless<Record<string, string>>(self.#k('delta', d.itemId)))) ?? {};
      },
      async saveDeltaLinks(links: Record<string, string>): Promise<void> {
        await guarded((t, d) => { t.cmd('SET', self.#k('delta', d.itemId), JSON.stringify(links)); });
      },
    };
  }

  /** Every key of this deployment (records and BullMQ's), for tests and operator tools. */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.#r.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      out.push(...batch);
    } while (cursor !== '0');
    return out;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const stop of this.#subscriptions) stop();
    this.#subscriptions.clear();
    await this.#txChain.catch(() => undefined);
    this.#closed = true;
    await Promise.all([...this.#workers.values()].map((w) => w.close(true).catch(() => undefined)));
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined)));
    this.#workers.clear();
    this.#queues.clear();
    this.#workListeners.clear();
    this.#sub?.disconnect();
    this.#r.disconnect();
  }
}

/** The item error of a failed verification: the failing checks named. */
function verificationError(v: Verification): { code: string; message: string } {
  const failed = v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message ?? 'failed'}`);
  return { code: 'VerificationFailed', message: failed.join('; ') || 'verification failed' };
}

/** An error record with only code and message, bounded in length. */
function cleanError(e: { code: string; message: string }): { code: string; message: string } {
  return { code: String(e?.code || 'Failed').slice(0, 100), message: String(e?.message ?? '').slice(0, 2000) };
}
