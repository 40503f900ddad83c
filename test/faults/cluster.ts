/**
 * A scaled-out Outport on one machine, for the fault tests (test/faults/) and `npm run bench:scale`:
 * the sandbox tenant with bench mailboxes of unique corpus copies (sandbox/replicate.ts), Azurite
 * (optionally behind the fault proxy), a private redis-server (append-only, so it can be restarted),
 * the BullMQ backend in this process (what a stateless `outport serve --queue` does: projects,
 * items, enqueue, read back), and N `outport worker --queue …` child processes — the real command,
 * started through bin/outport.js — that can be killed with SIGKILL and replaced.
 *
 * {@link Cluster.verify} is the loss/duplication check: every manifest in the container is read,
 * each part's bytes hash to the manifest's sha256 and hold (PST reader) exactly the manifest's
 * item count, and per mailbox the manifests' source ids are compared with the sandbox's: ids never
 * exported are lost, ids in more than one manifest line are duplicated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { parseManifest } from '../../worker-service/src/export/manifest';
import type { PartManifest } from '../../worker-service/src/export/types';
import { openBullmqBackend, type BullmqBackend } from '../../worker-service/src/jobs/bullmq/backend';
import type { Item, Project } from '../../worker-service/src/jobs/contract';
import { TAG } from '../../worker-service/src/mapi/tags';
import { buildTenant, sandboxTenantConfig, startSandbox, type FaultOptions, type SandboxHandle, type SandboxTenant } from '../../worker-service/src/sandbox';
import { mailboxId, stableChangeKey, stableEntityId, stableGuid } from '../../worker-service/src/sandbox/ids';
import { exportDataBase64, setExportCacheLimit } from '../../worker-service/src/sandbox/mailbox-routes';
import { corpusItems, replicaStream, REPLICA_FOLDERS } from '../../worker-service/src/sandbox/replicate';
import type { SandboxFolder, SandboxMailbox, SandboxUser } from '../../worker-service/src/sandbox/tenant';
import { startAzurite, type AzuriteInstance } from '../harness/azurite';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy';
import { pstItemCount } from '../export/helpers';
import { startRedisServer, type RedisServer } from './redis';

const REPO = path.resolve(__dirname, '../..');
const BIN = path.join(REPO, 'bin/outport.js');
const SEED = 'outport-faults';
const FINAL = new Set(['Completed', 'CompletedWithErrors', 'Failed', 'Cancelled', 'WaitingForAuth']);

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Bench mailboxes (primary mailboxes of added users). */
  mailboxes: number;
  itemsPerMailbox: number;
  /** Sandbox latency per Graph request, ms. */
  latencyMs?: number;
  /** Azurite's in-memory blob store limit, MB (default 512; benchmarks of large mailboxes raise it). */
  azuriteMemoryMb?: number;
  /** Sandbox faults; the object is kept (FaultInjector reads it on every request), so a test may change rates while running. */
  faults?: FaultOptions;
  /** A fault proxy in front of Azurite (failure rate 0 until set). */
  blobProxy?: boolean;
}

/** One `outport worker` child. */
export interface WorkerProc {
  id: string;
  child: ChildProcess;
  /** stdout + stderr lines. */
  lines: string[];
  exited: Promise<number | null>;
}

/** What {@link Cluster.verify} found. */
export interface Verification {
  mailboxes: number;
  parts: number;
  sourceItems: number;
  itemsExported: number;
  itemsLost: number;
  itemsDuplicated: number;
  /** Parts whose bytes did not hash to their manifest's sha256, or whose PST held another item count. */
  badParts: string[];
  /** sha256 of every part blob by name. */
  partHashes: Map<string, string>;
  /** Every manifest by part name. */
  manifests: Map<string, PartManifest>;
}

/** A running cluster. */
export interface Cluster {
  sb: SandboxHandle;
  az: AzuriteInstance;
  redis: RedisServer;
  proxy?: FaultProxy;
  backend: BullmqBackend;
  prefix: string;
  /** Bench mailbox addresses and their item ids (the truth). */
  mailboxes: { mail: string; ids: string[] }[];
  workers: WorkerProc[];
  /** Starts one more worker process. */
  startWorker(options?: { concurrency?: number; leaseSeconds?: number }): WorkerProc;
  /** SIGKILL (kill -9) and wait for the exit. */
  kill9(w: WorkerProc): Promise<void>;
  /** SIGTERM every worker and wait (they release their jobs). */
  stopWorkers(): Promise<void>;
  /** A project (application auth: client credentials) with one item per bench mailbox, exporting to `container` (through the proxy when `viaProxy`). */
  createProject(container: string, options?: { viaProxy?: boolean; splitSizeBytes?: number; maxConcurrentExports?: number; mailboxes?: number }): Promise<{ project: Project; items: Item[] }>;
  /** Polls until every item of the project is in a final state (or the timeout); returns the items. */
  waitFinal(projectId: string, timeoutMs: number, onTick?: (items: Item[]) => Promise<void> | void): Promise<Item[]>;
  /** Reads every part and manifest of `container` and compares with the truth of the first `mailboxes` mailboxes. */
  verify(container: string, mailboxes?: number): Promise<Verification>;
  stop(): Promise<void>;
}

export const TENANT = () => 'tenant-faults';

/**
 * Adds `count` users whose primary mailboxes hold `items` unique corpus copies each, in the
 * REPLICA_FOLDERS tree (as bench/graph.ts does), every item's exportItems data encoded once.
 */
async function addMailboxes(tenant: SandboxTenant, count: number, items: number): Promise<{ mail: string; ids: string[] }[]> {
  const source = await corpusItems(300);
  const out: { mail: string; ids: string[] }[] = [];
  let firstCopy = 0;
  for (let u = 0; u < count; u++) {
    const mail = `load${u + 1}@${tenant.domain}`;
    const user: SandboxUser = {
      id: stableGuid(SEED, 'user', u), displayName: `Load ${u + 1}`, givenName: 'Load', surname: String(u + 1), mail, userPrincipalName: mail,
      jobTitle: 'Load', officeLocation: 'Lab', password: `Load-${u + 1}`, inactive: false,
    };
    tenant.addUser(user);
    const guid = stableGuid(SEED, 'mailbox', u);
    const mb: SandboxMailbox = { id: mailboxId(guid, tenant.tenantId), kind: 'primary', owner: user, rootFolderId: stableEntityId(SEED, 'root', guid), folders: [] };
    tenant.addMailbox(mb);
    user.primary = mb;
    const byPath = new Map<string, SandboxFolder>();
    for (const p of REPLICA_FOLDERS) {
      const key = p.map((f) => f.displayName).join('/');
      const parent = byPath.get(p.slice(0, -1).map((f) => f.displayName).join('/'));
      const f: SandboxFolder = {
        id: stableEntityId(SEED, 'folder', mb.id, key), displayName: p[p.length - 1].displayName, parentFolderId: parent?.id ?? mb.rootFolderId,
        type: 'IPF.Note', wellKnownName: null, children: [], items: [], mailbox: mb, home: mb, createdSeq: 1, removed: [],
      };
      tenant.addFolder(f);
      (parent ? parent.children : mb.folders).push(f);
      byPath.set(key, f);
    }
    const ids: string[] = [];
    for (const { n, folderPath, item } of replicaStream(source, items, firstCopy)) {
      const folder = byPath.get(folderPath.map((f) => f.displayName).join('/'))!;
      const size = Buffer.byteLength(exportDataBase64(item), 'base64');
      const created = new Date(Date.UTC(2002, 0, 1) + n * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const id = stableEntityId(SEED, 'item', mb.id, n);
      tenant.addItem({
        id, changeKey: stableChangeKey(SEED, 'item', n, 0), item,
        messageClass: String(item.properties.get(TAG.PidTagMessageClass.id) ?? 'IPM.Note'), size,
        createdDateTime: created, lastModifiedDateTime: created, categories: [], folder, modSeq: 1,
      });
      ids.push(id);
    }
    firstCopy += items;
    out.push({ mail, ids });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts everything; `stop()` removes it all. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const tenant = await buildTenant({ seed: SEED, mailLimit: 20 });
  setExportCacheLimit(512 * 1024 ** 2);
  const mailboxes = await addMailboxes(tenant, options.mailboxes, options.itemsPerMailbox);
  const [sb, az, redis] = await Promise.all([
    startSandbox({ tenant, seed: SEED, latencyMs: options.latencyMs ?? 0, ...(options.faults ? { faults: options.faults } : {}) }),
    startAzurite(options.azuriteMemoryMb ? { extentMemoryLimitMb: options.azuriteMemoryMb } : {}),
    startRedisServer(),
  ]);
  const proxy = options.blobProxy ? await startFaultProxy(az.blobEndpoint, { rate: 0, kinds: ['503', 'reset'], seed: 5 }) : undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outport-cluster-'));
  const tenantFile = path.join(dir, 'tenant.json');
  writeFileSync(tenantFile, JSON.stringify(sandboxTenantConfig(sb)), { mode: 0o600 });
  const key = randomBytes(32);
  const prefix = 'outport';
  const backend = await openBullmqBackend({ redis: redis.url, prefix, secretKey: key, pollIntervalMs: 200 });
  const blob = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey));
  const workers: WorkerProc[] = [];
  let n = 0;

  const startWorker = (o: { concurrency?: number; leaseSeconds?: number } = {}): WorkerProc => {
    const id = `w${++n}`;
    // OUTPORT_WORKER_NODE_FLAGS (space-separated node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"): for profiling the workers.
    const nodeFlags = (process.env.OUTPORT_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeFlags, BIN, 'worker', '--queue', redis.url, '--tenant-config', tenantFile, '--prefix', prefix,
      '--concurrency', String(o.concurrency ?? 1), '--lease-seconds', String(o.leaseSeconds ?? 3), '--stop-timeout-seconds', '0',
      '--worker-id', id], {
      cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OUTPORT_SECRET_KEY: key.toString('base64'), OUTPORT_LOG_LEVEL: process.env.OUTPORT_LOG_LEVEL ?? 'info' },
    });
    const lines: string[] = [];
    const collect = (b: Buffer) => { for (const l of b.toString('utf8').split('\n')) if (l) lines.push(l); };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const w = { id, child, lines, exited };
    workers.push(w);
    return w;
  };

  const cluster: Cluster = {
    sb, az, redis, proxy, backend, prefix, mailboxes, workers, startWorker,
    async kill9(w) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    },
    async stopWorkers() {
      await Promise.all(workers.map(async (w) => {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
        const t = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
        await w.exited;
        clearTimeout(t);
      }));
    },
    async createProject(container, o = {}) {
      const endpoint = o.viaProxy && proxy ? proxy.url : az.blobEndpoint;
      const project = await backend.store.createProject({
        tenantId: TENANT(), createdBy: 'faults', name: `faults ${container}`, authMode: 'application',
        destination: { accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: endpoint, container },
        options: { splitSizeBytes: o.splitSizeBytes ?? 1024 * 1024, maxConcurrentExports: o.maxConcurrentExports ?? 20 },
      });
      const items = await backend.store.addItems(TENANT(), project.id,
        mailboxes.slice(0, o.mailboxes ?? mailboxes.length).map((m) => ({ source: m.mail, mailbox: 'primary' as const, pstName: `${m.mail.split('@')[0]}.pst` })));
      return { project, items };
    },
    async waitFinal(projectId, timeoutMs, onTick) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const items = await backend.store.listItems(TENANT(), projectId);
        if (onTick) await onTick(items);
        if (items.every((i) => FINAL.has(i.state))) return items;
        if (Date.now() > deadline) {
          throw new Error(`not finished in ${timeoutMs} ms: ${items.map((i) => `${i.source}=${i.state}`).join(', ')}\n` +
            workers.map((w) => `--- ${w.id} (exit ${w.child.exitCode ?? w.child.signalCode})\n${w.lines.slice(-15).join('\n')}`).join('\n'));
        }
        await sleep(250);
      }
    },
    async verify(container, count = mailboxes.length) {
      const c = blob.getContainerClient(container);
      const manifests = new Map<string, PartManifest>();
      const partHashes = new Map<string, string>();
      const badParts: string[] = [];
      for await (const b of c.listBlobsFlat()) {
        if (!b.name.endsWith('.manifest.json')) continue;
        const m = parseManifest(await c.getBlobClient(b.name).downloadToBuffer());
        if (!m) { badParts.push(`${b.name} (unreadable manifest)`); continue; }
        manifests.set(m.part.name, m);
      }
      for (const [name, m] of manifests) {
        const bytes = await c.getBlobClient(name).downloadToBuffer().catch(() => undefined);
        if (!bytes) { badParts.push(`${name} (no blob)`); continue; }
        const sha = createHash('sha256').update(bytes).digest('hex');
        partHashes.set(name, sha);
        if (sha !== m.part.sha256 || bytes.length !== m.part.sizeBytes) { badParts.push(`${name} (sha256 or size differs from its manifest)`); continue; }
        const items = await pstItemCount(new Uint8Array(bytes));
        if (items !== m.items.length) badParts.push(`${name} (PST holds ${items} items, manifest ${m.items.length})`);
      }
      const seen = new Map<string, number>();
      for (const m of manifests.values()) for (const it of m.items) seen.set(it.sourceId, (seen.get(it.sourceId) ?? 0) + 1);
      let sourceItems = 0;
      let lost = 0;
      let exported = 0;
      let duplicated = 0;
      for (const mb of mailboxes.slice(0, count)) {
        sourceItems += mb.ids.length;
        for (const id of mb.ids) {
          const k = seen.get(id) ?? 0;
          if (k === 0) lost++;
          else { exported++; duplicated += k - 1; }
        }
      }
      // Ids in manifests that no source mailbox holds would be corruption: count them as duplicates of nothing.
      const truth = new Set(mailboxes.slice(0, count).flatMap((m) => m.ids));
      for (const [id, k] of seen) if (!truth.has(id)) duplicated += k;
      return { mailboxes: count, parts: manifests.size, sourceItems, itemsExported: exported, itemsLost: lost, itemsDuplicated: duplicated, badParts, partHashes, manifests };
    },
    async stop() {
      await cluster.stopWorkers().catch(() => undefined);
      await backend.close().catch(() => undefined);
      await Promise.all([sb.stop().catch(() => undefined), az.stop().catch(() => undefined), redis.stop().catch(() => undefined), proxy?.stop().catch(() => undefined)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Appends `figures` to the file named by OUTPORT_FAULTS_FIGURES (npm run test:faults collects them), and logs them. */
export function recordFigures(figures: Record<string, string | number>): void {
  const line = Object.entries(figures).map(([k, v]) => `${k}=${v}`).join(' ');
  const file = process.env.OUTPORT_FAULTS_FIGURES;
  if (file) writeFileSync(file, `${line}\n`, { flag: 'a' });
  process.stdout.write(`faults: ${line}\n`);
}
