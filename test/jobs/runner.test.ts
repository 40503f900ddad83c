/**
 * The runner (jobs/runner.ts) on the SQLite backend: first with a scripted export function (lease
 * lost on cancel aborts the run, token expiry → WaitingForAuth, other errors → Failed with secrets
 * scrubbed, stop releases, local concurrency), then end to end with the real runExport against the
 * sandbox tenant into an in-memory destination: parts in the store = parts in the destination,
 * manifests = the sandbox's truth exactly once — also after a stop mid-run, a dead worker's
 * takeover, and a token that expired mid-export.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { ExportRequest, ExportResult } from '../../worker-service/src/export/types';
import { GraphError } from '../../worker-service/src/graph/errors';
import { GraphSource } from '../../worker-service/src/graph/source';
import type { SourceMailbox, SourceOptions } from '../../worker-service/src/graph/source-types';
import type { ClaimedJob, Project } from '../../worker-service/src/jobs/contract';
import { Runner, type JobDeps, type RunExport } from '../../worker-service/src/jobs/runner';
import { openSqliteBackend, type SqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';
import { graphVerifySource } from '../../worker-service/src/jobs/verify';
import { buildTenant, startSandbox, type SandboxHandle, type SandboxTenant } from '../../worker-service/src/sandbox';
import { appToken, sandboxClient } from '../sandbox/helpers';
import { parseManifest } from '../../worker-service/src/export/manifest';
import { truthIds } from '../export/helpers';
import { MemoryDestination } from '../export/memory-destination';

jest.setTimeout(120_000);
const T = 'tenant-1';
/**
 * Source ids in the manifests of `names`, in order (duplicates kept). The parts' PST validity is
 * test/export's subject (verifyPart runs the checker); here the manifests and sizes are what count.
 */
async function manifestIds(dest: MemoryDestination, names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) {
    const m = parseManifest((await dest.getSmall(`${n}.manifest.json`))!);
    if (!m) throw new Error(`manifest of ${n} missing`);
    expect(m.part.sizeBytes).toBe(dest.objects.get(n)?.bytes.length);
    out.push(...m.items.map((i) => i.sourceId));
  }
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let backend: SqliteBackend;
beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'outport-runner-'));
  backend = await openSqliteBackend({ dataDir: dir, secretKey: randomBytes(32), pollIntervalMs: 50 });
});
afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function project(sources: string[], options: Project['options'] | object = {}): Promise<{ p: Project; ids: string[] }> {
  const p = await backend.store.createProject({ tenantId: T, createdBy: 'u', name: 'P', destination: { accountName: 'acct', accountKey: 'a2V5' }, options });
  const items = await backend.store.addItems(T, p.id, sources.map((s) => ({ source: s, mailbox: 'primary' as const, pstName: `${s.split('@')[0]}.pst` })));
  return { p, ids: items.map((i) => i.id) };
}

function result(over: Partial<ExportResult> = {}): ExportResult {
  const now = new Date().toISOString();
  return { outcome: 'Completed', itemsExported: 1, bytesExported: 10, sourceBytes: 10, itemsSkipped: 0, errors: 0, parts: [], fidelity: { full: 1, rest: 0 }, startedAt: now, finishedAt: now, ...over };
}

const nullDeps = async (): Promise<JobDeps> => ({ source: { items: async function* () { /* none */ } }, destination: new MemoryDestination() });

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('runner with a scripted export', () => {
  test('runs jobs at most `concurrency` at a time; progress reaches the store; items Completed', async () => {
    const { p, ids } = await project(['a@x.com', 'b@x.com', 'c@x.com', 'd@x.com', 'e@x.com']);
    let active = 0;
    let peak = 0;
    const runExport: RunExport = async (_req, deps) => {
      active++; peak = Math.max(peak, active);
      deps.onProgress?.({ folder: 'Inbox', itemsDone: 3, bytesDone: 300, itemsPerSecond: 1, bytesPerSecond: 100, partsDone: 0, errors: 0, itemsSkipped: 0 });
      await sleep(120);
      active--;
      return result();
    };
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    const runner = new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: nullDeps, runExport, concurrency: 2, leaseMs: 3000, heartbeatMs: 40 });
    await runner.drain();
    expect(peak).toBe(2);
    const items = await backend.store.listItems(T, p.id);
    expect(items.map((i) => i.state)).toEqual(ids.map(() => 'Completed'));
    expect(items[0].progress).toMatchObject({ folder: 'Inbox', itemsDone: 3, state: 'Completed' });
  });

  test('work hints: an idle runner with a 60 s poll claims a job enqueued after it started at once, and again at the next enqueue', async () => {
    const { p, ids } = await project(['a@x.com', 'b@x.com']);
    const claimedAt: number[] = [];
    const runExport: RunExport = async () => { claimedAt.push(Date.now()); await sleep(100); return result(); };
    const runner = new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: nullDeps, runExport, concurrency: 1, leaseMs: 3000, heartbeatMs: 40, pollMs: 60_000 });
    runner.start();
    try {
      await sleep(200); // its first claim found nothing: it now sleeps for the 60 s poll
      expect(claimedAt).toEqual([]);
      const t0 = Date.now();
      await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full', itemIds: [ids[0]] });
      await until(async () => claimedAt.length === 1, 15_000);
      expect(claimedAt[0] - t0).toBeLessThan(10_000);
      await until(async () => (await backend.store.getItem(T, p.id, ids[0])).state === 'Completed', 5_000);
      await sleep(100);
      const t1 = Date.now();
      await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full', itemIds: [ids[1]] });
      await until(async () => claimedAt.length === 2, 15_000);
      expect(claimedAt[1] - t1).toBeLessThan(10_000);
    } finally {
      await runner.stop();
    }
  });

  test('cancel while running: the heartbeat answers false, the run is aborted, the item stays Cancelled', async () => {
    const { p, ids } = await project(['a@x.com']);
    let sawAbort: unknown;
    const runExport: RunExport = (_req, deps) => new Promise((resolve) => {
      deps.signal!.addEventListener('abort', () => { sawAbort = deps.signal!.reason; resolve(result({ outcome: 'Cancelled' })); });
    });
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    const runner = new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: nullDeps, runExport, leaseMs: 3000, heartbeatMs: 30, pollMs: 20 });
    runner.start();
    await until(async () => (await backend.store.getItem(T, p.id, ids[0])).state === 'Running');
    await backend.queue.cancel(T, p.id);
    await until(async () => sawAbort !== undefined);
    expect((sawAbort as Error).name).toBe('RunAborted');
    await until(async () => runner.activeJobs.length === 0);
    await runner.stop();
    expect((await backend.store.getItem(T, p.id, ids[0])).state).toBe('Cancelled');
  });

  test('token expired → WaitingForAuth; other errors → Failed with secrets scrubbed', async () => {
    const { p, ids } = await project(['a@x.com', 'b@x.com']);
    const runExport: RunExport = async (req) => {
      if ((req.mailbox as { user: string }).user === 'a@x.com') {
        throw new GraphError({ code: 'InvalidAuthenticationToken', statusCode: 401, method: 'POST', path: '/admin/exchange/mailboxes/x/exportItems', graphMessage: 'Lifetime validation failed, the token is expired.' });
      }
      throw Object.assign(new Error('upload to https://acct.blob.core.windows.net/outport/b.pst?sv=2024&sig=SECRETSIG failed; AccountKey=SECRETKEY'), { code: 'StorageFailed' });
    };
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: nullDeps, runExport, leaseMs: 3000 }).drain();
    const [a, b] = await backend.store.listItems(T, p.id);
    expect(a.id).toBe(ids[0]);
    expect(a.state).toBe('WaitingForAuth');
    expect(a.error?.code).toBe('InvalidAuthenticationToken');
    expect(b.state).toBe('Failed');
    expect(b.error?.code).toBe('StorageFailed');
    expect(b.error?.message).not.toMatch(/SECRETSIG|SECRETKEY/);
    expect(b.error?.message).toMatch(/sig=REDACTED/);
  });

  test('a token error from buildDeps (OBO refused) is WaitingForAuth too', async () => {
    const { p, ids } = await project(['a@x.com']);
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    const buildDeps = async (): Promise<JobDeps> => { throw Object.assign(new Error('AADSTS500133: Assertion is not within its valid time range.'), { code: 'AuthExpired' }); };
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps, runExport: async () => result() }).drain();
    expect((await backend.store.getItem(T, p.id, ids[0])).state).toBe('WaitingForAuth');
  });

  test('stop (not graceful) aborts the run and releases the job; graceful stop waits for it', async () => {
    const { p, ids } = await project(['a@x.com', 'b@x.com']);
    const runExport: RunExport = (_req, deps) => new Promise((resolve) => {
      const t = setTimeout(() => resolve(result()), 300);
      deps.signal!.addEventListener('abort', () => { clearTimeout(t); resolve(result({ outcome: 'Cancelled' })); });
    });
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, itemIds: [ids[0]], action: 'full' });
    const r1 = new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: nullDeps, runExport, leaseMs: 60_000, pollMs: 20 });
    r1.start();
    await until(async () => r1.activeJobs.length === 1);
    await r1.stop({ graceful: false });
    expect((await backend.store.getItem(T, p.id, ids[0])).state).toBe('Queued');
    // Released, not expired: another worker claims it at once although the lease was 60 s.
    const c = await backend.queue.claim('w2', 60_000);
    expect(c?.job.itemId).toBe(ids[0]);
    await backend.queue.release(c!.lease);

    const r2 = new Runner({ workerId: 'w3', queue: backend.queue, buildDeps: nullDeps, runExport, leaseMs: 60_000, pollMs: 20 });
    r2.start();
    await until(async () => r2.activeJobs.length === 1);
    await r2.stop({ graceful: true, timeoutMs: 5000 });
    expect((await backend.store.getItem(T, p.id, ids[0])).state).toBe('Completed');
  });
});

describe('runner end to end: sandbox Graph → runExport → memory destination, SQLite checkpoint', () => {
  let tenant: SandboxTenant;
  let sandbox: SandboxHandle;
  let source: GraphSource;
  const MiB = 1024 * 1024;

  beforeAll(async () => {
    tenant = await buildTenant({ mailLimit: 400 });
    sandbox = await startSandbox({ port: 0, tenant, defaultPageSize: 50 });
    source = new GraphSource(sandboxClient(sandbox, await appToken(sandbox)));
  });
  afterAll(async () => { await sandbox.stop(); });

  const userWith = (pred: (u: SandboxTenant['users'][number]) => boolean) => tenant.users.find(pred)!;

  async function exportProject(mailboxes: { mail: string; mailbox: 'primary' | 'archive' }[]) {
    const p = await backend.store.createProject({ tenantId: T, createdBy: 'u', name: 'E2E', destination: { accountName: 'acct', accountKey: 'a2V5' }, options: { splitSizeBytes: MiB } });
    const items = await backend.store.addItems(T, p.id, mailboxes.map((m) => ({ source: m.mail, mailbox: m.mailbox, pstName: `${m.mail.split('@')[0]}${m.mailbox === 'archive' ? '-archive' : ''}.pst` })));
    return { p, items };
  }

  test('primary and archive: Completed; store parts = destination parts; manifests = truth exactly once; statistics', async () => {
    const u = userWith((x) => !!x.primary && !!x.archive);
    const { p, items } = await exportProject([{ mail: u.mail, mailbox: 'primary' }, { mail: u.mail, mailbox: 'archive' }]);
    const dest = new MemoryDestination();
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: async () => ({ source, destination: dest }), concurrency: 2, leaseMs: 10_000 }).drain();
    const stats = await backend.store.statistics(T, p.id);
    for (const [i, item] of items.entries()) {
      const now = await backend.store.getItem(T, p.id, item.id);
      expect(now.state).toBe('Completed');
      const parts = await backend.store.listParts(T, p.id, item.id);
      expect(parts.length).toBeGreaterThanOrEqual(1);
      for (const part of parts) {
        expect(dest.objects.get(part.name)?.bytes.length).toBe(part.sizeBytes);
      }
      const truth = truthIds(item.mailbox === 'primary' ? u.primary! : u.archive!);
      const ids = await manifestIds(dest, parts.map((x) => x.name));
      expect(ids.length).toBe(truth.length);
      expect([...ids].sort()).toEqual([...truth].sort());
      expect(stats.value[i].itemsExported).toBe(truth.length);
      expect(stats.value[i].passes).toBe(1);
    }
  });

  test('a dead worker (lease never renewed) is taken over: the job resumes after its finished parts, no item twice', async () => {
    const u = userWith((x) => !!x.primary && truthIds(x.primary).length > 60);
    const { p, items } = await exportProject([{ mail: u.mail, mailbox: 'primary' }]);
    const dest = new MemoryDestination();
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    // The "dead" worker: claims with a short lease, writes the first part, then vanishes (aborted, never releases).
    const dead = (await backend.queue.claim('dead', 1500))!;
    const ac = new AbortController();
    const { runExport } = await import('../../worker-service/src/export/run');
    const checkpoint = backend.queue.checkpoint(dead.lease);
    const watching = { ...checkpoint, partFinished: async (part: Parameters<typeof checkpoint.partFinished>[0]) => { await checkpoint.partFinished(part); ac.abort(); } };
    const request: ExportRequest = { mailbox: { user: u.mail }, pstName: items[0].pstName, pass: 'full', splitSizeBytes: MiB };
    await runExport(request, { source, destination: dest, checkpoint: watching, signal: ac.signal }).catch(() => undefined);
    const before = await backend.store.listParts(T, p.id, items[0].id);
    expect(before.length).toBe(1);
    const r = new Runner({ workerId: 'alive', queue: backend.queue, buildDeps: async () => ({ source, destination: dest }), leaseMs: 10_000, pollMs: 100 });
    r.start();
    await until(async () => (await backend.store.getItem(T, p.id, items[0].id)).state === 'Completed', 30_000);
    await r.stop();
    const job = (await backend.queue.listJobs(T, p.id))[0];
    expect(job.attempts).toBe(2);
    const parts = await backend.store.listParts(T, p.id, items[0].id);
    expect(parts[0]).toEqual(before[0]);
    const ids = await manifestIds(dest, parts.map((x) => x.name));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...truthIds(u.primary!)].sort());
  });

  test('a token expiring mid-export → WaitingForAuth at a part boundary; after resumeAuth the export completes, no item twice', async () => {
    const u = userWith((x) => !!x.primary && truthIds(x.primary).length > 60);
    const { p, items } = await exportProject([{ mail: u.mail, mailbox: 'primary' }]);
    const dest = new MemoryDestination();
    let expired = true;
    let yielded = 0;
    const expiring = {
      async *items(mailbox: SourceMailbox, options?: SourceOptions) {
        for await (const ev of source.items(mailbox, options)) {
          if (ev.kind === 'item' && expired && ++yielded > 40) {
            throw new GraphError({ code: 'InvalidAuthenticationToken', statusCode: 401, method: 'GET', path: '/admin/exchange/mailboxes', graphMessage: 'token expired' });
          }
          yield ev;
        }
      },
    };
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'full' });
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: async () => ({ source: expiring, destination: dest }), leaseMs: 10_000 }).drain();
    expect((await backend.store.getItem(T, p.id, items[0].id)).state).toBe('WaitingForAuth');
    expired = false;
    await backend.queue.resumeAuth(T, p.id);
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps: async () => ({ source: expiring, destination: dest }), leaseMs: 10_000 }).drain();
    expect((await backend.store.getItem(T, p.id, items[0].id)).state).toBe('Completed');
    const ids = await manifestIds(dest, (await backend.store.listParts(T, p.id, items[0].id)).map((x) => x.name));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...truthIds(u.primary!)].sort());
  });

  test('verify: a user with an archive passes every check; an archive item of a user without one fails the archive check', async () => {
    const withArchive = userWith((x) => !!x.primary && !!x.archive);
    const without = userWith((x) => !!x.primary && !x.archive);
    const p = await backend.store.createProject({ tenantId: T, createdBy: 'u', name: 'V', destination: { accountName: 'acct', accountKey: 'a2V5' } });
    const items = await backend.store.addItems(T, p.id, [
      { source: withArchive.mail, mailbox: 'archive', pstName: 'a-archive.pst' },
      { source: without.mail, mailbox: 'archive', pstName: 'b-archive.pst' },
    ]);
    await backend.queue.enqueue({ tenantId: T, projectId: p.id, action: 'verify' });
    const dest = new MemoryDestination();
    const buildDeps = async (_c: ClaimedJob): Promise<JobDeps> => ({ source, destination: dest, verify: graphVerifySource(source.client) });
    await new Runner({ workerId: 'w1', queue: backend.queue, buildDeps, leaseMs: 10_000 }).drain();
    const [a, b] = [await backend.store.getItem(T, p.id, items[0].id), await backend.store.getItem(T, p.id, items[1].id)];
    expect(a.state).toBe('Verified');
    expect(a.verification?.checks.map((c) => [c.name, c.ok])).toEqual([['mailbox', true], ['archive', true], ['permissions', true], ['storage', true]]);
    expect(b.state).toBe('Failed');
    expect(b.verification?.checks.find((c) => c.name === 'archive')).toMatchObject({ ok: false, message: expect.stringMatching(/no in-place archive/) });
    expect([...dest.objects.keys()].filter((k) => k.startsWith('.outport-probe'))).toEqual([]);
  });
});



