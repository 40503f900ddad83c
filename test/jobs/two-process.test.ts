/**
 * Two (three) processes claiming from one SQLite file (jobs/sqlite/backend.ts): no job is claimed
 * twice, and the caps (maxConcurrentExports per project, one running job per mailbox) hold across
 * processes — the claim runs in a BEGIN IMMEDIATE transaction under SQLite's single write lock.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteBackend, type SqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';

const ROOT = path.resolve(__dirname, '../..');
const CHILDREN = 3;

interface ClaimLine { workerId: string; jobId: string; projectId: string; source: string; mailbox: string; completed?: boolean }

function runChildren(dataDir: string, key: string, mode: 'drain' | 'hold'): Promise<ClaimLine[]> {
  const startAt = Date.now() + 2500; // all children begin claiming together, after their start-up
  return Promise.all(Array.from({ length: CHILDREN }, (_, i) => new Promise<ClaimLine[]>((resolve, reject) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/run-ts.js'), path.join(__dirname, 'claimer-child.ts'), dataDir, `p${i}`, mode, String(startAt)],
      { cwd: ROOT, env: { ...process.env, OUTPORT_SECRET_KEY: key }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) { reject(new Error(`child p${i} failed: ${err.message}\n${stderr}`)); return; }
        resolve(stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ClaimLine));
      });
  }))).then((all) => all.flat());
}

describe('sqlite backend: several processes on one file', () => {
  let dir: string;
  let key: string;
  let backend: SqliteBackend;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outport-jobs-mp-'));
    key = randomBytes(32).toString('base64');
    backend = await openSqliteBackend({ dataDir: dir, secretKey: Buffer.from(key, 'base64') });
  });
  afterEach(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const destination = { accountName: 'outporttest', accountKey: 'a2V5', container: 'outport' };

  test('claim exclusivity: 120 jobs drained by 3 processes, each claimed and completed exactly once', async () => {
    const p = await backend.store.createProject({ tenantId: 't', createdBy: 'u', name: 'P', destination, options: { maxConcurrentExports: 500 } });
    await backend.store.addItems('t', p.id, Array.from({ length: 120 }, (_, i) => ({ source: `u${i}@contoso.com`, mailbox: 'primary' as const, pstName: `u${i}.pst` })));
    await backend.queue.enqueue({ tenantId: 't', projectId: p.id, action: 'full' });
    const claims = await runChildren(dir, key, 'drain');
    expect(claims.length).toBe(120);
    expect(new Set(claims.map((c) => c.jobId)).size).toBe(120);
    expect(claims.every((c) => c.completed === true)).toBe(true);
    // More than one process did work (the test exercises contention, not one process draining alone).
    expect(new Set(claims.map((c) => c.workerId)).size).toBeGreaterThan(1);
    expect((await backend.store.getProject('t', p.id)).counts.Completed).toBe(120);
  }, 90_000);

  test('caps across processes: maxConcurrentExports 3 in one project, one running job per mailbox over two projects', async () => {
    const a = await backend.store.createProject({ tenantId: 't', createdBy: 'u', name: 'A', destination, options: { maxConcurrentExports: 3 } });
    const b = await backend.store.createProject({ tenantId: 't', createdBy: 'u', name: 'B', destination, options: { maxConcurrentExports: 50 } });
    await backend.store.addItems('t', a.id, Array.from({ length: 10 }, (_, i) => ({ source: `u${i}@contoso.com`, mailbox: 'primary' as const, pstName: `u${i}.pst` })));
    await backend.store.addItems('t', b.id, Array.from({ length: 20 }, (_, i) => ({ source: `U${i}@Contoso.com`, mailbox: 'primary' as const, pstName: `u${i}.pst` })));
    await backend.queue.enqueue({ tenantId: 't', projectId: a.id, action: 'full' });
    await backend.queue.enqueue({ tenantId: 't', projectId: b.id, action: 'full' });
    const claims = await runChildren(dir, key, 'hold');
    expect(claims.filter((c) => c.projectId === a.id).length).toBe(3);
    const mailboxes = claims.map((c) => `${c.source.toLowerCase()}|${c.mailbox}`);
    expect(new Set(mailboxes).size).toBe(mailboxes.length);
    // Every one of the 20 mailboxes runs exactly once: A's 3, and B's jobs of the other 17.
    expect(mailboxes.length).toBe(20);
  }, 90_000);
});
