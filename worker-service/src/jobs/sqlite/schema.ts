/**
 * The SQLite schema of the jobs backend and its migrations. `PRAGMA user_version` holds the
 * version; {@link migrate} applies the missing steps in one transaction each, so a file written by
 * an older Outport opens with a newer one. A file of a newer version than this code knows is refused.
 * docs/jobs.md "SQLite backend".
 */
import type { Database } from 'better-sqlite3';
import { JobsError } from '../contract';

/** Migration steps: index i brings a file from version i to i + 1. Append only; never edit a shipped step. */
const MIGRATIONS: readonly string[] = [
  // 0 → 1: projects, items, jobs, checkpoints (parts, errors, deltaLinks), completed passes, events.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    auth_mode TEXT NOT NULL,
    destination_json TEXT NOT NULL,       -- Destination (no secret)
    destination_secret TEXT NOT NULL,     -- DestinationSecret JSON sealed by secrets.ts (AES-256-GCM)
    options_json TEXT NOT NULL,           -- Required<ProjectOptions>
    max_concurrent INTEGER NOT NULL,      -- options.maxConcurrentExports, for the claim query
    assertion_sealed TEXT,                -- the user's OBO assertion, sealed
    assertion_expires_ms INTEGER
  );
  CREATE INDEX projects_tenant ON projects(tenant_id);
  CREATE TABLE items (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    source TEXT NOT NULL,
    mailbox TEXT NOT NULL,                -- primary | archive
    mailbox_key TEXT NOT NULL,            -- lower(source) | mailbox
    pst_name TEXT NOT NULL,
    pst_key TEXT NOT NULL,                -- lower(pst_name)
    state TEXT NOT NULL,
    last_pass TEXT,
    verification_json TEXT,
    error_json TEXT,
    progress_json TEXT,
    last_export_job TEXT,                 -- id of the last completed export pass (for retry-errors)
    last_export_outcome TEXT,
    last_export_pass TEXT,
    UNIQUE (project_id, mailbox_key),
    UNIQUE (project_id, pst_key)
  );
  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- claim order
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    mailbox_lock TEXT NOT NULL,           -- tenant | lower(source) | mailbox: one Running job each
    action TEXT NOT NULL,
    older_than_days INTEGER,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT,
    lease_token TEXT,
    lease_expires_ms INTEGER,
    created_ms INTEGER NOT NULL,
    started_ms INTEGER,
    finished_ms INTEGER,
    error_json TEXT
  );
  CREATE INDEX jobs_state ON jobs(state, seq);
  CREATE INDEX jobs_project_state ON jobs(project_id, state);
  CREATE INDEX jobs_lock_state ON jobs(mailbox_lock, state);
  CREATE INDEX jobs_item ON jobs(item_id);
  CREATE TABLE parts (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    item_count INTEGER NOT NULL,
    source_ids_json TEXT NOT NULL,
    pass TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (item_id, idx)
  );
  CREATE TABLE item_errors (
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    code TEXT NOT NULL,
    source_id TEXT NOT NULL,
    folder_path TEXT,
    message TEXT NOT NULL,
    subject TEXT,
    at TEXT NOT NULL,
    PRIMARY KEY (job_id, source_id, code)
  );
  CREATE INDEX item_errors_item ON item_errors(item_id);
  CREATE TABLE delta_links (
    item_id TEXT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    links_json TEXT NOT NULL
  );
  CREATE TABLE passes (
    job_id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    pass TEXT NOT NULL,
    outcome TEXT NOT NULL,
    errors INTEGER NOT NULL,
    fidelity_full INTEGER NOT NULL,
    fidelity_rest INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
  );
  CREATE INDEX passes_item ON passes(item_id);
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    progress_json TEXT NOT NULL
  );
  CREATE INDEX events_project ON events(project_id, seq);
  `,
  // 1 → 2: item counts per state (Project.counts, read on every claim) from an index instead of the rows.
  `
  CREATE INDEX items_project_state ON items(project_id, state);
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` to {@link SCHEMA_VERSION}.
 * @throws JobsError BackendFailed when the file is newer than this code
 */
export function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new JobsError('BackendFailed', `the jobs database is schema version ${current}, newer than this Outport (${SCHEMA_VERSION}): upgrade Outport or use another data directory`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      // Another process may have migrated between our read and this write lock.
      if ((db.pragma('user_version', { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
