/**
 * AzureBlobDestination against Azurite: a real PST streams through staged blocks and comes back
 * byte-identical to the writer's output, clean by our checker, with its SHA-256 as metadata; the same
 * under 5 % failing block uploads (503 and resets through the fault proxy); container ownership;
 * credentials that fail without leaking; read SAS URLs that expire; abort commits nothing.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { BlobServiceClient, ContainerSASPermissions } from '@azure/storage-blob';
import { checkPstSource } from '../../worker-service/src/pst/check';
import {
  AzureBlobDestination, CREATED_BY_KEY, PST_CONTENT_TYPE, StorageError, createDestination, validateDestination,
  type AzureDestinationConfig,
} from '../../worker-service/src/storage';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { isBlockPut, startFaultProxy } from '../harness/fault-proxy';
import { describeWhenAvailable } from '../pst/shared-samples';
import { chunked } from './chunks';
import { writePst } from './pst-helpers';

const BLOCK = 256 * 1024;
const FAST_RETRY = { maxTries: 6, retryDelayInMs: 20, maxRetryDelayInMs: 200 };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describeWhenAvailable('AzureBlobDestination on Azurite', azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'], () => {
  let az: AzuriteInstance;
  let service: BlobServiceClient;
  beforeAll(async () => {
    az = await startAzurite();
    service = BlobServiceClient.fromConnectionString(az.connectionString);
  });
  afterAll(() => az?.stop());

  function config(input: Record<string, unknown>): AzureDestinationConfig {
    const r = validateDestination(input);
    if (!r.ok || r.config.kind !== 'azure') throw new Error(JSON.stringify(r));
    return r.config;
  }
  const keyed = (container: string, endpoint = az.blobEndpoint) =>
    config({ accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: endpoint, container });

  async function download(container: string, name: string): Promise<{ bytes: Buffer; metadata: Record<string, string>; contentType?: string }> {
    const blob = service.getContainerClient(container).getBlobClient(name);
    const props = await blob.getProperties();
    return { bytes: await blob.downloadToBuffer(), metadata: props.metadata ?? {}, contentType: props.contentType };
  }

  test('a PST streams into several blocks; the blob equals the writer output, sha256 metadata matches, checker clean', async () => {
    const dest = createDestination(keyed('parts'), { azure: { blockSizeBytes: BLOCK, retry: FAST_RETRY } });
    await dest.ensure();
    const { part, expected } = await writePst(dest, 'user1.pst', 12, 150_000);
    const stored = part.stored();
    const got = await download('parts', 'user1.pst');
    expect(got.bytes.length).toBe(expected.length);
    expect(got.bytes.equals(expected)).toBe(true);
    expect(expected.length).toBeGreaterThan(4 * BLOCK);
    expect((part as unknown as { blocksStaged: number }).blocksStaged).toBe(Math.ceil((expected.length - 0x4400) / BLOCK) + 1);
    expect(stored).toEqual({ name: 'user1.pst', sizeBytes: expected.length, sha256: sha256(got.bytes) });
    expect(got.metadata).toMatchObject({ sha256: sha256(got.bytes), [CREATED_BY_KEY]: 'outport' });
    expect(got.contentType).toBe(PST_CONTENT_TYPE);
    // A plain Uint8Array copy: MemoryByteSource reads with .slice(), which on a Node Buffer is a view,
    // and the checker decodes permuted blocks in place (false findings on a Buffer; pst/ndb/read-source.ts).
    const report = await checkPstSource(new Uint8Array(got.bytes), 'user1.pst');
    expect(report.findings).toEqual([]);
    const listed = await dest.list('user1');
    expect(listed).toEqual([{ name: 'user1.pst', sizeBytes: expected.length, metadata: expect.objectContaining({ sha256: stored.sha256 }) }]);
  });

  test('with 5 % of block uploads failing (503 and resets) the blob is byte-identical', async () => {
    const proxy = await startFaultProxy(az.blobEndpoint, { rate: 0.05, kinds: ['503', 'reset'], match: isBlockPut, seed: Number(process.env.FAULT_SEED ?? 3) });
    try {
      const dest = createDestination(keyed('faulty', proxy.url), { azure: { blockSizeBytes: 64 * 1024, maxBlocksInFlight: 4, retry: FAST_RETRY } });
      await dest.ensure();
      const { part, expected } = await writePst(dest, 'user2.pst', 24, 150_000);
      const got = await download('faulty', 'user2.pst');
      expect(got.bytes.equals(expected)).toBe(true);
      expect(part.stored().sha256).toBe(sha256(expected));
      expect((await checkPstSource(new Uint8Array(got.bytes))).findings).toEqual([]);
      expect(proxy.stats.matched).toBeGreaterThan(55);
      expect(proxy.stats.failed503).toBeGreaterThan(0); // seed 3: 63 block PUTs, 2 × 503 and 1 reset
      expect(proxy.stats.failedReset).toBeGreaterThan(0);
      expect(proxy.stats.failed503 + proxy.stats.failedReset).toBe(proxy.stats.failed);
    } finally {
      await proxy.stop();
    }
  });

  test('blocks in flight stay within maxBlocksInFlight (memory independent of the part size)', async () => {
    const proxy = await startFaultProxy(az.blobEndpoint, { rate: 0, match: isBlockPut });
    try {
      const dest = createDestination(keyed('bounded', proxy.url), { azure: { blockSizeBytes: 64 * 1024, maxBlocksInFlight: 2, retry: FAST_RETRY } });
      await dest.ensure();
      const sink = await dest.openPart('big.bin');
      const chunk = Buffer.alloc(100_000, 5);
      for (let i = 0; i < 60; i++) await sink.append(chunk);
      await sink.writeAt(0, Buffer.alloc(0x4400, 6));
      await sink.close();
      expect(proxy.stats.matched).toBe(Math.ceil((6_000_000 - 0x4400) / (64 * 1024)) + 1);
      expect(proxy.stats.maxConcurrentMatched).toBeLessThanOrEqual(2);
      const got = (await download('bounded', 'big.bin')).bytes;
      expect(got.length).toBe(6_000_000);
      expect(got.subarray(0, 0x4400).every((b) => b === 6)).toBe(true);
      expect(got.subarray(0x4400).every((b) => b === 5)).toBe(true);
      expect(sink.stored().sha256).toBe(sha256(got));
    } finally {
      await proxy.stop();
    }
  });

  test('property: any chunking of appends, any header rewrite → the committed blob equals the bytes written', async () => {
    const dest = createDestination(keyed('chunks'), { azure: { blockSizeBytes: 64 * 1024, maxBlocksInFlight: 3, retry: FAST_RETRY } });
    await dest.ensure();
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 0, max: 0x4400 }),
      async (sizes, headerLength) => {
        const name = `p${run++}.bin`;
        const total = sizes.reduce((a, b) => a + b, 0);
        const expected = Buffer.alloc(total);
        for (let i = 0; i < total; i++) expected[i] = (i * 31 + run) & 0xff;
        const sink = await dest.openPart(name);
        let at = 0;
        for (const n of sizes) { await sink.append(expected.subarray(at, at + n)); at += n; }
        const rewrite = Math.min(headerLength, total);
        if (rewrite > 0) {
          const header = Buffer.alloc(rewrite, 0xee);
          await sink.writeAt(0, header);
          header.copy(expected, 0);
        }
        await sink.close();
        const got = (await download('chunks', name)).bytes;
        expect(got.equals(expected)).toBe(true);
        expect(sink.stored()).toEqual({ name, sizeBytes: total, sha256: sha256(expected) });
      },
    ), { numRuns: 15, seed: 20261122 });
  });

  test('a small PST (one block plus the header) and putSmall/getSmall/list/delete', async () => {
    const dest = createDestination(keyed('small'), { azure: { retry: FAST_RETRY } });
    await dest.ensure();
    const { part, expected } = await writePst(dest, 'tiny.pst', 1, 0);
    expect(part.stored().sizeBytes).toBe(expected.length);
    expect((await download('small', 'tiny.pst')).bytes.equals(expected)).toBe(true);
    await dest.putSmall('tiny.pst.manifest.json', Buffer.from('{"a":1}'), 'application/json');
    expect(Buffer.from((await dest.getSmall('tiny.pst.manifest.json'))!).toString()).toBe('{"a":1}');
    expect(await dest.getSmall('absent.json')).toBeUndefined();
    // getStream: the same bytes as they arrive; absent is undefined
    const got: Buffer[] = [];
    for await (const c of (await dest.getStream('tiny.pst'))!) got.push(Buffer.from(c));
    expect(Buffer.concat(got).equals(expected)).toBe(true);
    expect(await dest.getStream('absent.json')).toBeUndefined();
    expect((await dest.list('tiny')).map((o) => o.name)).toEqual(['tiny.pst', 'tiny.pst.manifest.json']);
    await dest.delete('tiny.pst.manifest.json');
    await dest.delete('tiny.pst.manifest.json');
    expect((await dest.list('')).map((o) => o.name)).toEqual(['tiny.pst']);
  });

  test('putStream: several blocks (Put Block List) or one (Put Blob) equal the bytes, sha256 metadata; a failure mid-stream commits nothing and an earlier blob stays', async () => {
    const dest = createDestination(keyed('streams'), { azure: { blockSizeBytes: 64 * 1024, retry: FAST_RETRY } });
    await dest.ensure();
    const bytes = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `{"sourceId":"id-${i}"}`).join(',\n')); // ~650 KB: ~10 blocks of 64 KiB
    await dest.putStream('big.pst.manifest.json', chunked(bytes, 50_000), 'application/json');
    const got = await download('streams', 'big.pst.manifest.json');
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.metadata).toMatchObject({ [CREATED_BY_KEY]: 'outport', sha256: sha256(bytes) });
    expect(got.contentType).toBe('application/json');
    const blocks = await service.getContainerClient('streams').getBlockBlobClient('big.pst.manifest.json').getBlockList('committed');
    expect(blocks.committedBlocks!.length).toBe(Math.ceil(bytes.length / (64 * 1024)));
    await dest.putStream('small.json', chunked(Buffer.from('{"a":1}'), 3), 'application/json');
    expect(Buffer.from((await dest.getSmall('small.json'))!).toString()).toBe('{"a":1}');
    await expect(dest.putStream('big.pst.manifest.json', chunked(Buffer.alloc(400_000, 7), 50_000, 5), 'application/json')).rejects.toThrow('the producer failed');
    await expect(dest.putStream('half.pst.manifest.json', chunked(bytes, 50_000, 4), 'application/json')).rejects.toThrow('the producer failed');
    expect((await download('streams', 'big.pst.manifest.json')).bytes.equals(bytes)).toBe(true);
    expect((await dest.list('')).map((o) => o.name)).toEqual(['big.pst.manifest.json', 'small.json']);
  });

  test('an empty part commits an empty blob', async () => {
    const dest = createDestination(keyed('empty'), { azure: { retry: FAST_RETRY } });
    await dest.ensure();
    const sink = await dest.openPart('empty.bin');
    await sink.close();
    expect(sink.stored()).toEqual({ name: 'empty.bin', sizeBytes: 0, sha256: sha256(new Uint8Array(0)) });
    expect((await download('empty', 'empty.bin')).bytes.length).toBe(0);
  });

  test('abort commits nothing, and an aborted rewrite leaves the earlier blob as it was', async () => {
    const dest = createDestination(keyed('aborts'), { azure: { blockSizeBytes: 64 * 1024, retry: FAST_RETRY } });
    await dest.ensure();
    const sink = await dest.openPart('gone.pst');
    await sink.append(Buffer.alloc(300_000, 1));
    await sink.abort!();
    expect(await dest.list('')).toEqual([]);
    await expect(sink.append(Buffer.alloc(1))).rejects.toThrow(StorageError);
    expect(() => sink.stored()).toThrow(/not closed/);

    await dest.putSmall('kept.pst', Buffer.from('old'), PST_CONTENT_TYPE);
    const again = await dest.openPart('kept.pst');
    await again.append(Buffer.alloc(200_000, 2));
    await again.abort!();
    expect(Buffer.from((await dest.getSmall('kept.pst'))!).toString()).toBe('old');
  });

  test('ensure creates the container marked createdby=outport and leaves an existing one alone; deleteContainer refuses foreign containers', async () => {
    const foreign = service.getContainerClient('customer-data');
    await foreign.create({ metadata: { owner: 'finance' } });
    await foreign.getBlockBlobClient('keep.txt').upload('keep', 4);
    const theirs = createDestination(keyed('customer-data'), { azure: { retry: FAST_RETRY } });
    await theirs.ensure();
    expect((await foreign.getProperties()).metadata).toEqual({ owner: 'finance' });
    const refused = await theirs.deleteContainer().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe('ContainerNotOurs');
    expect(await foreign.exists()).toBe(true);
    expect(await foreign.getBlockBlobClient('keep.txt').exists()).toBe(true);

    const ours = createDestination(keyed('made-by-outport'), { azure: { retry: FAST_RETRY } });
    await ours.ensure();
    const made = service.getContainerClient('made-by-outport');
    expect((await made.getProperties()).metadata).toMatchObject({ createdby: 'outport' });
    await ours.putSmall('x.json', Buffer.from('{}'), 'application/json');
    await ours.deleteContainer();
    expect(await made.exists()).toBe(false);
    const missing = await ours.deleteContainer().catch((e: unknown) => e);
    expect((missing as StorageError).code).toBe('ContainerNotFound');
  });

  test('a wrong account key → AuthenticationFailed, without the key in the message', async () => {
    const wrongKey = Buffer.alloc(64, 9).toString('base64');
    const bad = createDestination(config({ accountKey: wrongKey, storageCloud: 'custom', blobEndpoint: az.blobEndpoint, container: 'nope' }), { azure: { retry: FAST_RETRY } });
    const err = await bad.ensure().catch((e: unknown) => e) as StorageError;
    expect(err).toBeInstanceOf(StorageError);
    expect(err.code).toBe('AuthenticationFailed');
    expect(err.status).toBe(403);
    expect(err.message).not.toContain(wrongKey);
    expect(err.message).not.toContain(az.accountKey);
    expect(err.message).toMatch(/refused the credential/);
    expect(JSON.stringify(err)).not.toContain(wrongKey);
    expect(err.cause).toBeUndefined();
    const sink = await bad.openPart('x.pst');
    await sink.append(Buffer.alloc(0x4400 + 70_000));
    await expect(sink.close()).rejects.toMatchObject({ code: 'AuthenticationFailed' });
  });

  test('an endpoint nobody listens on → Unreachable', async () => {
    const dest = createDestination(config({ accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: 'http://127.0.0.1:1/devstoreaccount1', container: 'x1x' }), { azure: { retry: { maxTries: 2, retryDelayInMs: 10 } } });
    await expect(dest.ensure()).rejects.toMatchObject({ code: 'Unreachable' });
  });

  test('connection string and container SAS URL forms; readUrl only where a key can sign it', async () => {
    const cs = createDestination(config({ connectionString: az.connectionString, container: 'by-cs' }), { azure: { blockSizeBytes: 64 * 1024, retry: FAST_RETRY } });
    await cs.ensure();
    const { expected } = await writePst(cs, 'cs.pst', 3, 100_000);
    expect((await download('by-cs', 'cs.pst')).bytes.equals(expected)).toBe(true);
    const csUrl = (await cs.readUrl('cs.pst'))!;
    expect(Buffer.from(await (await fetch(csUrl)).arrayBuffer()).equals(expected)).toBe(true);

    const sasUrl = await service.getContainerClient('by-cs').generateSasUrl({ permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3600_000) });
    const viaSas = createDestination(config({ sasUrl }), { azure: { blockSizeBytes: 64 * 1024, retry: FAST_RETRY } });
    await viaSas.ensure();
    expect(viaSas.location).not.toContain('sig=');
    const second = await writePst(viaSas, 'sas.pst', 3, 100_000);
    expect((await download('by-cs', 'sas.pst')).bytes.equals(second.expected)).toBe(true);
    expect(second.part.stored().sha256).toBe(sha256(second.expected));
    expect(await viaSas.readUrl('sas.pst')).toBeUndefined();
    expect((await viaSas.list('')).map((o) => o.name)).toEqual(['cs.pst', 'sas.pst']);

    const missingSas = sasUrl.replace('/by-cs?', '/not-there?');
    const missing = createDestination(config({ sasUrl: missingSas }), { azure: { retry: FAST_RETRY } });
    const err = await missing.ensure().catch((e: unknown) => e) as StorageError;
    // Azure answers 404 ContainerNotFound; Azurite refuses a SAS for a missing container with 403.
    expect(['ContainerNotFound', 'AuthenticationFailed']).toContain(err.code);
    expect(err.message).not.toContain('sig=');
  });

  test('readUrl: a read-only SAS that works, cannot write, and expires', async () => {
    const dest = createDestination(keyed('links'), { azure: { retry: FAST_RETRY } }) as AzureBlobDestination;
    await dest.ensure();
    await dest.putSmall('a.pst', Buffer.from('pst bytes'), PST_CONTENT_TYPE);
    const url = (await dest.readUrl('a.pst', 15))!;
    expect(new URL(url).searchParams.get('sp')).toBe('r');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pst bytes');
    const put = await fetch(url, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'overwrite' });
    expect(put.status).toBe(403);

    const realNow = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(realNow - 20 * 60_000);
    let expired: string;
    try { expired = (await dest.readUrl('a.pst', 1))!; } finally { spy.mockRestore(); }
    expect((await fetch(expired)).status).toBe(403);
    await expect(dest.readUrl('a.pst', 0)).rejects.toThrow(RangeError);
  });
});
