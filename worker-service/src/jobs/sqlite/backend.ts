/**
 * The SQLite backend of the jobs contract (jobs/contract.ts) on better-sqlite3 12: the embedded
 * default, one machine, any number of processes on one file. WAL journal (readers do not block the
 * writer), `busy_timeout` so a second process waits for the write lock instead of failing, and
 * every state change in one `BEGIN IMMEDIATE` transaction: a claim reads the caps and takes the job
 * under the database's single write lock, so two runners in two processes can neither claim the same
 * job nor exceed maxConcurrentExports or one running job per mailbox. docs/jobs.md "SQLite backend".
 * (SQLite: https://www.sqlite.org/wal.html, https://www.sqlite.org/lang_transaction.html)
 */
import Sqlite, { type Database, type Statement } from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
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
import { migrate } from './schema';
import { WorkHintListeners } from '../work-hints';

/** Environment variable naming the data directory. */
export const DATA_DIR_ENV = 'OUTPORT_DATA_DIR';

/** The data directory: `OUTPORT_DATA_DIR`, else `outport-data` in the working directory. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env[DATA_DIR_ENV] || 'outport-data');
}

/** The database file inside the data directory. */
export const SQLITE_FILE = 'outport-jobs.sqlite';
/** How long to wait for another process's write lock before failing (ms). */
const BUSY_TIMEOUT_MS = 10_000;
/** Events older than this are pruned (ms): subscribers poll far more often. */
const EVENT_RETENTION_MS = 10 * 60_000;
/** Longest pre-stage window accepted: 100 years in days. */
const MAX_OLDER_THAN_DAYS = 36_500;

/** Options of {@link openSqliteBackend}. */
export interface SqliteBackendOptions {
  /** Directory of the database file (created when missing). */
  dataDir: string;
  /** 32-byte AES key; default {@link loadSecretKey} with this data directory. */
  secretKey?: Uint8Array;
  /** Told when a secret key was generated into the data directory. */
  onNotice?: (message: string) => void;
  /** How often subscribers poll for events written by other processes (ms); default 250. */
  pollIntervalMs?: number;
  /** Clock (epoch ms); default Date.now. All processes on one file must share it. */
  now?: () => number;
}

/**
 * Opens (creating and migrating when needed) the jobs database in `options.dataDir`.
 * @throws JobsError SecretKey — no key, or the key does not open this directory's secrets; BackendFailed — newer schema
 */
export async function openSqliteBackend(options: SqliteBackendOptions): Promise<SqliteBackend> {
  mkdirSync(options.dataDir, { recursive: true });
  const key = options.secretKey ?? loadSecretKey({ dataDir: options.dataDir, onNotice: options.onNotice });
  return new SqliteBackend(options, new SecretBox(key));
}

/** Item states that mean "a job of this item is active". */
const ACTIVE_JOB_STATES: JobState[] = ['Queued', 'Running', 'WaitingForAuth'];
const KEY_CHECK = 'outport secret key check';

interface ProjectRow {
  id: string; tenant_id: string; created_by: string; name: string; created_at: string; auth_mode: string;
  destination_json: string; destination_secret: string; options_json: string; max_concurrent: number;
  assertion_sealed: string | null; assertion_expires_ms: number | null;
}
interface ItemRow {
  id: string; project_id: string; tenant_id: string; source: string; mailbox: string; mailbox_key: string;
  pst_name: string; pst_key: string; state: string; last_pass: string | null; verification_json: string | null;
  error_json: string | null; progress_json: string | null; last_export_job: string | null;
  last_export_outcome: string | null; last_export_pass: string | null;
}
interface JobRow {
  seq: number; id: string; tenant_id: string; project_id: string; item_id: string; mailbox_lock: string; action: string;
  older_than_days: number | null; state: string; attempts: number; worker_id: string | null; lease_token: string | null;
  lease_expires_ms: number | null; created_ms: number; started_ms: number | null; finished_ms: number | null; error_json: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const parse = <T>(json: string | null): T | undefined => (json === null ? undefined : JSON.parse(json) as T);

/** The SQLite backend; use {@link openSqliteBackend}. Both halves of the contract over one connection. */
export class SqliteBackend implements JobBackend, ProjectStore, JobQueue {
  readonly kind = 'sqlite';
  readonly store: ProjectStore = this;
  readonly queue: JobQueue = this;
  /** The database file's path. */
  readonly file: string;
  readonly #db: Database;
  readonly #box: SecretBox;
  readonly #now: () => number;
  readonly #pollMs: number;
  readonly #subscriptions = new Set<() => void>();
  readonly #workListeners = new WorkHintListeners();
  readonly #statements = new Map<string, Statement>();
  #eventsSincePrune = 0;
  #closed = false;

  /** Use {@link openSqliteBackend}. */
  constructor(options: SqliteBackendOptions, box: SecretBox) {
    this.file = path.join(options.dataDir, SQLITE_FILE);
    this.#box = box;
    this.#now = options.now ?? Date.now;
    this.#pollMs = options.pollIntervalMs ?? 250;
    try {
      this.#db = new Sqlite(this.file, { timeout: BUSY_TIMEOUT_MS });
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.pragma('foreign_keys = ON');
      migrate(this.#db);
    } catch (e) {
      if (e instanceof JobsError) throw e;
      throw new JobsError('BackendFailed', `cannot open the jobs database ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    this.#tx(() => {
      const row = this.#stmt('SELECT value FROM meta WHERE key = ?').get('key_check') as { value: string } | undefined;
      if (!row) {
        this.#stmt('INSERT INTO meta (key, value) VALUES (?, ?)').run('key_check', this.#box.seal(KEY_CHECK, 'meta:key_check'));
      } else if (this.#openOrUndefined(row.value, 'meta:key_check') !== KEY_CHECK) {
        throw new JobsError('SecretKey', `the secret key does not open the secrets stored in ${this.file}: use the key they were stored with (OUTPORT_SECRET_KEY or secret.key of that data directory)`);
      }
    });
  }

  // ------------------------------------------------------------------------------------------
  // plumbing

  /** A prepared statement, cached by its SQL text (preparing costs more than most of our queries). */
  #stmt(sql: string): Statement {
    let st = this.#statements.get(sql);
    if (!st) { st = this.#db.prepare(sql); this.#statements.set(sql, st); }
    return st;
  }

  /**
   * Hints the work listeners after a committed change that may make a job claimable (false: a
   * lease-bound change that was not made). Listeners run on a later tick, never inside the change.
   */
  #hinted<T>(result: T): T {
    if (result !== false && this.#workListeners.size > 0) {
      queueMicrotask(() => this.#workListeners.notify());
    }
    return result;
  }

  /**
   * Work hints of this process (enqueue, release, resumeAuth, cancel, a job's end). Other processes
   * on the same database file are not told: their runners find the work at their next poll.
   * @returns stops this listener
   */
  onWork(listener: () => void): () => void {
    return this.#workListeners.add(listener);
  }

  #tx<T>(fn: () => T): T {
    if (this.#closed) throw new JobsError('BackendFailed', 'the jobs backend is closed');
    try {
      return this.#db.transaction(fn).immediate();
    } catch (e) {
      if (e instanceof JobsError) throw e;
      throw new JobsError('BackendFailed', `jobs database: ${(e as Error).message}`, { cause: e });
    }
  }

  #openOrUndefined(sealed: string, context: string): string | undefined {
    try { return this.#box.open(sealed, context); } catch { return undefined; }
  }

  #projectRow(tenantId: string, projectId: string): ProjectRow {
    const row = this.#stmt('SELECT * FROM projects WHERE id = ? AND tenant_id = ?').get(projectId, tenantId) as ProjectRow | undefined;
    if (!row) throw new JobsError('NotFound', `no project ${projectId} in this tenant`, { field: 'projectId' });
    return row;
  }

  #itemRow(tenantId: string, projectId: string, itemId: string): ItemRow {
    const row = this.#stmt('SELECT * FROM items WHERE id = ? AND project_id = ? AND tenant_id = ?').get(itemId, projectId, tenantId) as ItemRow | undefined;
    if (!row) throw new JobsError('NotFound', `no item ${itemId} in project ${projectId}`, { field: 'itemId' });
    return row;
  }

  #project(row: ProjectRow): Project {
    const counts = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
    for (const r of this.#stmt('SELECT state, COUNT(*) AS n FROM items WHERE project_id = ? GROUP BY state').all(row.id) as { state: ItemState; n: number }[]) {
      counts[r.state] = r.n;
    }
    return {
      id: row.id, name: row.name, tenantId: row.tenant_id, createdBy: row.created_by, createdAt: row.created_at,
      authMode: row.auth_mode as Project['authMode'], destination: JSON.parse(row.destination_json) as Destination,
      options: JSON.parse(row.options_json) as Required<ProjectOptions>, counts,
    };
  }

  /** Statistics of a project's items (those with a completed pass or a part), by item id. */
  #statistics(projectId: string, only?: string): Map<string, ItemStatistics> {
    const filter = only ? 'i.id = ?' : 'i.project_id = ?';
    const arg = only ?? projectId;
    const out = new Map<string, ItemStatistics>();
    const rows = this.#stmt(`
      SELECT i.id, i.source, i.mailbox, i.state,
        (SELECT COUNT(*) FROM passes p WHERE p.item_id = i.id) AS passes,
        (SELECT COALESCE(SUM(fidelity_full), 0) FROM passes p WHERE p.item_id = i.id) AS ff,
        (SELECT COALESCE(SUM(fidelity_rest), 0) FROM passes p WHERE p.item_id = i.id) AS fr,
        (SELECT MIN(started_at) FROM passes p WHERE p.item_id = i.id) AS started_at,
        (SELECT MAX(finished_at) FROM passes p WHERE p.item_id = i.id) AS finished_at,
        (SELECT SUM(duration_ms) FROM passes p WHERE p.item_id = i.id) AS duration_ms,
        (SELECT COUNT(*) FROM parts t WHERE t.item_id = i.id) AS parts,
        (SELECT COALESCE(SUM(item_count), 0) FROM parts t WHERE t.item_id = i.id) AS items_exported,
        (SELECT COALESCE(SUM(size_bytes), 0) FROM parts t WHERE t.item_id = i.id) AS bytes_exported,
        (SELECT COUNT(*) FROM item_errors e WHERE e.job_id = i.last_export_job) AS errors
      FROM items i WHERE ${filter}`).all(arg) as {
        id: string; source: string; mailbox: string; state: string; passes: number; ff: number; fr: number;
        started_at: string | null; finished_at: string | null; duration_ms: number | null; parts: number;
        items_exported: number; bytes_exported: number; errors: number;
      }[];
    for (const r of rows) {
      if (r.passes === 0 && r.parts === 0) continue;
      out.set(r.id, {
        itemId: r.id, source: r.source, mailbox: r.mailbox as ItemStatistics['mailbox'], state: r.state as ItemState,
        itemsExported: r.items_exported, bytesExported: r.bytes_exported, errors: r.errors, parts: r.parts, passes: r.passes,
        fidelity: { full: r.ff, rest: r.fr },
        ...(r.started_at ? { startedAt: r.started_at } : {}),
        ...(r.finished_at ? { finishedAt: r.finished_at } : {}),
        ...(r.duration_ms !== null ? { durationSeconds: Math.round(r.duration_ms / 100) / 10 } : {}),
      });
    }
    return out;
  }

  #item(row: ItemRow, stats?: ItemStatistics): Item {
    const progress = parse<ItemProgress>(row.progress_json);
    const verification = parse<Verification>(row.verification_json);
    const error = parse<{ code: string; message: string }>(row.error_json);
    return {
      id: row.id, projectId: row.project_id, source: row.source, mailbox: row.mailbox as Item['mailbox'],
      pstName: row.pst_name, state: row.state as ItemState,
      ...(row.last_pass ? { lastPass: row.last_pass as ExportPass } : {}),
      ...(verification ? { verification } : {}),
      ...(progress ? { progress: { ...progress, state: row.state as ItemState } } : {}),
      ...(stats ? { statistics: stats } : {}),
      ...(error ? { error } : {}),
    };
  }

  #itemById(itemId: string): Item {
    const row = this.#stmt('SELECT * FROM items WHERE id = ?').get(itemId) as ItemRow;
    return this.#item(row, this.#statistics(row.project_id, row.id).get(row.id));
  }

  #job(row: JobRow): Job {
    const error = parse<{ code: string; message: string }>(row.error_json);
    const live = row.state === 'Running';
    return {
      id: row.id, tenantId: row.tenant_id, projectId: row.project_id, itemId: row.item_id, action: row.action as JobAction,
      ...(row.older_than_days !== null ? { olderThanDays: row.older_than_days } : {}),
      state: row.state as JobState, attempts: row.attempts,
      ...(live && row.worker_id ? { workerId: row.worker_id } : {}),
      ...(live && row.lease_expires_ms !== null ? { leaseExpiresAt: iso(row.lease_expires_ms) } : {}),
      createdAt: iso(row.created_ms),
      ...(row.started_ms !== null ? { startedAt: iso(row.started_ms) } : {}),
      ...(row.finished_ms !== null ? { finishedAt: iso(row.finished_ms) } : {}),
      ...(error ? { error } : {}),
    };
  }

  /** Sets an item's state (and optionally more columns) and publishes its progress with the new state. */
  #setItemState(itemId: string, state: ItemState, extra: Partial<Pick<ItemRow, 'error_json' | 'verification_json' | 'last_pass' | 'last_export_job' | 'last_export_outcome' | 'last_export_pass'>> & { progress?: ExportProgress } = {}): void {
    const row = this.#stmt('SELECT * FROM items WHERE id = ?').get(itemId) as ItemRow;
    const now = this.#now();
    const old = parse<ItemProgress>(row.progress_json);
    const p = extra.progress;
    const progress: ItemProgress = p
      ? {
        itemId, state, ...(p.folder !== undefined ? { folder: p.folder } : {}), itemsDone: p.itemsDone,
        ...(p.itemsTotal !== undefined ? { itemsTotal: p.itemsTotal } : {}), bytesDone: p.bytesDone,
        ...(p.bytesTotal !== undefined ? { bytesTotal: p.bytesTotal } : {}), itemsPerSecond: p.itemsPerSecond,
        bytesPerSecond: p.bytesPerSecond, ...(p.etaSeconds !== undefined ? { etaSeconds: p.etaSeconds } : {}),
        partsDone: p.partsDone, updatedAt: iso(now),
      }
      : { ...(old ?? { itemId, itemsDone: 0, bytesDone: 0, itemsPerSecond: 0, bytesPerSecond: 0, partsDone: 0 }), itemId, state, updatedAt: iso(now) };
    if (!p && state !== 'Running' && state !== 'Verifying') { progress.itemsPerSecond = 0; progress.bytesPerSecond = 0; delete progress.etaSeconds; }
    const sets = ['state = @state', 'progress_json = @progress_json'];
    const params: Record<string, unknown> = { id: itemId, state, progress_json: JSON.stringify(progress) };
    for (const k of ['error_json', 'verification_json', 'last_pass', 'last_export_job', 'last_export_outcome', 'last_export_pass'] as const) {
      if (k in extra) { sets.push(`${k} = @${k}`); params[k] = extra[k] ?? null; }
    }
    this.#stmt(`UPDATE items SET ${sets.join(', ')} WHERE id = @id`).run(params);
    this.#publish(row.project_id, progress);
  }

  #publish(projectId: string, progress: ItemProgress): void {
    const now = this.#now();
    this.#stmt('INSERT INTO events (project_id, at_ms, progress_json) VALUES (?, ?, ?)').run(projectId, now, JSON.stringify(progress));
    if (++this.#eventsSincePrune >= 500) {
      this.#eventsSincePrune = 0;
      this.#stmt('DELETE FROM events WHERE at_ms < ?').run(now - EVENT_RETENTION_MS);
    }
  }

  /** The job row when `lease` still holds it (Running under this token), else undefined. */
  #leased(lease: Lease): JobRow | undefined {
    return this.#stmt("SELECT * FROM jobs WHERE id = ? AND lease_token = ? AND worker_id = ? AND state = 'Running'")
      .get(lease.jobId, lease.token, lease.workerId) as JobRow | undefined;
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
    return this.#tx(() => {
      this.#stmt(`INSERT INTO projects (id, tenant_id, created_by, name, created_at, auth_mode, destination_json,
        destination_secret, options_json, max_concurrent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        id, input.tenantId, input.createdBy, input.name.trim(), iso(this.#now()), authMode, JSON.stringify(destination),
        this.#box.seal(JSON.stringify(secret), `project:${id}:destination`), JSON.stringify(options), options.maxConcurrentExports);
      return this.#project(this.#projectRow(input.tenantId, id));
    });
  }

  async listTenants(): Promise<string[]> {
    return this.#tx(() => (this.#stmt('SELECT DISTINCT tenant_id FROM projects ORDER BY tenant_id').all() as { tenant_id: string }[]).map((r) => r.tenant_id));
  }

  async listProjects(tenantId: string, filter: { createdBy?: string } = {}): Promise<Project[]> {
    return this.#tx(() => {
      const rows = (filter.createdBy
        ? this.#stmt('SELECT * FROM projects WHERE tenant_id = ? AND created_by = ? ORDER BY rowid').all(tenantId, filter.createdBy)
        : this.#stmt('SELECT * FROM projects WHERE tenant_id = ? ORDER BY rowid').all(tenantId)) as ProjectRow[];
      return rows.map((r) => this.#project(r));
    });
  }

  async getProject(tenantId: string, projectId: string): Promise<Project> {
    return this.#tx(() => this.#project(this.#projectRow(tenantId, projectId)));
  }

  async updateProject(tenantId: string, projectId: string, patch: ProjectPatch): Promise<Project> {
    return this.#tx(() => {
      const row = this.#projectRow(tenantId, projectId);
      const sets: string[] = [];
      const params: Record<string, unknown> = { id: projectId };
      if (patch.name !== undefined) {
        if (typeof patch.name !== 'string' || patch.name.trim() === '' || patch.name.length > 200) throw new JobsError('InvalidInput', 'name must be 1-200 characters', { field: 'name' });
        sets.push('name = @name'); params.name = patch.name.trim();
      }
      if (patch.authMode !== undefined) {
        if (patch.authMode !== 'delegated' && patch.authMode !== 'application') throw new JobsError('InvalidInput', 'authMode must be "delegated" or "application"', { field: 'authMode' });
        sets.push('auth_mode = @auth_mode'); params.auth_mode = patch.authMode;
      }
      if (patch.options !== undefined) {
        const options = resolveOptions(patch.options, JSON.parse(row.options_json) as Required<ProjectOptions>);
        sets.push('options_json = @options_json', 'max_concurrent = @max_concurrent');
        params.options_json = JSON.stringify(options); params.max_concurrent = options.maxConcurrentExports;
      }
      if (patch.destination !== undefined) {
        const { destination, secret } = splitDestination(patch.destination);
        const running = this.#stmt("SELECT COUNT(*) AS n FROM jobs WHERE project_id = ? AND state = 'Running'").get(projectId) as { n: number };
        if (running.n > 0) throw new JobsError('Conflict', 'the destination cannot change while an item is Running: cancel or wait first', { field: 'destination' });
        sets.push('destination_json = @destination_json', 'destination_secret = @destination_secret');
        params.destination_json = JSON.stringify(destination);
        params.destination_secret = this.#box.seal(JSON.stringify(secret), `project:${projectId}:destination`);
      }
      if (sets.length) this.#stmt(`UPDATE projects SET ${sets.join(', ')} WHERE id = @id`).run(params);
      return this.#project(this.#projectRow(tenantId, projectId));
    });
  }

  async deleteProject(tenantId: string, projectId: string): Promise<void> {
    this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      // Cascades to items, jobs (a running worker's heartbeat then finds no lease), parts, errors, passes.
      this.#stmt('DELETE FROM projects WHERE id = ?').run(projectId);
      this.#stmt('DELETE FROM events WHERE project_id = ?').run(projectId);
    });
  }

  async destinationSecret(projectId: string): Promise<DestinationSecret> {
    const row = this.#tx(() => this.#stmt('SELECT destination_secret FROM projects WHERE id = ?').get(projectId) as { destination_secret: string } | undefined);
    if (!row) throw new JobsError('NotFound', `no project ${projectId}`, { field: 'projectId' });
    return JSON.parse(this.#box.open(row.destination_secret, `project:${projectId}:destination`)) as DestinationSecret;
  }

  async setUserAssertion(tenantId: string, projectId: string, assertion: string, expiresOnMs: number): Promise<void> {
    if (typeof assertion !== 'string' || assertion === '') throw new JobsError('InvalidInput', 'the assertion is empty', { field: 'assertion' });
    this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      this.#stmt('UPDATE projects SET assertion_sealed = ?, assertion_expires_ms = ? WHERE id = ?')
        .run(this.#box.seal(assertion, `project:${projectId}:assertion`), Math.trunc(expiresOnMs), projectId);
    });
  }

  async userAssertion(projectId: string): Promise<{ assertion: string; expiresOnMs: number } | undefined> {
    const row = this.#tx(() => this.#stmt('SELECT assertion_sealed, assertion_expires_ms FROM projects WHERE id = ?').get(projectId) as
      { assertion_sealed: string | null; assertion_expires_ms: number | null } | undefined);
    if (!row?.assertion_sealed) return undefined;
    return { assertion: this.#box.open(row.assertion_sealed, `project:${projectId}:assertion`), expiresOnMs: row.assertion_expires_ms ?? 0 };
  }

  async addItems(tenantId: string, projectId: string, items: NewItem[]): Promise<Item[]> {
    if (!Array.isArray(items) || items.length === 0) throw new JobsError('InvalidInput', 'items must list at least one item', { field: 'items' });
    return this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      const rows: RowError[] = [];
      const byMailbox = new Map<string, number>();
      const byPst = new Map<string, number>();
      const existsMailbox = this.#stmt('SELECT source FROM items WHERE project_id = ? AND mailbox_key = ?');
      const existsPst = this.#stmt('SELECT source, mailbox FROM items WHERE project_id = ? AND pst_key = ?');
      items.forEach((it, i) => {
        const row = i + 1;
        const source = typeof it?.source === 'string' ? it.source.trim() : '';
        const sp = sourceProblem(source);
        if (sp) { rows.push({ row, field: 'source', message: sp }); return; }
        if (it.mailbox !== 'primary' && it.mailbox !== 'archive') { rows.push({ row, field: 'mailbox', message: 'mailbox must be "primary" or "archive"' }); return; }
        const pp = typeof it.pstName === 'string' ? pstNameProblem(it.pstName) : 'pstName is required';
        if (pp) { rows.push({ row, field: 'pstName', message: pp }); return; }
        const mk = mailboxKey(source, it.mailbox);
        const pk = pstKey(it.pstName);
        if (byMailbox.has(mk)) rows.push({ row, field: 'source', message: `${source} (${it.mailbox}) is also row ${byMailbox.get(mk)}` });
        else if (existsMailbox.get(projectId, mk)) rows.push({ row, field: 'source', message: `${source} (${it.mailbox}) is already in this project` });
        if (byPst.has(pk)) rows.push({ row, field: 'pstName', message: `${it.pstName} is also the destination of row ${byPst.get(pk)}: each item needs its own PST name` });
        else {
          const other = existsPst.get(projectId, pk) as { source: string; mailbox: string } | undefined;
          if (other) rows.push({ row, field: 'pstName', message: `${it.pstName} is already the destination of ${other.source} (${other.mailbox}) in this project` });
        }
        byMailbox.set(mk, row);
        byPst.set(pk, row);
      });
      if (rows.length) throw new JobsError('InvalidInput', `${rows.length} item row(s) are invalid; nothing was added`, { field: 'items', rows });
      const insert = this.#stmt(`INSERT INTO items (id, project_id, tenant_id, source, mailbox, mailbox_key, pst_name, pst_key, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'NotStarted')`);
      const ids = items.map((it) => {
        const id = randomUUID();
        const source = it.source.trim();
        insert.run(id, projectId, tenantId, source, it.mailbox, mailboxKey(source, it.mailbox), it.pstName, pstKey(it.pstName));
        return id;
      });
      return ids.map((id) => this.#item(this.#stmt('SELECT * FROM items WHERE id = ?').get(id) as ItemRow));
    });
  }

  async listItems(tenantId: string, projectId: string): Promise<Item[]> {
    return this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      const stats = this.#statistics(projectId);
      return (this.#stmt('SELECT * FROM items WHERE project_id = ? ORDER BY rowid').all(projectId) as ItemRow[])
        .map((r) => this.#item(r, stats.get(r.id)));
    });
  }

  async getItem(tenantId: string, projectId: string, itemId: string): Promise<Item> {
    return this.#tx(() => this.#item(this.#itemRow(tenantId, projectId, itemId), this.#statistics(projectId, itemId).get(itemId)));
  }

  async removeItem(tenantId: string, projectId: string, itemId: string): Promise<void> {
    this.#tx(() => {
      this.#itemRow(tenantId, projectId, itemId);
      const running = this.#stmt("SELECT COUNT(*) AS n FROM jobs WHERE item_id = ? AND state = 'Running'").get(itemId) as { n: number };
      if (running.n > 0) throw new JobsError('Conflict', 'the item is running: cancel it first', { field: 'itemId' });
      this.#stmt('DELETE FROM items WHERE id = ?').run(itemId);
    });
  }

  async listParts(tenantId: string, projectId: string, itemId: string): Promise<Part[]> {
    return this.#tx(() => {
      this.#itemRow(tenantId, projectId, itemId);
      return (this.#stmt('SELECT name, size_bytes, sha256, item_count FROM parts WHERE item_id = ? ORDER BY idx').all(itemId) as
        { name: string; size_bytes: number; sha256: string; item_count: number }[])
        .map((r) => ({ name: r.name, sizeBytes: r.size_bytes, sha256: r.sha256, items: r.item_count }));
    });
  }

  async listErrors(tenantId: string, projectId: string, itemId: string): Promise<ItemError[]> {
    return this.#tx(() => {
      const item = this.#itemRow(tenantId, projectId, itemId);
      const current = this.#stmt("SELECT id FROM jobs WHERE item_id = ? AND action != 'verify' AND state IN ('Running', 'Queued', 'WaitingForAuth') ORDER BY seq DESC LIMIT 1").get(itemId) as { id: string } | undefined;
      const jobId = current?.id ?? item.last_export_job;
      return jobId ? this.#errorsOf(jobId) : [];
    });
  }

  #errorsOf(jobId: string): ItemError[] {
    return (this.#stmt('SELECT code, source_id, folder_path, message, subject, at FROM item_errors WHERE job_id = ? ORDER BY rowid').all(jobId) as
      { code: string; source_id: string; folder_path: string | null; message: string; subject: string | null; at: string }[])
      .map((r) => ({
        code: r.code, sourceId: r.source_id, ...(r.folder_path !== null ? { folderPath: r.folder_path } : {}),
        message: r.message, ...(r.subject !== null ? { subject: r.subject } : {}), at: r.at,
      }));
  }

  async statistics(tenantId: string, projectId: string): Promise<{ value: ItemStatistics[]; totals: StatisticsTotals }> {
    return this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      const stats = this.#statistics(projectId);
      const byState = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
      const value: ItemStatistics[] = [];
      for (const r of this.#stmt('SELECT * FROM items WHERE project_id = ? ORDER BY rowid').all(projectId) as ItemRow[]) {
        byState[r.state as ItemState]++;
        value.push(stats.get(r.id) ?? {
          itemId: r.id, source: r.source, mailbox: r.mailbox as ItemStatistics['mailbox'], state: r.state as ItemState,
          itemsExported: 0, bytesExported: 0, errors: 0, parts: 0, passes: 0, fidelity: { full: 0, rest: 0 },
        });
      }
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
    const actions: JobAction[] = ['verify', 'full', 'prestage', 'incremental', 'retry-errors'];
    if (!actions.includes(action)) throw new JobsError('InvalidInput', `action must be one of ${actions.join(', ')}`, { field: 'action' });
    let olderThanDays: number | null = null;
    if (action === 'prestage') {
      const d = request.olderThanDays;
      if (d === undefined || !Number.isInteger(d) || d < 1 || d > MAX_OLDER_THAN_DAYS) {
        throw new JobsError('InvalidInput', `a pre-stage pass needs olderThanDays, an integer from 1 to ${MAX_OLDER_THAN_DAYS}`, { field: 'olderThanDays' });
      }
      olderThanDays = d;
    }
    return this.#hinted(this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      const explicit = request.itemIds !== undefined;
      let rows: ItemRow[];
      if (explicit) {
        if (!Array.isArray(request.itemIds) || request.itemIds.length === 0) throw new JobsError('InvalidInput', 'itemIds, when given, must list at least one item', { field: 'itemIds' });
        rows = [...new Set(request.itemIds)].map((id) => this.#itemRow(tenantId, projectId, id));
      } else {
        rows = this.#stmt('SELECT * FROM items WHERE project_id = ? ORDER BY rowid').all(projectId) as ItemRow[];
      }
      const active = this.#stmt(`SELECT COUNT(*) AS n FROM jobs WHERE item_id = ? AND state IN ('Queued', 'Running', 'WaitingForAuth')`);
      const retryable = (r: ItemRow) => r.last_export_outcome === 'CompletedWithErrors' && r.last_export_job !== null
        && (this.#stmt('SELECT COUNT(*) AS n FROM item_errors WHERE job_id = ?').get(r.last_export_job) as { n: number }).n > 0;
      const chosen: ItemRow[] = [];
      for (const r of rows) {
        if ((active.get(r.id) as { n: number }).n > 0) {
          if (explicit) throw new JobsError('Conflict', `${r.source} (${r.mailbox}) already has a ${r.state} job: cancel it or wait`, { field: 'itemIds' });
          continue;
        }
        if (action === 'retry-errors' && !retryable(r)) {
          if (explicit) {
            throw new JobsError('RetryNotAllowed', `${r.source} (${r.mailbox}): retry errors needs a completed pass with at least one error; ${r.last_export_outcome ? `the last pass ended ${r.last_export_outcome}` : 'no pass has completed'}`, { field: 'itemIds' });
          }
          continue;
        }
        chosen.push(r);
      }
      if (action === 'retry-errors' && chosen.length === 0) {
        throw new JobsError('RetryNotAllowed', 'retry errors needs an item whose last pass completed with at least one error; none has', { field: 'itemIds' });
      }
      const now = this.#now();
      const insert = this.#stmt(`INSERT INTO jobs (id, tenant_id, project_id, item_id, mailbox_lock, action, older_than_days, state, created_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'Queued', ?)`);
      for (const r of chosen) {
        if (action === 'full' && (r.last_export_outcome === 'Completed' || r.last_export_outcome === 'CompletedWithErrors') && r.last_export_pass !== 'prestage') {
          // A new full pass after a completed one starts over: parts, errors and deltaLinks go.
          for (const t of ['parts', 'item_errors', 'delta_links', 'passes']) this.#stmt(`DELETE FROM ${t} WHERE item_id = ?`).run(r.id);
          this.#stmt('UPDATE items SET last_export_job = NULL, last_export_outcome = NULL, last_export_pass = NULL, progress_json = NULL WHERE id = ?').run(r.id);
        }
        insert.run(randomUUID(), tenantId, projectId, r.id, `${tenantId}|${r.mailbox_key}`, action, olderThanDays, now);
        this.#setItemState(r.id, action === 'verify' ? 'Verifying' : 'Queued', {
          error_json: null, ...(action === 'verify' ? {} : { last_pass: action }),
        });
      }
      return chosen.map((r) => this.#itemById(r.id));
    }));
  }

  async claim(workerId: string, leaseMs: number, options: ClaimOptions = {}): Promise<ClaimedJob | undefined> {
    if (!workerId) throw new JobsError('InvalidInput', 'workerId is required', { field: 'workerId' });
    if (!(leaseMs > 0)) throw new JobsError('InvalidInput', 'leaseMs must be positive', { field: 'leaseMs' });
    const actions = options.actions;
    return this.#tx(() => {
      const now = this.#now();
      // Live leases: Running jobs per project and the mailboxes they hold.
      const live = this.#stmt("SELECT project_id, mailbox_lock FROM jobs WHERE state = 'Running' AND lease_expires_ms > ?").all(now) as { project_id: string; mailbox_lock: string }[];
      const runningByProject = new Map<string, number>();
      const lockedMailboxes = new Set<string>();
      for (const r of live) {
        runningByProject.set(r.project_id, (runningByProject.get(r.project_id) ?? 0) + 1);
        lockedMailboxes.add(r.mailbox_lock);
      }
      const capOf = this.#stmt('SELECT max_concurrent FROM projects WHERE id = ?');
      const caps = new Map<string, number>();
      const eligible = (j: JobRow): boolean => {
        if (actions?.length && !actions.includes(j.action as JobAction)) return false;
        if (lockedMailboxes.has(j.mailbox_lock)) return false;
        let cap = caps.get(j.project_id);
        if (cap === undefined) { cap = (capOf.get(j.project_id) as { max_concurrent: number }).max_concurrent; caps.set(j.project_id, cap); }
        return (runningByProject.get(j.project_id) ?? 0) < cap;
      };
      // Oldest first among queued jobs and Running jobs whose lease expired (takeover); both lists come in seq order.
      let row: JobRow | undefined;
      for (const j of this.#stmt("SELECT * FROM jobs WHERE state = 'Running' AND lease_expires_ms <= ? ORDER BY seq").iterate(now) as IterableIterator<JobRow>) {
        if (eligible(j)) { row = j; break; }
      }
      for (const j of this.#stmt("SELECT * FROM jobs WHERE state = 'Queued' AND seq < ? ORDER BY seq").iterate(row?.seq ?? Number.MAX_SAFE_INTEGER) as IterableIterator<JobRow>) {
        if (eligible(j)) { row = j; break; }
      }
      if (!row) return undefined;
      const takeover = row.state === 'Running';
      const token = randomUUID();
      this.#stmt(`UPDATE jobs SET state = 'Running', attempts = attempts + 1, worker_id = ?, lease_token = ?, lease_expires_ms = ?,
        started_ms = COALESCE(started_ms, ?) WHERE id = ?`).run(workerId, token, now + leaseMs, now, row.id);
      this.#setItemState(row.item_id, row.action === 'verify' ? 'Verifying' : 'Running');
      const job = this.#job(this.#stmt('SELECT * FROM jobs WHERE id = ?').get(row.id) as JobRow);
      return {
        job, takeover,
        item: this.#itemById(row.item_id),
        project: this.#project(this.#stmt('SELECT * FROM projects WHERE id = ?').get(row.project_id) as ProjectRow),
        lease: { jobId: row.id, workerId, token },
      };
    });
  }

  async heartbeat(lease: Lease, leaseMs: number, progress?: ExportProgress): Promise<boolean> {
    return this.#tx(() => {
      const row = this.#leased(lease);
      if (!row) return false;
      this.#stmt('UPDATE jobs SET lease_expires_ms = ? WHERE id = ?').run(this.#now() + leaseMs, row.id);
      if (progress) this.#setItemState(row.item_id, row.action === 'verify' ? 'Verifying' : 'Running', { progress });
      return true;
    });
  }

  async complete(lease: Lease, result: JobResult): Promise<boolean> {
    return this.#hinted(this.#tx(() => {
      const row = this.#leased(lease);
      if (!row) return false;
      const now = this.#now();
      if (result.action === 'verify') {
        const v = result.verification;
        this.#finishJob(row.id, v.ok ? 'Completed' : 'Failed', v.ok ? undefined : verificationError(v));
        this.#setItemState(row.item_id, v.ok ? 'Verified' : 'Failed', {
          verification_json: JSON.stringify(v), error_json: v.ok ? null : JSON.stringify(verificationError(v)),
        });
        return true;
      }
      const r = result.export;
      if (r.outcome === 'Cancelled') {
        this.#finishJob(row.id, 'Cancelled');
        this.#setItemState(row.item_id, 'Cancelled');
        return true;
      }
      const errors = (this.#stmt('SELECT COUNT(*) AS n FROM item_errors WHERE job_id = ?').get(row.id) as { n: number }).n;
      const outcome: JobState = errors > 0 || r.outcome === 'CompletedWithErrors' ? 'CompletedWithErrors' : 'Completed';
      this.#stmt(`INSERT OR REPLACE INTO passes (job_id, item_id, pass, outcome, errors, fidelity_full, fidelity_rest, started_at, finished_at, duration_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.id, row.item_id, row.action, outcome, errors, r.fidelity.full ?? 0, r.fidelity.rest ?? 0,
        iso(row.started_ms ?? now), r.finishedAt || iso(now), Math.max(0, now - (row.started_ms ?? now)));
      this.#finishJob(row.id, outcome);
      const parts = (this.#stmt('SELECT COUNT(*) AS n FROM parts WHERE item_id = ?').get(row.item_id) as { n: number }).n;
      const old = parse<ItemProgress>((this.#stmt('SELECT progress_json FROM items WHERE id = ?').get(row.item_id) as { progress_json: string | null }).progress_json);
      this.#setItemState(row.item_id, outcome as ItemState, {
        error_json: null, last_export_job: row.id, last_export_outcome: outcome, last_export_pass: row.action,
        progress: {
          ...(old?.folder !== undefined ? { folder: old.folder } : {}),
          itemsDone: Math.max(old?.itemsDone ?? 0, r.itemsExported), bytesDone: Math.max(old?.bytesDone ?? 0, r.bytesExported),
          ...(old?.itemsTotal !== undefined ? { itemsTotal: old.itemsTotal } : {}), ...(old?.bytesTotal !== undefined ? { bytesTotal: old.bytesTotal } : {}),
          itemsPerSecond: 0, bytesPerSecond: 0, partsDone: parts, errors, itemsSkipped: r.itemsSkipped ?? 0,
        },
      });
      return true;
    }));
  }

  #finishJob(jobId: string, state: JobState, error?: { code: string; message: string }): void {
    this.#stmt('UPDATE jobs SET state = ?, finished_ms = ?, lease_token = NULL, lease_expires_ms = NULL, error_json = ? WHERE id = ?')
      .run(state, this.#now(), error ? JSON.stringify(error) : null, jobId);
  }

  async fail(lease: Lease, error: { code: string; message: string }): Promise<boolean> {
    const e = cleanError(error);
    return this.#hinted(this.#tx(() => {
      const row = this.#leased(lease);
      if (!row) return false;
      this.#finishJob(row.id, 'Failed', e);
      this.#setItemState(row.item_id, 'Failed', { error_json: JSON.stringify(e) });
      return true;
    }));
  }

  async waitForAuth(lease: Lease, error: { code: string; message: string }): Promise<boolean> {
    const e = cleanError(error);
    return this.#hinted(this.#tx(() => {
      const row = this.#leased(lease);
      if (!row) return false;
      this.#stmt("UPDATE jobs SET state = 'WaitingForAuth', lease_token = NULL, lease_expires_ms = NULL, error_json = ? WHERE id = ?").run(JSON.stringify(e), row.id);
      this.#setItemState(row.item_id, 'WaitingForAuth', { error_json: JSON.stringify(e) });
      return true;
    }));
  }

  async release(lease: Lease): Promise<boolean> {
    return this.#hinted(this.#tx(() => {
      const row = this.#leased(lease);
      if (!row) return false;
      this.#stmt("UPDATE jobs SET state = 'Queued', lease_token = NULL, lease_expires_ms = NULL, worker_id = NULL WHERE id = ?").run(row.id);
      this.#setItemState(row.item_id, row.action === 'verify' ? 'Verifying' : 'Queued');
      return true;
    }));
  }

  async resumeAuth(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]> {
    return this.#hinted(this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      if (itemIds) for (const id of itemIds) this.#itemRow(tenantId, projectId, id);
      const jobs = (this.#stmt("SELECT * FROM jobs WHERE project_id = ? AND state = 'WaitingForAuth' ORDER BY seq").all(projectId) as JobRow[])
        .filter((j) => !itemIds || itemIds.includes(j.item_id));
      for (const j of jobs) {
        this.#stmt("UPDATE jobs SET state = 'Queued', error_json = NULL, worker_id = NULL WHERE id = ?").run(j.id);
        this.#setItemState(j.item_id, j.action === 'verify' ? 'Verifying' : 'Queued', { error_json: null });
      }
      return jobs.map((j) => this.#itemById(j.item_id));
    }));
  }

  async cancel(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]> {
    return this.#hinted(this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      if (itemIds) for (const id of itemIds) this.#itemRow(tenantId, projectId, id);
      const jobs = (this.#stmt(`SELECT * FROM jobs WHERE project_id = ? AND state IN ('Queued', 'Running', 'WaitingForAuth') ORDER BY seq`).all(projectId) as JobRow[])
        .filter((j) => !itemIds || itemIds.includes(j.item_id));
      for (const j of jobs) {
        this.#finishJob(j.id, 'Cancelled');
        this.#setItemState(j.item_id, 'Cancelled');
      }
      return [...new Set(jobs.map((j) => j.item_id))].map((id) => this.#itemById(id));
    }));
  }

  async listJobs(tenantId: string, projectId: string, filter: { itemId?: string; states?: JobState[] } = {}): Promise<Job[]> {
    return this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      return (this.#stmt('SELECT * FROM jobs WHERE project_id = ? ORDER BY seq DESC').all(projectId) as JobRow[])
        .filter((j) => (!filter.itemId || j.item_id === filter.itemId) && (!filter.states || filter.states.includes(j.state as JobState)))
        .map((j) => this.#job(j));
    });
  }

  async getJob(tenantId: string, jobId: string): Promise<Job> {
    return this.#tx(() => {
      const row = this.#stmt('SELECT * FROM jobs WHERE id = ? AND tenant_id = ?').get(jobId, tenantId) as JobRow | undefined;
      if (!row) throw new JobsError('NotFound', `no job ${jobId} in this tenant`, { field: 'jobId' });
      return this.#job(row);
    });
  }

  async progress(tenantId: string, projectId: string): Promise<ItemProgress[]> {
    return this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      return (this.#stmt('SELECT id, state, progress_json FROM items WHERE project_id = ? AND progress_json IS NOT NULL ORDER BY rowid').all(projectId) as
        { id: string; state: ItemState; progress_json: string }[]).map((r) => ({ ...(JSON.parse(r.progress_json) as ItemProgress), state: r.state }));
    });
  }

  async subscribe(tenantId: string, projectId: string, listener: (progress: ItemProgress) => void): Promise<Subscription> {
    let last = this.#tx(() => {
      this.#projectRow(tenantId, projectId);
      return (this.#stmt('SELECT COALESCE(MAX(seq), 0) AS s FROM events').get() as { s: number }).s;
    });
    const read = this.#stmt('SELECT seq, progress_json FROM events WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT 1000');
    let open = true;
    const poll = () => {
      if (!open || this.#closed) return;
      let rows: { seq: number; progress_json: string }[];
      try { rows = read.all(projectId, last) as { seq: number; progress_json: string }[]; } catch { return; }
      for (const r of rows) {
        last = r.seq;
        try { listener(JSON.parse(r.progress_json) as ItemProgress); } catch { /* a listener's failure is its own */ }
      }
    };
    const timer = setInterval(poll, this.#pollMs);
    timer.unref();
    const stop = () => { open = false; clearInterval(timer); };
    this.#subscriptions.add(stop);
    return { close: async () => { stop(); this.#subscriptions.delete(stop); } };
  }

  checkpoint(lease: Lease): ExportCheckpoint {
    const self = this;
    const guarded = <T>(fn: (row: JobRow) => T): T => self.#tx(() => {
      const row = self.#leased(lease);
      if (!row) throw new JobsError('LeaseLost', `job ${lease.jobId}: the lease was lost (cancelled or taken over); stop this run`);
      return fn(row);
    });
    const itemOf = (): { item_id: string; last_export_job: string | null } => self.#tx(() => {
      const r = self.#stmt('SELECT j.item_id, i.last_export_job FROM jobs j JOIN items i ON i.id = j.item_id WHERE j.id = ?').get(lease.jobId) as
        { item_id: string; last_export_job: string | null } | undefined;
      if (!r) throw new JobsError('LeaseLost', `job ${lease.jobId} no longer exists (project or item deleted)`);
      return r;
    });
    return {
      // the part's manifest in the destination is the record of its ids: the run neither hands them
      // here (350,000 ids: 62 MB of heap as an array plus 54 MB as its JSON value) nor
      // gets them back — it reads them from the manifest on a resume (export/run.ts loadFinished)
      sourceIdsInManifests: true,
      async beginPass(): Promise<void> {
        // A restart of this job's pass: errors of its earlier attempts are forgotten (their items are read again).
        guarded((row) => { self.#stmt('DELETE FROM item_errors WHERE job_id = ?').run(row.id); });
      },
      async completePass(): Promise<void> {
        // The pass becomes the item's last completed pass atomically in complete(); here only the lease is checked.
        guarded(() => undefined);
      },
      async finishedParts(): Promise<FinishedPart[]> {
        const { item_id } = itemOf();
        return self.#tx(() => (self.#stmt('SELECT * FROM parts WHERE item_id = ? ORDER BY idx').all(item_id) as
          { idx: number; name: string; size_bytes: number; sha256: string; item_count: number; source_ids_json: string; pass: string }[])
          .map((r) => ({ name: r.name, index: r.idx, sizeBytes: r.size_bytes, sha256: r.sha256, sourceIds: JSON.parse(r.source_ids_json) as string[], itemCount: r.item_count, pass: r.pass as ExportPass })));
      },
      async partFinished(part: FinishedPart): Promise<void> {
        if (!Number.isInteger(part.index) || part.index < 1) throw new JobsError('InvalidInput', `part.index must be a positive integer (got ${part.index})`, { field: 'part.index' });
        guarded((row) => {
          self.#stmt(`INSERT OR REPLACE INTO parts (item_id, idx, name, size_bytes, sha256, item_count, source_ids_json, pass, job_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(row.item_id, part.index, part.name, part.sizeBytes, part.sha256, part.itemCount ?? part.sourceIds.length,
            JSON.stringify(part.sourceIds), part.pass, row.id);
        });
      },
      async itemError(error: ExportItemError): Promise<void> {
        guarded((row) => {
          self.#stmt(`INSERT OR REPLACE INTO item_errors (item_id, job_id, code, source_id, folder_path, message, subject, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(row.item_id, row.id, error.code, error.sourceId, error.folderPath ?? null, error.message,
            error.subject ?? null, error.at || iso(self.#now()));
        });
      },
      async lastPassErrors(): Promise<ExportItemError[]> {
        const { last_export_job } = itemOf();
        return last_export_job ? self.#tx(() => self.#errorsOf(last_export_job)) : [];
      },
      async deltaLinks(): Promise<Record<string, string>> {
        const { item_id } = itemOf();
        const r = self.#tx(() => self.#stmt('SELECT links_json FROM delta_links WHERE item_id = ?').get(item_id) as { links_json: string } | undefined);
        return r ? JSON.parse(r.links_json) as Record<string, string> : {};
      },
      async saveDeltaLinks(links: Record<string, string>): Promise<void> {
        guarded((row) => {
          self.#stmt('INSERT OR REPLACE INTO delta_links (item_id, links_json) VALUES (?, ?)').run(row.item_id, JSON.stringify(links));
        });
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const stop of this.#subscriptions) stop();
    this.#subscriptions.clear();
    this.#workListeners.clear();
    this.#closed = true;
    this.#db.close();
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
