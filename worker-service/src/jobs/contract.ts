/**
 * The jobs contract (docs/jobs.md): a {@link ProjectStore} (projects, items, parts, errors,
 * statistics, encrypted destination secrets) and a {@link JobQueue} (enqueue, claim with a lease,
 * heartbeat, complete, fail, cancel, progress events) that every backend implements — SQLite
 * (jobs/sqlite/, the embedded default) and BullMQ on Redis (issue 6). One conformance suite
 * (test/jobs/conformance.ts) runs against each backend; nothing here names a storage technology.
 *
 * Shapes served to the API are exactly docs/api.md's (Project, Destination, ProjectOptions, Item,
 * ItemState, ItemProgress, ItemStatistics, ItemError, Part). The export run it drives is
 * export/types.ts (ExportRequest, ExportCheckpoint, ExportProgress, ExportResult).
 *
 * Every method is async (a network backend needs it). Every id is an opaque string. Times in the
 * returned shapes are ISO 8601 UTC strings; durations are milliseconds unless the name says otherwise.
 */
import type { ExportCheckpoint, ExportItemError, ExportPass, ExportProgress, ExportResult } from '../export/types';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Codes of {@link JobsError}; the API maps them to HTTP statuses (docs/api.md "Errors"):
 * InvalidInput → 400, NotFound → 404, Conflict / RetryNotAllowed → 409, the rest → 500.
 */
export type JobsErrorCode =
  /** Bad input: `field` names the JSON path (e.g. `destination.sasUrl`), `rows` the bad CSV/items rows. */
  | 'InvalidInput'
  /** No such project or item in that tenant (another tenant's ids are NotFound too, never Forbidden). */
  | 'NotFound'
  /** The request collides with the current state (item Running, an active job exists, duplicate). */
  | 'Conflict'
  /** "retry errors" asked for an item whose last pass did not complete with at least one error. */
  | 'RetryNotAllowed'
  /** A lease-guarded call (checkpoint write) after the lease was lost: stop the run. */
  | 'LeaseLost'
  /** The secret key (OUTPORT_SECRET_KEY) is missing, malformed, or does not open a stored secret. */
  | 'SecretKey'
  /** The backend failed (disk, Redis, schema); the message says what, never a secret. */
  | 'BackendFailed';

/** One bad row of a bulk add (CSV or `items[]`): row is 1-based (CSV: line number of the record). */
export interface RowError {
  row: number;
  /** `source`, `destination`, `pstName`, `mailbox`. */
  field: string;
  message: string;
}

/** The jobs layer's error: a stable `code`, the offending `field`/`rows` when input was bad. */
export class JobsError extends Error {
  constructor(
    readonly code: JobsErrorCode,
    message: string,
    readonly details: { field?: string; rows?: RowError[]; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'JobsError';
  }

  /** JSON-path of the offending field, when one field is to blame. */
  get field(): string | undefined { return this.details.field; }

  /** Row-level errors of a bulk add, when present. */
  get rows(): RowError[] | undefined { return this.details.rows; }
}

// ---------------------------------------------------------------------------------------------
// Domain shapes (docs/api.md "Shapes")
// ---------------------------------------------------------------------------------------------

/** Storage endpoint suffix choice: global core.windows.net, china core.chinacloudapi.cn, usgov core.usgovcloudapi.net, germany core.cloudapi.de, custom = `blobEndpoint`. */
export type Cloud = 'global' | 'china' | 'usgov' | 'germany' | 'custom';

/** How the worker gets Graph tokens for a project: On-Behalf-Of the user, or client credentials (admins only). */
export type AuthMode = 'delegated' | 'application';

/** Which mailbox of a user: the primary mailbox or the in-place archive (two distinct mailboxes for Graph's gate). */
export type MailboxKind = 'primary' | 'archive';

/** A destination as given by the caller: exactly one of accountKey, sasUrl, connectionString. */
export interface DestinationInput {
  /** 3-24 lowercase letters and digits; required with accountKey (else read from the SAS URL / connection string). */
  accountName?: string;
  /** Base64 account key; write-only (never returned). */
  accountKey?: string;
  /** Container SAS URL `https://acct.blob.<suffix>/<container>?sv=…&sig=…`; write-only. */
  sasUrl?: string;
  /** Azure Storage connection string; write-only. */
  connectionString?: string;
  /** Default `global`. */
  storageCloud?: Cloud;
  /** With `storageCloud: "custom"`: `http(s)://host[:port]/[account]` (Azurite, private endpoints). */
  blobEndpoint?: string;
  /** Default `outport`; 3-63 lowercase letters, digits, single hyphens. */
  container?: string;
}

/** A destination as returned: never a secret. */
export interface Destination {
  accountName: string;
  container: string;
  storageCloud: Cloud;
  /** Present with `storageCloud: "custom"`. */
  blobEndpoint?: string;
  /** Which kind of credential is stored (the credential itself only through {@link ProjectStore.destinationSecret}). */
  credential: 'accountKey' | 'sasUrl' | 'connectionString';
}

/** The write-only half of a destination, stored encrypted (jobs/secrets.ts); exactly one field is set. */
export interface DestinationSecret {
  accountKey?: string;
  sasUrl?: string;
  connectionString?: string;
}

/** Item types a project exports (Graph source item classes: IPM.Note, IPM.Contact, IPM.Appointment, IPM.Task, IPM.StickyNote, IPM.Activity). */
export type ItemType = 'mail' | 'contacts' | 'calendar' | 'tasks' | 'notes' | 'journal';

/** Project options as given; defaults in {@link DEFAULT_PROJECT_OPTIONS}. */
export interface ProjectOptions {
  /** Default all six. */
  itemTypes?: ItemType[];
  /** Folder paths ("Inbox/Lists"): only these and their subfolders. Default none (= all). */
  includeFolders?: string[];
  excludeFolders?: string[];
  /** ISO 8601 instants; `before` exclusive, `notBefore` inclusive. */
  dateRange?: { notBefore?: string; before?: string };
  /** Default 10 GiB; 1 MiB .. 50 GiB. */
  splitSizeBytes?: number;
  /** Running jobs of this project at once, over all workers. Default 20; 1..500. */
  maxConcurrentExports?: number;
  /** Put subjects into error records (personal data). Default false. */
  logSubjects?: boolean;
}

/** Defaults of {@link ProjectOptions} (docs/api.md). */
export const DEFAULT_PROJECT_OPTIONS: Readonly<Required<ProjectOptions>> = Object.freeze({
  itemTypes: ['mail', 'contacts', 'calendar', 'tasks', 'notes', 'journal'] as ItemType[],
  includeFolders: [] as string[],
  excludeFolders: [] as string[],
  dateRange: {},
  splitSizeBytes: 10 * 1024 ** 3,
  maxConcurrentExports: 20,
  logSubjects: false,
});

/** Limits of {@link ProjectOptions} (docs/api.md): split size 1 MiB..50 GiB, concurrency 1..500. */
export const PROJECT_OPTION_LIMITS = Object.freeze({
  splitSizeBytes: { min: 1024 ** 2, max: 50 * 1024 ** 3 },
  maxConcurrentExports: { min: 1, max: 500 },
});

/** Item states (docs/jobs.md "States and transitions"). */
export type ItemState =
  | 'NotStarted' | 'Verifying' | 'Verified' | 'Queued' | 'Running' | 'Completed'
  | 'CompletedWithErrors' | 'Failed' | 'Cancelled' | 'WaitingForAuth';

/** Every {@link ItemState}, in display order. */
export const ITEM_STATES: readonly ItemState[] = Object.freeze([
  'NotStarted', 'Verifying', 'Verified', 'Queued', 'Running', 'Completed',
  'CompletedWithErrors', 'Failed', 'Cancelled', 'WaitingForAuth',
] as ItemState[]);

/** A project as returned by the store. */
export interface Project {
  id: string;
  name: string;
  /** Entra tenant id (the `tid` of the creator's token); every read is scoped by it. */
  tenantId: string;
  /** Creator's object id (`oid`). */
  createdBy: string;
  createdAt: string;
  authMode: AuthMode;
  destination: Destination;
  options: Required<ProjectOptions>;
  /** Items per state (every state present, 0 when none). */
  counts: Record<ItemState, number>;
}

/** What {@link ProjectStore.createProject} needs. Field checks (account name, container, cloud) are the API's (storage/validate.ts); the store checks structure (exactly one credential) and option ranges. */
export interface NewProject {
  tenantId: string;
  createdBy: string;
  name: string;
  /** Default `delegated`. */
  authMode?: AuthMode;
  destination: DestinationInput;
  options?: ProjectOptions;
}

/** A change of a project (PATCH): options are merged field by field; a destination replaces the old one whole. */
export interface ProjectPatch {
  name?: string;
  authMode?: AuthMode;
  destination?: DestinationInput;
  options?: ProjectOptions;
}

/** One item as the API takes it: `mailbox: "both"` adds two items; `pstName` defaults `<local part>.pst` / `<local part>-archive.pst`. */
export interface ItemInput {
  /** SMTP address or UPN (case-insensitive) or a mailbox id. */
  source: string;
  mailbox?: MailboxKind | 'both';
  pstName?: string;
}

/** One item as the store adds it (after jobs/items.ts `expandItemInputs`). */
export interface NewItem {
  source: string;
  mailbox: MailboxKind;
  pstName: string;
}

/** The outcome of a "verify credentials" action. */
export interface Verification {
  ok: boolean;
  /** `mailbox`, `archive`, `permissions`, `storage` … in the order run. */
  checks: { name: string; ok: boolean; message?: string }[];
}

/** Progress of one item (docs/api.md ItemProgress); rates per second. */
export interface ItemProgress {
  itemId: string;
  state: ItemState;
  folder?: string;
  itemsDone: number;
  itemsTotal?: number;
  bytesDone: number;
  bytesTotal?: number;
  itemsPerSecond: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  partsDone: number;
  updatedAt: string;
}

/** Statistics of one item over all its passes (docs/api.md ItemStatistics). */
export interface ItemStatistics {
  itemId: string;
  source: string;
  mailbox: MailboxKind;
  state: ItemState;
  /** Items in the item's finished parts (all passes; exact after takeovers, as parts are recorded atomically). */
  itemsExported: number;
  /** Bytes of the finished parts as stored. */
  bytesExported: number;
  /** Errors of the last completed pass (what "retry errors" would retry). */
  errors: number;
  /** Parts finished (all passes). */
  parts: number;
  /** Completed (or completed-with-errors) export passes. */
  passes: number;
  fidelity: { full: number; rest: number };
  /** Start of the first pass. */
  startedAt?: string;
  /** End of the last completed pass. */
  finishedAt?: string;
  /** Summed run time of the completed passes, seconds. */
  durationSeconds?: number;
}

/** Totals over a project's items (the `totals` of GET statistics). */
export interface StatisticsTotals {
  items: number;
  itemsExported: number;
  bytesExported: number;
  errors: number;
  parts: number;
  byState: Record<ItemState, number>;
}

/** A per-item failure (docs/api.md ItemError); `subject` only when the project logs subjects. */
export type ItemError = ExportItemError;

/** A finished part of an item (docs/api.md Part); `url` is added by the API (short-lived SAS), never stored. */
export interface Part {
  name: string;
  sizeBytes: number;
  sha256: string;
  items: number;
  url?: string;
}

/** An item as returned by the store (docs/api.md Item). */
export interface Item {
  id: string;
  projectId: string;
  source: string;
  mailbox: MailboxKind;
  pstName: string;
  state: ItemState;
  /** The last export pass enqueued (absent before the first). */
  lastPass?: ExportPass;
  /** Present once a verify action finished. */
  verification?: Verification;
  /** Present once a job of the item reported progress or changed state. */
  progress?: ItemProgress;
  /** Present once an export pass completed. */
  statistics?: ItemStatistics;
  /** Present in Failed and WaitingForAuth: what went wrong (code and a message without secrets). */
  error?: { code: string; message: string };
}

// ---------------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------------

/** What a job does: verify credentials, or one export pass (export/types.ts ExportPass). */
export type JobAction = 'verify' | ExportPass;

/**
 * A job's own state. `Queued` includes a job released by its worker; a `Running` job whose lease
 * expired is claimable again (takeover) without changing state first.
 */
export type JobState = 'Queued' | 'Running' | 'WaitingForAuth' | 'Completed' | 'CompletedWithErrors' | 'Failed' | 'Cancelled';

/** One job: one action on one item (one mailbox or one archive). */
export interface Job {
  id: string;
  tenantId: string;
  projectId: string;
  itemId: string;
  action: JobAction;
  /** For `prestage`: items older than this many days. */
  olderThanDays?: number;
  state: JobState;
  /** Claims so far (1 after the first claim; a takeover adds one). */
  attempts: number;
  /** Present while Running: who holds the lease and until when (ISO 8601). */
  workerId?: string;
  leaseExpiresAt?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Present in Failed / WaitingForAuth. */
  error?: { code: string; message: string };
}

/**
 * Proof of a claim: every lease-guarded call takes it. `token` is new on every claim, so a worker
 * whose lease was taken over (even one restarted under the same workerId) can no longer write.
 */
export interface Lease {
  jobId: string;
  workerId: string;
  token: string;
}

/** What {@link JobQueue.claim} hands a worker: the job, its item and project (no secret), and the lease. */
export interface ClaimedJob {
  job: Job;
  item: Item;
  project: Project;
  lease: Lease;
  /** True when the job was Running under another lease that expired (a dead worker's job). */
  takeover: boolean;
}

/** What {@link JobQueue.enqueue} is asked. */
export interface EnqueueRequest {
  tenantId: string;
  projectId: string;
  /** Default: every item of the project for which the action is allowed (others skipped). Listed items must all be allowed, or nothing is enqueued. */
  itemIds?: string[];
  action: JobAction;
  /** Required for `prestage` (1..36500). */
  olderThanDays?: number;
}

/** What a finished job reports to {@link JobQueue.complete}. */
export type JobResult =
  | { action: 'verify'; verification: Verification }
  | { action: ExportPass; export: ExportResult };

/** Options of {@link JobQueue.claim}. */
export interface ClaimOptions {
  /** Claim only these actions (e.g. a verify-only worker). Default all. */
  actions?: JobAction[];
}

/** A live subscription of {@link JobQueue.subscribe}. */
export interface Subscription {
  /** Stops delivery; resolves once no further callback will run. */
  close(): Promise<void>;
}

/**
 * Projects and items of tenants. Every read and write takes the tenant id and answers NotFound for
 * another tenant's ids. Authorization within a tenant (a user's own projects and mailbox; admins)
 * is the API's. Secrets are never part of a returned shape.
 */
export interface ProjectStore {
  /**
   * Creates a project; the destination secret is encrypted at rest (jobs/secrets.ts).
   * @throws JobsError InvalidInput (field) — no credential or more than one, options out of range, empty name
   */
  createProject(input: NewProject): Promise<Project>;
  /** Tenant ids that have projects, sorted. For operator tools (`outport jobs`, `outport stats`), never for API callers. */
  listTenants(): Promise<string[]>;
  /** Projects of a tenant, oldest first; `createdBy` narrows to one creator's. */
  listProjects(tenantId: string, filter?: { createdBy?: string }): Promise<Project[]>;
  /** @throws JobsError NotFound */
  getProject(tenantId: string, projectId: string): Promise<Project>;
  /**
   * Changes name, auth mode, options (merged), destination (replaced, secret re-encrypted).
   * @throws JobsError NotFound; Conflict when the destination changes while an item is Running or Verifying; InvalidInput
   */
  updateProject(tenantId: string, projectId: string, patch: ProjectPatch): Promise<Project>;
  /** Deletes the project, its items, checkpoints and secrets; its jobs are cancelled (running ones lose their lease). Blobs stay. @throws JobsError NotFound */
  deleteProject(tenantId: string, projectId: string): Promise<void>;
  /**
   * The project's destination credential, decrypted. Only the runner and the storage wiring call it;
   * never put its result into a response, log or error.
   * @throws JobsError NotFound; SecretKey when the key does not open it (key changed)
   */
  destinationSecret(projectId: string): Promise<DestinationSecret>;
  /**
   * Stores (encrypted) the user's assertion for On-Behalf-Of: the access token they sent to the
   * worker API, kept so a runner in any process can exchange it. Replaces the previous one.
   * @param expiresOnMs the assertion's `exp`, epoch ms
   */
  setUserAssertion(tenantId: string, projectId: string, assertion: string, expiresOnMs: number): Promise<void>;
  /** The stored assertion, decrypted; undefined when none. Runner wiring only. */
  userAssertion(projectId: string): Promise<{ assertion: string; expiresOnMs: number } | undefined>;

  /**
   * Adds items, all or none. Unique per project: (source case-insensitive, mailbox) and pstName
   * (case-insensitive: Windows file names). New items are NotStarted.
   * @throws JobsError InvalidInput with `rows` (1-based index in `items`) for duplicates within the
   *         list or against existing items, an empty source, a pstName not ending in .pst; NotFound
   */
  addItems(tenantId: string, projectId: string, items: NewItem[]): Promise<Item[]>;
  /** Items of a project in the order added. @throws JobsError NotFound */
  listItems(tenantId: string, projectId: string): Promise<Item[]>;
  /** @throws JobsError NotFound */
  getItem(tenantId: string, projectId: string, itemId: string): Promise<Item>;
  /** Removes an item with its checkpoint; queued jobs of it are cancelled. @throws JobsError NotFound; Conflict while Running or Verifying */
  removeItem(tenantId: string, projectId: string, itemId: string): Promise<void>;
  /** Finished parts of an item in index order (no `url`). @throws JobsError NotFound */
  listParts(tenantId: string, projectId: string, itemId: string): Promise<Part[]>;
  /** Errors of the item's latest pass (the running one, else the last completed one). @throws JobsError NotFound */
  listErrors(tenantId: string, projectId: string, itemId: string): Promise<ItemError[]>;
  /** Statistics per item (order added) and totals. @throws JobsError NotFound */
  statistics(tenantId: string, projectId: string): Promise<{ value: ItemStatistics[]; totals: StatisticsTotals }>;
}

/**
 * The work queue. A job is claimable when Queued, or Running with an expired lease (takeover), and
 * when claiming it keeps both caps: at most `maxConcurrentExports` Running jobs with a live lease
 * per project, and at most one per mailbox (tenant + source case-insensitive + primary|archive),
 * counted over all workers and processes. Jobs are claimed oldest first among the claimable ones.
 */
export interface JobQueue {
  /**
   * Enqueues `action` for items; item states become Verifying (verify) or Queued (export passes).
   * Allowed: no active job on the item (Queued, Running, Verifying, WaitingForAuth refuse);
   * `retry-errors` only when the item's last export pass completed with ≥ 1 error. A `full` pass
   * after a completed non-prestage pass starts over (the item's parts, errors, deltaLinks cleared);
   * otherwise finished parts are kept and skipped (resume).
   * @returns the items enqueued (new states)
   * @throws JobsError RetryNotAllowed (field itemIds) — listed item, or no item at all, eligible for retry;
   *         Conflict — a listed item has an active job; InvalidInput — prestage without olderThanDays; NotFound
   */
  enqueue(request: EnqueueRequest): Promise<Item[]>;
  /**
   * Claims the oldest claimable job (see the interface doc) for `workerId` with a lease of `leaseMs`;
   * the item becomes Running (export) or stays Verifying (verify). Atomic across processes.
   * @returns undefined when nothing is claimable within the caps
   */
  claim(workerId: string, leaseMs: number, options?: ClaimOptions): Promise<ClaimedJob | undefined>;
  /**
   * Renews the lease for `leaseMs` from now and records progress (then published to subscribers).
   * @returns false when the lease is lost (job cancelled, taken over, finished, deleted): stop the run
   */
  heartbeat(lease: Lease, leaseMs: number, progress?: ExportProgress): Promise<boolean>;
  /**
   * Finishes a job: export results are added to the item's statistics and its state becomes the
   * result's outcome (Completed, CompletedWithErrors, Cancelled); a verification sets Verified
   * (ok) or Failed (code VerificationFailed).
   * @returns false when the lease was lost (nothing recorded)
   */
  complete(lease: Lease, result: JobResult): Promise<boolean>;
  /** Job and item become Failed with `error` (code and message, no secret). @returns false when the lease was lost */
  fail(lease: Lease, error: { code: string; message: string }): Promise<boolean>;
  /**
   * The delegated token chain expired (Graph InvalidAuthenticationToken, OBO refused): job and item
   * become WaitingForAuth, kept with their checkpoint until {@link resumeAuth}.
   * @returns false when the lease was lost
   */
  waitForAuth(lease: Lease, error: { code: string; message: string }): Promise<boolean>;
  /**
   * Gives the job back without an outcome (graceful shutdown abandoning a part): Queued again at once,
   * claimable by any worker; the checkpoint is kept. @returns false when the lease was lost
   */
  release(lease: Lease): Promise<boolean>;
  /** WaitingForAuth jobs of the project (or of the listed items) become Queued again. @returns the items resumed */
  resumeAuth(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]>;
  /**
   * Cancels the active jobs (Queued, Running, WaitingForAuth) of the project or the listed items;
   * items become Cancelled; a running job's next heartbeat returns false.
   * @returns the items cancelled (items without an active job are left as they are)
   */
  cancel(tenantId: string, projectId: string, itemIds?: string[]): Promise<Item[]>;
  /** Jobs of a project, newest first; narrowed to an item and/or states. @throws JobsError NotFound */
  listJobs(tenantId: string, projectId: string, filter?: { itemId?: string; states?: JobState[] }): Promise<Job[]>;
  /** @throws JobsError NotFound */
  getJob(tenantId: string, jobId: string): Promise<Job>;
  /** Latest progress of each item of a project (items with none are left out). @throws JobsError NotFound */
  progress(tenantId: string, projectId: string): Promise<ItemProgress[]>;
  /**
   * Live progress (for server-sent events): `listener` gets an ItemProgress for every heartbeat with
   * progress and every state change of an item of the project, also when made by another process
   * (delivery may lag by the backend's poll interval, ≤ 1 s). Listener exceptions are swallowed.
   * @throws JobsError NotFound
   */
  subscribe(tenantId: string, projectId: string, listener: (progress: ItemProgress) => void): Promise<Subscription>;
  /**
   * Work hints, so an idle runner claims at once instead of at its next poll: `listener` is called
   * after a change that may make a job claimable — enqueue, release, resumeAuth, cancel, and a
   * job's end (complete, fail, waitForAuth free its project slot and its mailbox). Made by another
   * process too where the backend can tell (BullMQ: Redis pub/sub on `<prefix>:work:<db>`; SQLite: this
   * process only). A hint, not a promise: claim may still find nothing, and a hint that is lost
   * (Redis away) is covered by the runner's polling. Listener exceptions are swallowed.
   * Optional: a backend without it is polled.
   * @returns stops the listener
   */
  onWork?(listener: () => void): () => void;
  /**
   * The per-item checkpoint of the export run (export/types.ts ExportCheckpoint), bound to a lease:
   * writes after the lease was lost throw JobsError LeaseLost, so a worker that lost its job cannot
   * record a part the new holder will redo.
   */
  checkpoint(lease: Lease): ExportCheckpoint;
}

/** A backend: one store and one queue over the same data. */
export interface JobBackend {
  /** `sqlite` or `bullmq`. */
  readonly kind: string;
  readonly store: ProjectStore;
  readonly queue: JobQueue;
  /** Releases connections and timers; further calls fail. */
  close(): Promise<void>;
}
