/**
 * The test harnesses other suites rely on: Azurite starts on a free port and stops without leaving
 * files; the fault proxy fails the seeded fraction of matching requests and forwards the rest.
 */
import { existsSync } from 'node:fs';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { isBlockPut, startFaultProxy } from '../harness/fault-proxy';
import { describeWhenAvailable } from '../pst/shared-samples';

describeWhenAvailable('test harnesses', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  let az: AzuriteInstance;
  beforeAll(async () => { az = await startAzurite(); });
  afterAll(() => az?.stop());

  test('Azurite serves the development account on its own port', async () => {
    expect(az.blobEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    const service = BlobServiceClient.fromConnectionString(az.connectionString);
    await service.getContainerClient('harness-check').create();
    const names: string[] = [];
    for await (const c of service.listContainers()) names.push(c.name);
    expect(names).toContain('harness-check');
  });

  test('a second instance is independent; stop() ends it and removes its working directory', async () => {
    const other = await startAzurite();
    expect(other.port).not.toBe(az.port);
    const service = new BlobServiceClient(other.blobEndpoint, new StorageSharedKeyCredential(other.accountName, other.accountKey),
      { retryOptions: { maxTries: 1 } });
    const before: string[] = [];
    for await (const c of service.listContainers()) before.push(c.name);
    expect(before).toEqual([]);
    expect(existsSync(other.workDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.workDir)).toBe(false);
    await expect(service.getProperties()).rejects.toThrow();
  });

  test('the fault proxy fails about the given fraction of block PUTs, seeded, and counts them', async () => {
    const proxy = await startFaultProxy(az.blobEndpoint, { rate: 0.3, kinds: ['503', 'reset'], match: isBlockPut, seed: 42 });
    try {
      const service = new BlobServiceClient(proxy.url, new StorageSharedKeyCredential(az.accountName, az.accountKey),
        { retryOptions: { maxTries: 1 } });
      const container = service.getContainerClient('proxy-check');
      await container.create();
      const blob = container.getBlockBlobClient('b');
      let failures = 0;
      for (let i = 0; i < 40; i++) {
        const id = Buffer.from(`block-${String(i).padStart(4, '0')}`).toString('base64');
        try { await blob.stageBlock(id, Buffer.alloc(1024, i), 1024); } catch { failures++; }
      }
      expect(proxy.stats.matched).toBe(40);
      expect(proxy.stats.failed).toBe(failures);
      expect(proxy.stats.failed503).toBeGreaterThan(0);
      expect(proxy.stats.failedReset).toBeGreaterThan(0);
      expect(failures).toBeGreaterThan(3);
      expect(failures).toBeLessThan(25);
      // non-matching requests pass
      await container.getBlockBlobClient('small').upload('x', 1);
      expect(proxy.stats.forwarded).toBeGreaterThanOrEqual(40 - failures + 2);
    } finally {
      await proxy.stop();
    }
  });
});
