/**
 * The SQLite backend (jobs/sqlite/) against the conformance suite, plus what only SQLite has:
 * reopening a data directory (schema version, secret key check), the generated key file, and two
 * processes claiming from one file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { JobsError } from '../../worker-service/src/jobs/contract';
import { openSqliteBackend, SQLITE_FILE } from '../../worker-service/src/jobs/sqlite/backend';
import { SCHEMA_VERSION } from '../../worker-service/src/jobs/sqlite/schema';
import { describeJobBackendConformance, destinationWithKey } from './conformance';

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'outport-jobs-'));
}

describeJobBackendConformance('sqlite', async () => {
  const dir = tempDir();
  const backend = await openSqliteBackend({ dataDir: dir, secretKey: randomBytes(32), pollIntervalMs: 50 });
  return {
    backend,
    // The main file and its WAL: a secret in clear would be in one of them.
    rawBytes: async () => Buffer.concat([SQLITE_FILE, `${SQLITE_FILE}-wal`]
      .map((f) => path.join(dir, f)).filter((f) => existsSync(f)).map((f) => readFileSync(f))),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('sqlite backend: data directory', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('reopens with the same key; refuses another key; schema version recorded', async () => {
    const key = randomBytes(32);
    const b1 = await openSqliteBackend({ dataDir: dir, secretKey: key });
    const dest = destinationWithKey();
    const p = await b1.store.createProject({ tenantId: 't', createdBy: 'u', name: 'P', destination: dest });
    await b1.close();
    const b2 = await openSqliteBackend({ dataDir: dir, secretKey: key });
    expect(await b2.store.destinationSecret(p.id)).toEqual({ accountKey: dest.accountKey });
    await b2.close();
    await expect(openSqliteBackend({ dataDir: dir, secretKey: randomBytes(32) })).rejects.toMatchObject({ code: 'SecretKey' });
    const db = new Sqlite(path.join(dir, SQLITE_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  test('migrates a version 1 file: the missing step runs, data stays', async () => {
    const key = randomBytes(32);
    const b1 = await openSqliteBackend({ dataDir: dir, secretKey: key });
    const p = await b1.store.createProject({ tenantId: 't', createdBy: 'u', name: 'Old', destination: destinationWithKey() });
    await b1.close();
    const raw = new Sqlite(path.join(dir, SQLITE_FILE));
    raw.exec('DROP INDEX items_project_state');
    raw.pragma('user_version = 1');
    raw.close();
    const b2 = await openSqliteBackend({ dataDir: dir, secretKey: key });
    expect((await b2.store.getProject('t', p.id)).name).toBe('Old');
    await b2.close();
    const db = new Sqlite(path.join(dir, SQLITE_FILE), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'items_project_state'").get()).toBeDefined();
    db.close();
  });

  test('refuses a database of a newer schema', async () => {
    const db = new Sqlite(path.join(dir, SQLITE_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const e = await openSqliteBackend({ dataDir: dir, secretKey: randomBytes(32) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(JobsError);
    expect((e as JobsError).code).toBe('BackendFailed');
    expect((e as JobsError).message).toMatch(/newer than this Outport/);
  });

  test('without OUTPORT_SECRET_KEY a key is generated into the data directory (0600) and reused', async () => {
    const saved = process.env.OUTPORT_SECRET_KEY;
    delete process.env.OUTPORT_SECRET_KEY;
    try {
      const notices: string[] = [];
      const b1 = await openSqliteBackend({ dataDir: dir, onNotice: (m) => notices.push(m) });
      expect(notices.join()).toMatch(/generated a secret key into .*secret\.key/);
      const keyFile = path.join(dir, 'secret.key');
      if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const p = await b1.store.createProject({ tenantId: 't', createdBy: 'u', name: 'P', destination: { connectionString: 'DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=a2V5a2V5;EndpointSuffix=core.windows.net' } });
      await b1.close();
      const b2 = await openSqliteBackend({ dataDir: dir });
      expect((await b2.store.destinationSecret(p.id)).connectionString).toContain('AccountKey=a2V5a2V5');
      await b2.close();
    } finally {
      if (saved !== undefined) process.env.OUTPORT_SECRET_KEY = saved;
    }
  });
});
