/**
 * Must-show b, second half (issue 4): an export (sandbox Graph → GraphSource → runExport → PstWriter →
 * AzureBlobDestination on Azurite) with 5 % of its block uploads failing — HTTP 503 ServerBusy or a
 * connection reset mid-body, injected by the fault proxy (test/harness/fault-proxy.ts) in front of
 * Azurite — stores blobs byte-identical to a clean run of the same export.
 *
 * Determinism: the PST writer's output depends on the items and on one more input, each part's
 * store record key (PidTagRecordKey, 16 random bytes per part by default, as Outlook makes a new GUID
 * per data file; every entry id in the part embeds it). Both runs pass the same fixed key
 * (ExportDeps.recordKey), so equal items must give equal bytes; the second test shows that without
 * it two clean runs differ (same length, different record keys). Manifests differ only in `closedAt`.
 */
import { createHash } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { MemoryCheckpoint } from '../../worker-service/src/export/checkpoint-memory';
import { parseManifest } from '../../worker-service/src/export/manifest';
import { runExport } from '../../worker-service/src/export/run';
import type { ExportRequest, ExportResult } from '../../worker-service/src/export/types';
import { GraphSource } from '../../worker-service/src/graph/source';
import { checkPstSource } from '../../worker-service/src/pst/check';
import { PstReader } from '../../worker-service/src/pst/reader';
import { buildTenant, startSandbox, type SandboxHandle, type SandboxTenant } from '../../worker-service/src/sandbox';
import { createDestination, validateDestination, type Destination } from '../../worker-service/src/storage';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { isBlockPut, startFaultProxy, type FaultProxy } from '../harness/fault-proxy';
import { describeWhenAvailable } from '../pst/shared-samples';
import { appToken, sandboxClient } from '../sandbox/helpers';
import { truthIds } from './helpers';

jest.setTimeout(180_000);

const MiB = 1024 * 1024;
/** Smallest block the destination stages: many block PUTs per part, so 5 % of them is several. */
const BLOCK = 64 * 1024;
const FAST_RETRY = { maxTries: 8, retryDelayInMs: 20, maxRetryDelayInMs: 200 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** A fixed record key per part index (16 bytes). */
const fixedRecordKey = (partIndex: number) => createHash('sha256').update(`outport-blob-faults-${partIndex}`).digest().subarray(0, 16);

describeWhenAvailable('export with failing block uploads (Azurite + fault proxy)', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  let tenant: SandboxTenant;
  let sandbox: SandboxHandle;
  let source: GraphSource;
  let az: AzuriteInstance;
  let proxy: FaultProxy;
  let service: BlobServiceClient;

  beforeAll(async () => {
    tenant = await buildTenant({ mailLimit: 2000 });
    [sandbox, az] = await Promise.all([startSandbox({ port: 0, tenant, defaultPageSize: 50 }), startAzurite()]);
    source = new GraphSource(sandboxClient(sandbox, await appToken(sandbox)));
    service = BlobServiceClient.fromConnectionString(az.connectionString);
    proxy = await startFaultProxy(az.blobEndpoint, { rate: 0, kinds: ['503', 'reset'], match: isBlockPut, seed: 11 });
  });
  afterAll(async () => {
    await proxy?.stop();
    await Promise.all([sandbox?.stop(), az?.stop()]);
  });

  function destination(container: string, endpoint: string): Destination {
    const v = validateDestination({ accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: endpoint, container });
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    return createDestination(v.config, { azure: { blockSizeBytes: BLOCK, maxBlocksInFlight: 4, retry: FAST_RETRY } });
  }

  const user = (given: string) => tenant.users.find((u) => u.givenName === given)!;
  /** Adele's primary and in-place archive, Megan's auto-expanding archive (its auxiliary part included). */
  const mailboxes = () => [
    { mailbox: { user: user('Adele').mail, archive: false }, pstName: 'adele.pst', truth: truthIds(user('Adele').primary!) },
    { mailbox: { user: user('Adele').mail, archive: true }, pstName: 'adele-archive.pst', truth: truthIds(user('Adele').archive!) },
    { mailbox: { user: user('Megan').mail, archive: true }, pstName: 'megan-archive.pst', truth: truthIds(user('Megan').archive!) },
  ];

  /** Exports the first `count` of the three mailboxes into `container` through `endpoint`; @returns their results, in order */
  async function exportTo(container: string, endpoint: string, recordKey?: (i: number) => Uint8Array, count = 3): Promise<ExportResult[]> {
    const dest = destination(container, endpoint);
    await dest.ensure();
    const results: ExportResult[] = [];
    for (const m of mailboxes().slice(0, count)) {
      const request: ExportRequest = { mailbox: m.mailbox, pstName: m.pstName, pass: 'full', splitSizeBytes: 2 * MiB, source: { pageSize: 50 } };
      const result = await runExport(request, { source, destination: dest, checkpoint: new MemoryCheckpoint(), ...(recordKey ? { recordKey } : {}) });
      expect([m.pstName, result.outcome, result.errors]).toEqual([m.pstName, 'Completed', 0]);
      results.push(result);
    }
    return results;
  }

  async function blob(container: string, name: string): Promise<{ bytes: Buffer; metadata: Record<string, string> }> {
    const b = service.getContainerClient(container).getBlobClient(name);
    return { bytes: await b.downloadToBuffer(), metadata: (await b.getProperties()).metadata ?? {} };
  }

  async function names(container: string): Promise<string[]> {
    const out: string[] = [];
    for await (const b of service.getContainerClient(container).listBlobsFlat()) out.push(b.name);
    return out.sort();
  }

  test('5 % of block PUTs fail (503 and resets): every part blob is byte-identical to a clean run\'s; manifests equal but for closedAt', async () => {
    const clean = await exportTo('clean', az.blobEndpoint, fixedRecordKey);
    proxy.setRate(0.05);
    const faulty = await exportTo('faulty', proxy.url, fixedRecordKey);
    proxy.setRate(0);

    // The faults happened, of both kinds, and the SDK's retries absorbed them.
    expect(proxy.stats.matched).toBeGreaterThan(100);
    expect(proxy.stats.failed503).toBeGreaterThan(0);
    expect(proxy.stats.failedReset).toBeGreaterThan(0);

    const cleanParts = clean.flatMap((r) => r.parts);
    const faultyParts = faulty.flatMap((r) => r.parts);
    expect(cleanParts.length).toBeGreaterThanOrEqual(4);
    expect(faultyParts.map((p) => [p.name, p.sizeBytes, p.sha256])).toEqual(cleanParts.map((p) => [p.name, p.sizeBytes, p.sha256]));
    expect(await names('faulty')).toEqual(await names('clean'));
    const ids: string[] = [];
    for (const p of cleanParts) {
      const a = await blob('clean', p.name);
      const b = await blob('faulty', p.name);
      expect(b.bytes.length).toBe(a.bytes.length);
      expect(b.bytes.equals(a.bytes)).toBe(true);
      expect(sha256(b.bytes)).toBe(p.sha256);
      expect(b.metadata.sha256).toBe(p.sha256);
      const ma = parseManifest((await blob('clean', `${p.name}.manifest.json`)).bytes)!;
      const mb = parseManifest((await blob('faulty', `${p.name}.manifest.json`)).bytes)!;
      expect({ ...mb, closedAt: '' }).toEqual({ ...ma, closedAt: '' });
      ids.push(...mb.items.map((i) => i.sourceId));
      // Valid PST (a Uint8Array copy: the checker decodes blocks in place).
      expect((await checkPstSource(new Uint8Array(b.bytes), p.name)).findings).toEqual([]);
    }
    expect(ids).toEqual(mailboxes().flatMap((m) => m.truth));
    console.log(`blob faults: ${cleanParts.length} parts, ${clean.reduce((a, r) => a + r.bytesExported, 0)} bytes; proxy ${JSON.stringify(proxy.stats)}`);
  });

  test('the fixed record key is what makes runs repeatable: two clean runs without it differ (their record keys), with it the key is the one given', async () => {
    const [a] = await exportTo('random-a', az.blobEndpoint, undefined, 1);
    await exportTo('random-b', az.blobEndpoint, undefined, 1);
    const name = a.parts[0].name;
    const x = (await blob('random-a', name)).bytes;
    const y = (await blob('random-b', name)).bytes;
    expect(y.length).toBe(x.length);
    expect(y.equals(x)).toBe(false);
    // What differs: the store's PidTagRecordKey (and so every entry id that embeds it); the folders and
    // items read back the same.
    const keyOf = async (bytes: Buffer) => {
      const r = await PstReader.openBytes(new Uint8Array(bytes));
      try { return Buffer.from(r.store.recordKey!).toString('hex'); } finally { await r.close(); }
    };
    const [ka, kb] = [await keyOf(x), await keyOf(y)];
    expect(ka).toMatch(/^[0-9a-f]{32}$/);
    expect(ka).not.toBe(kb);
    const [fixed] = await exportTo('fixed', az.blobEndpoint, fixedRecordKey, 1);
    expect(await keyOf((await blob('fixed', fixed.parts[0].name)).bytes)).toBe(Buffer.from(fixedRecordKey(1)).toString('hex'));
  });
});
