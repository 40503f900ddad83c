/**
 * Must-show b, first half (issue 4): the runner killed with SIGKILL mid-export, then restarted,
 * completes the job with no item lost or twice and every part valid.
 *
 * Harness: the test starts the sandbox tenant (with Graph latency, so a part takes a while), Azurite
 * and a SQLite data directory holding a project (application permissions, 1 MiB split, Azurite
 * destination) with one queued full export of Adele's primary mailbox. A child process
 * (crash-child.ts: api/worker.ts startWorker — the Runner, GraphSource, runExport, PstWriter,
 * AzureBlobDestination staging 64 KiB blocks) runs it. When at least one part is finished (its
 * manifest is stored and the SQLite checkpoint has it) and the next part has staged blocks but no
 * committed blob, the child is killed with SIGKILL. A second child takes the job over when the dead
 * one's lease expires. Then:
 *  - the job is Completed after 2 claims; the parts finished before the kill are the same blobs
 *    (kept, not rewritten) and the resumed run exported only the other items;
 *  - the union of the part manifests is the sandbox's truth for the mailbox, each id exactly once,
 *    in folder order; the container holds exactly the recorded parts (no stray part);
 *  - every part is clean by our checker and holds its manifest's item count; the part that was
 *    being written at the kill (redone) is read by pffexport and readpst.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, RestError } from '@azure/storage-blob';
import { parseManifest } from '../../worker-service/src/export/manifest';
import type { PartManifest } from '../../worker-service/src/export/types';
import type { Project } from '../../worker-service/src/jobs/contract';
import { openSqliteBackend, type SqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';
import { checkPstSource } from '../../worker-service/src/pst/check';
import { sandboxTenantConfig, startSandbox, type SandboxHandle, type SandboxUser } from '../../worker-service/src/sandbox';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { describeWhenAvailable, missingPrerequisites, run } from '../oracles/helpers/tools';
import { pstItemCount, truthIds } from './helpers';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const MiB = 1024 * 1024;
const T = 'tenant-crash';
const CONTAINER = 'crash';
/** The workers' lease: the second child takes the job over at most this long after the kill. */
const LEASE_MS = 3000;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A started crash-child.ts. */
interface Child { proc: ChildProcess; output: string; exited: Promise<number | string | null> }

describeWhenAvailable('runner killed mid-export (SIGKILL) and restarted', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  let sandbox: SandboxHandle;
  let az: AzuriteInstance;
  let service: BlobServiceClient;
  let dir: string;
  let backend: SqliteBackend;
  let key: string;
  let configFile: string;
  const children: Child[] = [];
  let adele: SandboxUser;
  let project: Project;
  let itemId: string;
  /** Filled by the first test, read by the oracle test. */
  const partFiles: string[] = [];
  let redonePart: string | undefined;

  beforeAll(async () => {
    [sandbox, az] = await Promise.all([
      // 2,000 corpus messages: Adele's primary is a few MiB, so several 1 MiB parts. 150 ms per Graph
      // request (4 in flight, 20 items an exportItems call): a part takes a second or more to fill.
      startSandbox({ port: 0, mailLimit: 2000, latencyMs: 150, defaultPageSize: 50 }),
      startAzurite(),
    ]);
    service = BlobServiceClient.fromConnectionString(az.connectionString);
    dir = mkdtempSync(path.join(os.tmpdir(), 'outport-crash-'));
    key = randomBytes(32).toString('base64');
    backend = await openSqliteBackend({ dataDir: dir, secretKey: Buffer.from(key, 'base64'), pollIntervalMs: 50 });
    configFile = path.join(dir, 'tenant.json');
    writeFileSync(configFile, JSON.stringify(sandboxTenantConfig(sandbox)), { mode: 0o600 });
    adele = sandbox.users.find((u) => u.givenName === 'Adele')!;
    project = await backend.store.createProject({
      tenantId: T, createdBy: 'admin', name: 'crash', authMode: 'application',
      destination: { accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: az.blobEndpoint, container: CONTAINER },
      options: { splitSizeBytes: MiB },
    });
    [{ id: itemId }] = await backend.store.addItems(T, project.id, [{ source: adele.mail, mailbox: 'primary', pstName: 'adele.pst' }]);
  });
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await backend?.close();
    await Promise.all([sandbox?.stop(), az?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function startChild(workerId: string): Child {
    const proc = spawn(process.execPath, [path.join(ROOT, 'bin/run-ts.js'), path.join(__dirname, 'crash-child.ts'), dir, configFile, workerId, String(LEASE_MS)], {
      cwd: ROOT, env: { ...process.env, OUTPORT_SECRET_KEY: key }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child: Child = { proc, output: '', exited: new Promise((r) => proc.once('exit', (code, signal) => r(signal ?? code))) };
    proc.stdout!.on('data', (d: Buffer) => { child.output += d.toString('utf8'); });
    proc.stderr!.on('data', (d: Buffer) => { child.output += d.toString('utf8'); });
    children.push(child);
    return child;
  }

  const container = () => service.getContainerClient(CONTAINER);
  async function blobNames(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const b of container().listBlobsFlat()) out.push(b.name);
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return [];
      throw e;
    }
    return out.sort();
  }
  /** Blocks staged (uncommitted) for a blob name; 0 when none. */
  async function uncommittedBlocks(name: string): Promise<number> {
    try {
      return (await container().getBlockBlobClient(name).getBlockList('uncommitted')).uncommittedBlocks?.length ?? 0;
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return 0;
      throw e;
    }
  }
  async function committed(name: string): Promise<boolean> {
    return container().getBlobClient(name).exists();
  }
  const partName = (index: number) => (index === 1 ? 'adele.pst' : `adele-${index}.pst`);

  test('SIGKILL after ≥ 1 finished part while the next is being staged; a new worker completes the job: every item exactly once, parts valid', async () => {
    await backend.queue.enqueue({ tenantId: T, projectId: project.id, action: 'full' });
    const first = startChild('w1');

    // Wait for: part k finished (manifest stored, SQLite checkpoint has it) and part k+1 staging blocks, not committed.
    const deadline = Date.now() + 150_000;
    let finishedAtKill = 0;
    for (;;) {
      if (first.proc.exitCode !== null) throw new Error(`the first worker exited early:\n${first.output}`);
      if (Date.now() > deadline) throw new Error(`no moment with a finished part and the next one staging within 150 s; blobs ${JSON.stringify(await blobNames())}\n${first.output}`);
      const names = await blobNames();
      const finished = names.filter((n) => n.endsWith('.pst.manifest.json')).length;
      if (finished >= 1 && (await uncommittedBlocks(partName(finished + 1))) > 0 && !(await committed(partName(finished + 1)))) {
        first.proc.kill('SIGKILL');
        finishedAtKill = finished;
        break;
      }
      await sleep(20);
    }
    expect(await first.exited).toBe('SIGKILL');

    // At the kill: k parts finished and recorded, part k+1 half-staged, nothing committed under its name.
    const recorded = await backend.store.listParts(T, project.id, itemId);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(recorded.map((p) => p.name)).toEqual(Array.from({ length: recorded.length }, (_, i) => partName(i + 1)));
    expect(recorded.length).toBeGreaterThanOrEqual(finishedAtKill);
    const unfinished = partName(recorded.length + 1);
    // The manifests seen before the kill are the recorded parts (the checkpoint is told after the manifest).
    expect(recorded.length).toBe(finishedAtKill);
    expect(await committed(unfinished)).toBe(false);
    expect(await uncommittedBlocks(unfinished)).toBeGreaterThan(0);
    redonePart = unfinished;
    const before = new Map<string, string>();
    for (const p of recorded) before.set(p.name, (await container().getBlobClient(p.name).getProperties()).etag!);
    const itemAtKill = await backend.store.getItem(T, project.id, itemId);
    expect(itemAtKill.state).toBe('Running');
    const keptItems = recorded.reduce((a, p) => a + p.items, 0);

    // Restart: another worker takes the job over when the dead one's lease expires.
    const second = startChild('w2');
    const end = Date.now() + 180_000;
    for (;;) {
      const item = await backend.store.getItem(T, project.id, itemId);
      if (['Completed', 'CompletedWithErrors', 'Failed', 'Cancelled', 'WaitingForAuth'].includes(item.state)) break;
      if (second.proc.exitCode !== null) throw new Error(`the second worker exited:\n${second.output}`);
      if (Date.now() > end) throw new Error(`the job did not finish after the restart (state ${item.state})\n${second.output}`);
      await sleep(200);
    }
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const item = await backend.store.getItem(T, project.id, itemId);
    expect([item.state, item.error]).toEqual(['Completed', undefined]);
    const jobs = await backend.queue.listJobs(T, project.id, { itemId });
    expect(jobs.map((j) => [j.state, j.attempts])).toEqual([['Completed', 2]]);

    // Finished parts were kept (same blobs) and their items skipped: the resumed pass exported the rest.
    for (const [name, etag] of before) expect((await container().getBlobClient(name).getProperties()).etag).toBe(etag);
    const truth = truthIds(adele.primary!);
    // (with the kept parts unchanged, "each id once over all parts" below means the resumed run skipped their items)
    expect(item.statistics?.itemsExported).toBe(truth.length);

    // The union of the manifests = the sandbox's truth, each id once, in folder order; no stray part.
    const parts = await backend.store.listParts(T, project.id, itemId);
    expect(parts.length).toBeGreaterThan(recorded.length);
    expect(parts.map((p) => p.name)).toEqual(parts.map((_, i) => partName(i + 1)));
    expect((await blobNames()).filter((n) => n.endsWith('.pst'))).toEqual(parts.map((p) => p.name).sort());
    const ids: string[] = [];
    const work = mkdtempSync(path.join(dir, 'parts-'));
    for (const p of parts) {
      const bytes = await container().getBlobClient(p.name).downloadToBuffer();
      expect([p.name, bytes.length, sha256(bytes)]).toEqual([p.name, p.sizeBytes, p.sha256]);
      expect(bytes.length).toBeLessThanOrEqual(MiB);
      const m = parseManifest(await container().getBlobClient(`${p.name}.manifest.json`).downloadToBuffer()) as PartManifest;
      expect(m.part).toEqual({ name: p.name, index: parts.indexOf(p) + 1, sizeBytes: p.sizeBytes, sha256: p.sha256 });
      expect(m.items.length).toBe(p.items);
      ids.push(...m.items.map((i) => i.sourceId));
      // Valid: our checker (on a Uint8Array copy: it decodes blocks in place) and every item read back.
      expect([p.name, (await checkPstSource(new Uint8Array(bytes), p.name)).findings]).toEqual([p.name, []]);
      expect(await pstItemCount(bytes)).toBe(m.items.length);
      const file = path.join(work, p.name);
      writeFileSync(file, bytes);
      partFiles.push(file);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(truth);
    console.log(`crash-resume: killed with ${recorded.length} of ${parts.length} parts finished (${keptItems} of ${truth.length} items kept), ${unfinished} redone`);
  });

  describeWhenAvailable('the parts after the restart, read by independent readers', missingPrerequisites({ pffexport: true, readpst: true }), () => {
    test('pffexport and readpst read the redone part and the first part without errors, every item', async () => {
      expect(redonePart).toBeDefined();
      const files = [partFiles.find((f) => path.basename(f) === redonePart)!, partFiles[0]];
      for (const file of files) {
        const items = parseManifest(await container().getBlobClient(`${path.basename(file)}.manifest.json`).downloadToBuffer())!.items.length;
        const pff = await run('pffexport', ['-q', '-f', 'all', '-t', `${file}.pff`, file]);
        expect([path.basename(file), pff.code, pff.stderr.trim()]).toEqual([path.basename(file), 0, '']);
        expect(countDirs(`${file}.pff.export`, /^(Message|Contact|Appointment|Meeting|Task|Note|Activity|Item|Journal|Email|Distribution list)\d+$/i)).toBe(items);
        const out = mkdtempSync(`${file}.readpst-`);
        const rp = await run('readpst', ['-q', '-D', '-j', '0', '-o', out, file]);
        expect([path.basename(file), rp.code]).toEqual([path.basename(file), 0]);
      }
    });
  });
});

/** Directories whose names match `pattern` anywhere under `dir` (pffexport writes one per item). */
function countDirs(dir: string, pattern: RegExp): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    if (pattern.test(e.name)) n++;
    else n += countDirs(path.join(dir, e.name), pattern);
  }
  return n;
}
