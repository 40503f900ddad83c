/**
 * The jobs contract's conformance suite (jobs/contract.ts, docs/jobs.md): every backend runs it —
 * SQLite (test/jobs/sqlite.test.ts) and BullMQ (issue 6). It checks claim exclusivity under
 * concurrent claimers, lease expiry and takeover, heartbeats after cancel, both caps, the item state
 * transitions, the retry-errors refusal, the checkpoint round trip, statistics, live progress, CSV
 * import into the store, and that secrets are neither returned nor stored in clear.
 *
 * Leases use real time (a Redis backend cannot take an injected clock): lease lengths of ~200 ms.
 */
import { randomBytes } from 'node:crypto';
import type { ExportResult, FinishedPart } from '../../worker-service/src/export/types';
import {
  JobsError, type ItemProgress, type JobBackend, type Lease, type NewProject, type Project,
} from '../../worker-service/src/jobs/contract';
import { parseItemsCsv } from '../../worker-service/src/jobs/csv';
import { statisticsCsv } from '../../worker-service/src/jobs/statistics';

/** What a backend's test gives the suite. */
export interface BackendHarness {
  backend: JobBackend;
  /**
   * Every byte the backend keeps at rest (the SQLite file with its WAL; a Redis dump), read after
   * the writes: the suite searches it for secrets in clear.
   */
  rawBytes(): Promise<Buffer>;
  /** Removes what the harness made (temp dirs, keys). */
  cleanup(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const T1 = 'tenant-1';
const T2 = 'tenant-2';

/** A destination with a fresh account key (the secret the suite hunts for). */
export function destinationWithKey(): { accountName: string; accountKey: string; container: string } {
  return { accountName: 'outporttest', accountKey: randomBytes(64).toString('base64'), container: 'outport' };
}

function newProject(over: Partial<NewProject> = {}): NewProject {
  return { tenantId: T1, createdBy: 'user-1', name: 'Project', destination: destinationWithKey(), ...over };
}

function exportResult(over: Partial<ExportResult> = {}): ExportResult {
  const now = new Date().toISOString();
  return {
    outcome: 'Completed', itemsExported: 0, bytesExported: 0, sourceBytes: 0, itemsSkipped: 0, errors: 0, parts: [],
    fidelity: { full: 0, rest: 0 }, startedAt: now, finishedAt: now, ...over,
  };
}

function part(index: number, ids: string[], pass: FinishedPart['pass'] = 'full'): FinishedPart {
  return { name: index === 1 ? 'user1.pst' : `user1-${index}.pst`, index, sizeBytes: 1000 * index, sha256: 'ab'.repeat(32), sourceIds: ids, pass };
}

async function expectCode(p: Promise<unknown>, code: string): Promise<JobsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(JobsError);
    expect((e as JobsError).code).toBe(code);
    return e as JobsError;
  }
  throw new Error(`expected JobsError ${code}, but the call succeeded`);
}

/**
 * Defines the suite for one backend. `makeBackend` is called before each test and must give a
 * fresh, empty backend (its own data directory or Redis prefix).
 */
export function describeJobBackendConformance(name: string, makeBackend: () => Promise<BackendHarness>): void {
  describe(`jobs backend conformance: ${name}`, () => {
    let h: BackendHarness;
    let b: JobBackend;
    beforeEach(async () => { h = await makeBackend(); b = h.backend; });
    afterEach(async () => { await b.close(); await h.cleanup(); });

    /** A project with `n` items user<i>@contoso.com (another `prefix` gives other mailboxes). */
    async function projectWith(n: number, over: Partial<NewProject> = {}, prefix = 'user'): Promise<{ project: Project; itemIds: string[] }> {
      const project = await b.store.createProject(newProject(over));
      if (n === 0) return { project, itemIds: [] };
      const items = await b.store.addItems(project.tenantId, project.id,
        Array.from({ length: n }, (_, i) => ({ source: `${prefix}${i}@contoso.com`, mailbox: 'primary' as const, pstName: `${prefix}${i}.pst` })));
      return { project, itemIds: items.map((i) => i.id) };
    }

    describe('projects and items', () => {
      test('create, read, list, update, delete — scoped by tenant; options defaulted', async () => {
        const p = await b.store.createProject(newProject({ name: 'Migration' }));
        expect(p.options.maxConcurrentExports).toBe(20);
        expect(p.options.splitSizeBytes).toBe(10 * 1024 ** 3);
        expect(p.authMode).toBe('delegated');
        expect(p.destination).toEqual({ accountName: 'outporttest', container: 'outport', storageCloud: 'global', credential: 'accountKey' });
        expect(p.counts.NotStarted).toBe(0);
        expect(await b.store.getProject(T1, p.id)).toEqual(p);
        await expectCode(b.store.getProject(T2, p.id), 'NotFound');
        expect(await b.store.listProjects(T2)).toEqual([]);
        expect(await b.store.listTenants()).toEqual([T1]);
        await b.store.createProject(newProject({ createdBy: 'user-2', name: 'Other' }));
        expect((await b.store.listProjects(T1)).map((x) => x.name)).toEqual(['Migration', 'Other']);
        expect((await b.store.listProjects(T1, { createdBy: 'user-2' })).map((x) => x.name)).toEqual(['Other']);
        const u = await b.store.updateProject(T1, p.id, { name: 'Renamed', options: { maxConcurrentExports: 3 } });
        expect(u.name).toBe('Renamed');
        expect(u.options.maxConcurrentExports).toBe(3);
        expect(u.options.splitSizeBytes).toBe(10 * 1024 ** 3);
        await expectCode(b.store.updateProject(T1, p.id, { options: { maxConcurrentExports: 0 } }), 'InvalidInput');
        await expectCode(b.store.deleteProject(T2, p.id), 'NotFound');
        await b.store.deleteProject(T1, p.id);
        await expectCode(b.store.getProject(T1, p.id), 'NotFound');
      });

      test('bad project input names the field', async () => {
        const e1 = await expectCode(b.store.createProject(newProject({ destination: { accountName: 'outporttest' } })), 'InvalidInput');
        expect(e1.field).toBe('destination');
        const e2 = await expectCode(b.store.createProject(newProject({ destination: { accountName: 'Outport', accountKey: 'a2V5' } })), 'InvalidInput');
        expect(e2.field).toBe('destination.accountName');
        const e3 = await expectCode(b.store.createProject(newProject({ destination: { sasUrl: 'https://a.blob.core.windows.net/c?sig=x', connectionString: 'AccountName=a' } })), 'InvalidInput');
        expect(e3.field).toMatch(/^destination\./);
        await expectCode(b.store.createProject(newProject({ name: '' })), 'InvalidInput');
        await expectCode(b.store.createProject(newProject({ options: { splitSizeBytes: 10 } })), 'InvalidInput');
      });

      test('items: unique (source case-insensitive, mailbox) and PST names; all rows or none', async () => {
        const { project } = await projectWith(0);
        const added = await b.store.addItems(T1, project.id, [
          { source: 'Alice@Contoso.com', mailbox: 'primary', pstName: 'alice.pst' },
          { source: 'alice@contoso.com', mailbox: 'archive', pstName: 'alice-archive.pst' },
        ]);
        expect(added.map((i) => [i.state, i.mailbox])).toEqual([['NotStarted', 'primary'], ['NotStarted', 'archive']]);
        const e = await expectCode(b.store.addItems(T1, project.id, [
          { source: 'bob@contoso.com', mailbox: 'primary', pstName: 'bob.pst' },
          { source: 'ALICE@contoso.com', mailbox: 'primary', pstName: 'alice2.pst' },
          { source: 'carol@contoso.com', mailbox: 'primary', pstName: 'Alice.PST' },
          { source: 'dave@contoso.com', mailbox: 'primary', pstName: '../x.pst' },
          { source: 'erin@contoso.com', mailbox: 'primary', pstName: 'bob.pst' },
        ]), 'InvalidInput');
        expect(e.rows!.map((r) => [r.row, r.field])).toEqual([[2, 'source'], [3, 'pstName'], [4, 'pstName'], [5, 'pstName']]);
        expect((await b.store.listItems(T1, project.id)).length).toBe(2);
        await expectCode(b.store.listItems(T2, project.id), 'NotFound');
        expect((await b.store.getProject(T1, project.id)).counts.NotStarted).toBe(2);
        await b.store.removeItem(T1, project.id, added[1].id);
        expect((await b.store.listItems(T1, project.id)).map((i) => i.id)).toEqual([added[0].id]);
      });
    });

    describe('claims, leases and caps', () => {
      test('claim exclusivity: 12 concurrent claimers, 30 jobs, each claimed exactly once', async () => {
        const { project, itemIds } = await projectWith(30, { options: { maxConcurrentExports: 500 } });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const claimedBy = new Map<string, string>();
        await Promise.all(Array.from({ length: 12 }, async (_, w) => {
          for (;;) {
            const c = await b.queue.claim(`w${w}`, 60_000);
            if (!c) return;
            expect(claimedBy.has(c.job.id)).toBe(false);
            claimedBy.set(c.job.id, `w${w}`);
            expect(c.item.state).toBe('Running');
            expect(c.takeover).toBe(false);
          }
        }));
        expect(claimedBy.size).toBe(30);
        const jobs = await b.queue.listJobs(T1, project.id);
        expect(new Set(jobs.map((j) => j.itemId))).toEqual(new Set(itemIds));
        expect(jobs.every((j) => j.state === 'Running' && j.attempts === 1)).toBe(true);
      });

      test('maxConcurrentExports holds under concurrent claimers, and frees a slot on completion', async () => {
        const { project } = await projectWith(10, { options: { maxConcurrentExports: 3 } });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const got = (await Promise.all(Array.from({ length: 8 }, (_, w) => b.queue.claim(`w${w}`, 60_000)))).filter((c) => c !== undefined);
        expect(got.length).toBe(3);
        expect(await b.queue.claim('late', 60_000)).toBeUndefined();
        expect(await b.queue.complete(got[0]!.lease, { action: 'full', export: exportResult() })).toBe(true);
        const next = await b.queue.claim('late', 60_000);
        expect(next).toBeDefined();
        expect(await b.queue.claim('late2', 60_000)).toBeUndefined();
        // Another project (other mailboxes) has its own cap.
        const other = await projectWith(1, { options: { maxConcurrentExports: 1 } }, 'other');
        await b.queue.enqueue({ tenantId: T1, projectId: other.project.id, action: 'full' });
        expect((await b.queue.claim('w-other', 60_000))?.job.projectId).toBe(other.project.id);
      });

      test('one running job per mailbox (primary and archive distinct) across projects, under concurrent claimers', async () => {
        const a = await b.store.createProject(newProject({ name: 'A' }));
        const c = await b.store.createProject(newProject({ name: 'C' }));
        await b.store.addItems(T1, a.id, [
          { source: 'same@contoso.com', mailbox: 'primary', pstName: 'same.pst' },
          { source: 'same@contoso.com', mailbox: 'archive', pstName: 'same-archive.pst' },
        ]);
        await b.store.addItems(T1, c.id, [{ source: 'SAME@contoso.com', mailbox: 'primary', pstName: 'same.pst' }]);
        await b.queue.enqueue({ tenantId: T1, projectId: a.id, action: 'full' });
        await b.queue.enqueue({ tenantId: T1, projectId: c.id, action: 'full' });
        const got = (await Promise.all(Array.from({ length: 6 }, (_, w) => b.queue.claim(`w${w}`, 60_000)))).filter((x) => x !== undefined);
        expect(got.map((g) => g!.item.mailbox).sort()).toEqual(['archive', 'primary']);
        const primary = got.find((g) => g!.item.mailbox === 'primary')!;
        expect(primary.project.id).toBe(a.id);
        await b.queue.complete(primary.lease, { action: 'full', export: exportResult() });
        const third = await b.queue.claim('w9', 60_000);
        expect(third?.project.id).toBe(c.id);
      });

      test('an expired lease is taken over; the old holder loses heartbeat, complete and checkpoint writes', async () => {
        const { project } = await projectWith(1);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const first = (await b.queue.claim('dead-worker', 200))!;
        expect(first).toBeDefined();
        expect(await b.queue.claim('other', 200)).toBeUndefined();
        await b.queue.checkpoint(first.lease).partFinished(part(1, ['a', 'b']));
        await sleep(400);
        const second = (await b.queue.claim('other', 60_000))!;
        expect(second).toBeDefined();
        expect(second.takeover).toBe(true);
        expect(second.job.id).toBe(first.job.id);
        expect(second.job.attempts).toBe(2);
        expect(second.job.workerId).toBe('other');
        expect(await b.queue.heartbeat(first.lease, 60_000)).toBe(false);
        expect(await b.queue.complete(first.lease, { action: 'full', export: exportResult() })).toBe(false);
        await expectCode(b.queue.checkpoint(first.lease).partFinished(part(2, ['c'])), 'LeaseLost');
        // The new holder resumes from the part the dead worker finished.
        expect((await b.queue.checkpoint(second.lease).finishedParts()).map((p) => p.index)).toEqual([1]);
        expect(await b.queue.heartbeat(second.lease, 60_000)).toBe(true);
      });

      test('heartbeats renew the lease: a renewed job is not taken over', async () => {
        const { project } = await projectWith(1);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const c = (await b.queue.claim('w1', 300))!;
        for (let i = 0; i < 4; i++) {
          await sleep(120);
          expect(await b.queue.heartbeat(c.lease, 300)).toBe(true);
          expect(await b.queue.claim('w2', 300)).toBeUndefined();
        }
      });

      test('cancel: the heartbeat answers false, the item is Cancelled, queued jobs are not claimable', async () => {
        const { project, itemIds } = await projectWith(2, { options: { maxConcurrentExports: 1 } });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const c = (await b.queue.claim('w1', 60_000))!;
        const cancelled = await b.queue.cancel(T1, project.id);
        expect(cancelled.map((i) => i.state)).toEqual(['Cancelled', 'Cancelled']);
        expect(await b.queue.heartbeat(c.lease, 60_000)).toBe(false);
        expect(await b.queue.claim('w2', 60_000)).toBeUndefined();
        expect((await b.store.getItem(T1, project.id, itemIds[0])).state).toBe('Cancelled');
        // A cancelled item can be exported again.
        expect((await b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds: [itemIds[0]], action: 'full' }))[0].state).toBe('Queued');
      });

      test('release gives the job back at once; delete project drops the lease', async () => {
        const { project } = await projectWith(1);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const c = (await b.queue.claim('w1', 60_000))!;
        expect(await b.queue.release(c.lease)).toBe(true);
        expect((await b.store.getItem(T1, project.id, c.item.id)).state).toBe('Queued');
        const again = (await b.queue.claim('w2', 60_000))!;
        expect(again.job.id).toBe(c.job.id);
        expect(again.takeover).toBe(false);
        await b.store.deleteProject(T1, project.id);
        expect(await b.queue.heartbeat(again.lease, 60_000)).toBe(false);
      });

      test('claim options: only the listed actions', async () => {
        const { project, itemIds } = await projectWith(2);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds: [itemIds[0]], action: 'full' });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds: [itemIds[1]], action: 'verify' });
        const v = await b.queue.claim('v', 60_000, { actions: ['verify'] });
        expect(v?.job.action).toBe('verify');
        expect(v?.item.state).toBe('Verifying');
        expect(await b.queue.claim('v', 60_000, { actions: ['verify'] })).toBeUndefined();
      });
    });

    describe('states and transitions', () => {
      test('verify: Verifying → Verified, or Failed with the failing checks', async () => {
        const { project, itemIds } = await projectWith(2);
        const items = await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'verify' });
        expect(items.map((i) => i.state)).toEqual(['Verifying', 'Verifying']);
        const c1 = (await b.queue.claim('w', 60_000))!;
        const c2 = (await b.queue.claim('w', 60_000))!;
        await b.queue.complete(c1.lease, { action: 'verify', verification: { ok: true, checks: [{ name: 'mailbox', ok: true }] } });
        await b.queue.complete(c2.lease, { action: 'verify', verification: { ok: false, checks: [{ name: 'mailbox', ok: true }, { name: 'archive', ok: false, message: 'no archive' }] } });
        const [i1, i2] = await b.store.listItems(T1, project.id);
        expect(i1.id).toBe(itemIds[0]);
        expect(i1.state).toBe('Verified');
        expect(i1.verification?.ok).toBe(true);
        expect(i2.state).toBe('Failed');
        expect(i2.error?.code).toBe('VerificationFailed');
        expect(i2.error?.message).toContain('archive');
        expect(i2.verification?.checks[1]).toEqual({ name: 'archive', ok: false, message: 'no archive' });
      });

      test('export: Queued → Running → Completed; an active job refuses another action; Failed', async () => {
        const { project, itemIds } = await projectWith(1);
        const [q] = await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        expect(q.state).toBe('Queued');
        expect(q.lastPass).toBe('full');
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds, action: 'verify' }), 'Conflict');
        expect(await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' })).toEqual([]);
        const c = (await b.queue.claim('w', 60_000))!;
        expect((await b.store.getItem(T1, project.id, itemIds[0])).state).toBe('Running');
        await expectCode(b.store.removeItem(T1, project.id, itemIds[0]), 'Conflict');
        await b.queue.checkpoint(c.lease).partFinished(part(1, ['a', 'b', 'c']));
        expect(await b.queue.complete(c.lease, { action: 'full', export: exportResult({ itemsExported: 3, fidelity: { full: 2, rest: 1 } }) })).toBe(true);
        const done = await b.store.getItem(T1, project.id, itemIds[0]);
        expect(done.state).toBe('Completed');
        expect(done.statistics).toMatchObject({ itemsExported: 3, bytesExported: 1000, parts: 1, passes: 1, errors: 0, fidelity: { full: 2, rest: 1 } });
        expect((await b.queue.getJob(T1, c.job.id)).state).toBe('Completed');
        await expectCode(b.queue.getJob(T2, c.job.id), 'NotFound');
        // Completed without errors: retry-errors is refused, clearly.
        const e = await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds, action: 'retry-errors' }), 'RetryNotAllowed');
        expect(e.message).toMatch(/at least one error/);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'incremental' });
        const c2 = (await b.queue.claim('w', 60_000))!;
        expect(await b.queue.fail(c2.lease, { code: 'ErrorMailboxNotFound', message: 'mailbox gone' })).toBe(true);
        const failed = await b.store.getItem(T1, project.id, itemIds[0]);
        expect(failed.state).toBe('Failed');
        expect(failed.error).toEqual({ code: 'ErrorMailboxNotFound', message: 'mailbox gone' });
      });

      test('retry-errors: refused before any pass; allowed after a pass completed with errors', async () => {
        const { project, itemIds } = await projectWith(2);
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'retry-errors' }), 'RetryNotAllowed');
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds: [itemIds[0]], action: 'retry-errors' }), 'RetryNotAllowed');
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        for (let i = 0; i < 2; i++) {
          const c = (await b.queue.claim('w', 60_000))!;
          const cp = b.queue.checkpoint(c.lease);
          await cp.beginPass('full');
          if (c.item.id === itemIds[0]) {
            await cp.itemError({ code: 'FtsDecodeFailed', sourceId: 'bad-1', folderPath: 'Inbox', message: 'x', at: new Date().toISOString() });
          }
          await cp.completePass('full');
          await b.queue.complete(c.lease, { action: 'full', export: exportResult({ outcome: c.item.id === itemIds[0] ? 'CompletedWithErrors' : 'Completed' }) });
        }
        const items = await b.store.listItems(T1, project.id);
        expect(items.map((i) => i.state)).toEqual(['CompletedWithErrors', 'Completed']);
        expect(items[0].statistics?.errors).toBe(1);
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds, action: 'retry-errors' }), 'RetryNotAllowed');
        const retried = await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'retry-errors' });
        expect(retried.map((i) => [i.id, i.state, i.lastPass])).toEqual([[itemIds[0], 'Queued', 'retry-errors']]);
        const c = (await b.queue.claim('w', 60_000))!;
        expect(c.job.action).toBe('retry-errors');
        expect((await b.queue.checkpoint(c.lease).lastPassErrors()).map((e) => e.sourceId)).toEqual(['bad-1']);
      });

      test('prestage needs olderThanDays; WaitingForAuth and resume', async () => {
        const { project, itemIds } = await projectWith(1);
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'prestage' }), 'InvalidInput');
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'prestage', olderThanDays: 30 });
        const c = (await b.queue.claim('w', 60_000))!;
        expect(c.job.olderThanDays).toBe(30);
        expect(await b.queue.waitForAuth(c.lease, { code: 'InvalidAuthenticationToken', message: 'token expired' })).toBe(true);
        expect((await b.store.getItem(T1, project.id, itemIds[0])).state).toBe('WaitingForAuth');
        expect(await b.queue.claim('w', 60_000)).toBeUndefined();
        await expectCode(b.queue.enqueue({ tenantId: T1, projectId: project.id, itemIds, action: 'full' }), 'Conflict');
        const resumed = await b.queue.resumeAuth(T1, project.id);
        expect(resumed.map((i) => i.state)).toEqual(['Queued']);
        const again = (await b.queue.claim('w', 60_000))!;
        expect(again.job.id).toBe(c.job.id);
        expect(again.job.action).toBe('prestage');
      });

      test('a full pass after a completed full pass starts over; after a prestage it keeps the parts', async () => {
        const { project, itemIds } = await projectWith(1);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'prestage', olderThanDays: 10 });
        let c = (await b.queue.claim('w', 60_000))!;
        await b.queue.checkpoint(c.lease).partFinished(part(1, ['old-1'], 'prestage'));
        await b.queue.complete(c.lease, { action: 'prestage', export: exportResult() });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        c = (await b.queue.claim('w', 60_000))!;
        expect((await b.queue.checkpoint(c.lease).finishedParts()).map((p) => p.index)).toEqual([1]);
        await b.queue.checkpoint(c.lease).partFinished(part(2, ['new-1'], 'full'));
        await b.queue.checkpoint(c.lease).saveDeltaLinks({ inbox: 'https://graph/delta?token=1' });
        await b.queue.complete(c.lease, { action: 'full', export: exportResult() });
        expect((await b.store.listParts(T1, project.id, itemIds[0])).map((p) => p.name)).toEqual(['user1.pst', 'user1-2.pst']);
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        c = (await b.queue.claim('w', 60_000))!;
        expect(await b.queue.checkpoint(c.lease).finishedParts()).toEqual([]);
        expect(await b.queue.checkpoint(c.lease).deltaLinks()).toEqual({});
      });
    });

    describe('checkpoint, progress, statistics', () => {
      test('checkpoint round trip: parts in index order with their source ids, errors per pass, deltaLinks', async () => {
        const { project, itemIds } = await projectWith(1, { options: { logSubjects: true } });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        let c = (await b.queue.claim('w', 60_000))!;
        let cp = b.queue.checkpoint(c.lease);
        await cp.beginPass('full');
        await cp.partFinished(part(2, ['c', 'd']));
        await cp.partFinished(part(1, ['a', 'b']));
        await cp.itemError({ code: 'ErrorItemNotFound', sourceId: 'x1', message: 'gone', at: '2026-01-01T00:00:00.000Z' });
        expect(await b.store.listErrors(T1, project.id, itemIds[0])).toEqual([{ code: 'ErrorItemNotFound', sourceId: 'x1', message: 'gone', at: '2026-01-01T00:00:00.000Z' }]);
        // A restart of the pass forgets its earlier attempt's errors, keeps its parts.
        await b.queue.release(c.lease);
        c = (await b.queue.claim('w2', 60_000))!;
        cp = b.queue.checkpoint(c.lease);
        await cp.beginPass('full');
        expect(await b.store.listErrors(T1, project.id, itemIds[0])).toEqual([]);
        const parts = await cp.finishedParts();
        expect(parts.map((p) => [p.index, p.name, [...p.sourceIds], p.pass, p.sizeBytes, p.sha256])).toEqual([
          [1, 'user1.pst', ['a', 'b'], 'full', 1000, 'ab'.repeat(32)],
          [2, 'user1-2.pst', ['c', 'd'], 'full', 2000, 'ab'.repeat(32)],
        ]);
        const err = { code: 'FtsDecodeFailed', sourceId: 'y1', folderPath: 'Inbox/Lists', message: 'bad', subject: 'Hello', at: '2026-01-02T00:00:00.000Z' };
        await cp.itemError(err);
        await cp.itemError(err); // the same error twice is kept once
        expect(await cp.lastPassErrors()).toEqual([]);
        expect(await cp.deltaLinks()).toEqual({});
        await cp.saveDeltaLinks({ f1: 'https://graph.microsoft.com/v1.0/delta?$deltatoken=1' });
        await cp.completePass('full');
        await b.queue.complete(c.lease, { action: 'full', export: exportResult({ outcome: 'CompletedWithErrors' }) });
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'incremental' });
        c = (await b.queue.claim('w3', 60_000))!;
        cp = b.queue.checkpoint(c.lease);
        expect(await cp.lastPassErrors()).toEqual([err]);
        expect(await cp.deltaLinks()).toEqual({ f1: 'https://graph.microsoft.com/v1.0/delta?$deltatoken=1' });
        expect((await b.store.listParts(T1, project.id, itemIds[0]))).toEqual([
          { name: 'user1.pst', sizeBytes: 1000, sha256: 'ab'.repeat(32), items: 2 },
          { name: 'user1-2.pst', sizeBytes: 2000, sha256: 'ab'.repeat(32), items: 2 },
        ]);
      });

      test('progress: heartbeats publish ItemProgress to progress() and to subscribers', async () => {
        const { project, itemIds } = await projectWith(1);
        const seen: ItemProgress[] = [];
        const sub = await b.queue.subscribe(T1, project.id, (p) => seen.push(p));
        await expectCode(b.queue.subscribe(T2, project.id, () => undefined), 'NotFound');
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'full' });
        const c = (await b.queue.claim('w', 60_000))!;
        expect(await b.queue.heartbeat(c.lease, 60_000, {
          folder: 'Inbox', itemsDone: 5, itemsTotal: 10, bytesDone: 5000, itemsPerSecond: 2.5, bytesPerSecond: 2500,
          etaSeconds: 2, partsDone: 0, errors: 0, itemsSkipped: 0,
        })).toBe(true);
        const [p] = await b.queue.progress(T1, project.id);
        expect(p).toMatchObject({ itemId: itemIds[0], state: 'Running', folder: 'Inbox', itemsDone: 5, itemsTotal: 10, bytesDone: 5000, itemsPerSecond: 2.5, partsDone: 0 });
        expect(Date.parse(p.updatedAt)).not.toBeNaN();
        await b.queue.complete(c.lease, { action: 'full', export: exportResult({ itemsExported: 10 }) });
        for (let i = 0; i < 40 && !seen.some((s) => s.state === 'Completed'); i++) await sleep(50);
        await sub.close();
        expect(seen.map((s) => s.state)).toEqual(['Queued', 'Running', 'Running', 'Completed']);
        expect(seen[2].itemsDone).toBe(5);
        const n = seen.length;
        await b.queue.enqueue({ tenantId: T1, projectId: project.id, action: 'verify' });
        await sleep(400);
        expect(seen.length).toBe(n);
      });

      test('statistics per item and totals; CSV escapes formula cells', async () => {
        const p = await b.store.createProject(newProject());
        await b.store.addItems(T1, p.id, [
          { source: '=cmd@contoso.com', mailbox: 'primary', pstName: 'a.pst' },
          { source: 'b@contoso.com', mailbox: 'primary', pstName: 'b.pst' },
        ]);
        await b.queue.enqueue({ tenantId: T1, projectId: p.id, action: 'full' });
        const c = (await b.queue.claim('w', 60_000))!;
        await b.queue.checkpoint(c.lease).partFinished(part(1, ['1', '2', '3']));
        await b.queue.complete(c.lease, { action: 'full', export: exportResult({ fidelity: { full: 3, rest: 0 } }) });
        const s = await b.store.statistics(T1, p.id);
        expect(s.totals).toMatchObject({ items: 2, itemsExported: 3, bytesExported: 1000, parts: 1, errors: 0 });
        expect(s.totals.byState).toMatchObject({ Completed: 1, Queued: 1 });
        expect(s.value[0]).toMatchObject({ source: '=cmd@contoso.com', itemsExported: 3, passes: 1, fidelity: { full: 3, rest: 0 } });
        expect(typeof s.value[0].durationSeconds).toBe('number');
        const csv = statisticsCsv(s.value);
        expect(csv.split('\r\n')[1]).toContain(`,'=cmd@contoso.com,`);
        expect(csv).not.toMatch(/(^|,)=cmd/m);
      });
    });

    describe('secrets', () => {
      test('never in read APIs, only through destinationSecret; not in clear at rest', async () => {
        const dest = destinationWithKey();
        const p = await b.store.createProject(newProject({ destination: dest }));
        const sas = `https://outporttest.blob.core.windows.net/outport?sv=2024-08-04&sp=rcwdl&sig=${randomBytes(32).toString('base64url')}`;
        const p2 = await b.store.createProject(newProject({ name: 'SAS', destination: { sasUrl: sas } }));
        expect(p2.destination).toMatchObject({ accountName: 'outporttest', container: 'outport', credential: 'sasUrl' });
        const assertion = `eyJ.${randomBytes(48).toString('base64url')}.sig`;
        await b.store.setUserAssertion(T1, p.id, assertion, Date.now() + 3600_000);
        await b.store.addItems(T1, p.id, [{ source: 'u@contoso.com', mailbox: 'primary', pstName: 'u.pst' }]);
        const everything = JSON.stringify([
          await b.store.listProjects(T1), await b.store.getProject(T1, p.id), await b.store.listItems(T1, p.id),
          await b.store.statistics(T1, p.id), await b.queue.enqueue({ tenantId: T1, projectId: p.id, action: 'full' }),
          await b.queue.claim('w', 60_000), await b.queue.listJobs(T1, p.id),
        ]);
        for (const secret of [dest.accountKey, sas, 'sig=', assertion]) expect(everything).not.toContain(secret);
        expect(await b.store.destinationSecret(p.id)).toEqual({ accountKey: dest.accountKey });
        expect(await b.store.destinationSecret(p2.id)).toEqual({ sasUrl: sas });
        expect((await b.store.userAssertion(p.id))?.assertion).toBe(assertion);
        expect(await b.store.userAssertion(p2.id)).toBeUndefined();
        const raw = await h.rawBytes();
        expect(raw.length).toBeGreaterThan(0);
        expect(raw.includes(Buffer.from('outporttest'))).toBe(true); // the dump does hold the project
        for (const secret of [dest.accountKey, sas.split('sig=')[1], assertion]) {
          expect(raw.includes(Buffer.from(secret))).toBe(false);
        }
        expect(raw.includes(Buffer.from(dest.accountKey, 'base64'))).toBe(false);
      });
    });

    describe('CSV import into the store', () => {
      test('10,000 rows with a header, mixed case duplicates dropped, added in one call', async () => {
        const lines = ['Source,Destination'];
        for (let i = 0; i < 10_000; i++) lines.push(`User${i}@Contoso.com,user${i}.pst`);
        lines.push('user5@contoso.com,USER5.pst');
        const csv = await parseItemsCsv(lines.join('\n'));
        expect(csv.errors).toEqual([]);
        expect(csv.header).toBe(true);
        expect(csv.records).toBe(10_001);
        expect(csv.items.length).toBe(10_000);
        const p = await b.store.createProject(newProject());
        const t0 = Date.now();
        const added = await b.store.addItems(T1, p.id, csv.items);
        expect(added.length).toBe(10_000);
        expect(Date.now() - t0).toBeLessThan(30_000);
        expect((await b.store.getProject(T1, p.id)).counts.NotStarted).toBe(10_000);
        // Adding the same file again: every row collides with an existing item.
        const e = await expectCode(b.store.addItems(T1, p.id, csv.items.slice(0, 3)), 'InvalidInput');
        expect(e.rows!.length).toBe(6);
      });
    });
  });
}
