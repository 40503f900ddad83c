/**
 * The BullMQ backend (jobs/bullmq/) against the same conformance suite as SQLite, on the machine's
 * Redis (127.0.0.1:6379, as on CI) under a key prefix unique to each test, deleted afterwards; plus
 * what only it has: the Redis URL, the shared secret key check, and records that survive a Redis
 * restart (a private redis-server with an append-only file). Without Redis the suite skips visibly,
 * and fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { openBullmqBackend } from '../../worker-service/src/jobs/bullmq/backend';
import { parseRedisUrl } from '../../worker-service/src/jobs/bullmq/redis-url';
import { describeWhenAvailable } from '../pst/shared-samples';
import { describeJobBackendConformance, destinationWithKey } from './conformance';
import IORedis from 'ioredis';
import { Runner } from '../../worker-service/src/jobs/runner';
import { MemoryDestination } from '../export/memory-destination';
import { deletePrefix, prefixBytes, REDIS_URL, redisMissing, redisServerMissing, startRedisServer, testPrefix } from '../faults/redis';

const missing = redisMissing();

describeWhenAvailable('bullmq backend', missing, () => {
  describeJobBackendConformance('bullmq', async () => {
    const prefix = testPrefix('conf');
    const backend = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: randomBytes(32), pollIntervalMs: 50, stalledIntervalMs: 50 });
    return {
      backend,
      rawBytes: () => prefixBytes(REDIS_URL, prefix),
      cleanup: () => deletePrefix(REDIS_URL, prefix),
    };
  });

  describe('bullmq backend: deployment', () => {
    test('the secret key is checked: another key is refused, the same key opens the secrets', async () => {
      const prefix = testPrefix('key');
      const key = randomBytes(32);
      try {
        const b1 = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: key });
        const dest = destinationWithKey();
        const p = await b1.store.createProject({ tenantId: 't', createdBy: 'u', name: 'P', destination: dest });
        await b1.close();
        await expect(openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: randomBytes(32) })).rejects.toMatchObject({ code: 'SecretKey' });
        const b2 = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: key });
        expect(await b2.store.destinationSecret(p.id)).toEqual({ accountKey: dest.accountKey });
        await b2.close();
      } finally {
        await deletePrefix(REDIS_URL, prefix);
      }
    });

    test('work hints reach another process: its idle runner (60 s poll) claims a job enqueued elsewhere at once, and a mailbox\'s next job as soon as another process completes the first', async () => {
      const prefix = testPrefix('hint');
      const key = randomBytes(32);
      const api = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: key, pollIntervalMs: 50, stalledIntervalMs: 50 });
      const workerSide = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: key, pollIntervalMs: 50, stalledIntervalMs: 50 });
      const raw = new IORedis(REDIS_URL);
      const claimed: { source: string; at: number }[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      const now = () => new Date().toISOString();
      const done = { outcome: 'Completed' as const, itemsExported: 0, bytesExported: 0, sourceBytes: 0, itemsSkipped: 0, errors: 0, parts: [], fidelity: { full: 0, rest: 0 }, startedAt: now(), finishedAt: now() };
      const runner = new Runner({
        workerId: 'w1', queue: workerSide.queue, concurrency: 2, leaseMs: 5000, heartbeatMs: 100, pollMs: 60_000,
        buildDeps: async () => ({ source: { items: async function* () { /* none */ } }, destination: new MemoryDestination() }),
        // Jobs stay running until the end of the test: no slot frees, so only hints can wake the runner.
        runExport: async (req) => { claimed.push({ source: (req.mailbox as { user: string }).user, at: Date.now() }); await held; return done; },
      });
      const waitFor = async (n: number): Promise<void> => {
        const deadline = Date.now() + 15_000;
        while (claimed.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      };
      try {
        const project = async (source: string) => {
          const p = await api.store.createProject({ tenantId: 't', createdBy: 'u', name: source, destination: destinationWithKey() });
          await api.store.addItems('t', p.id, [{ source, mailbox: 'primary', pstName: 'a.pst' }]);
          return p;
        };
        const [pa1, pa2, pb] = [await project('a@x.com'), await project('a@x.com'), await project('b@x.com')];
        // This "process" runs a@x.com's first job; the second one waits for the mailbox.
        await api.queue.enqueue({ tenantId: 't', projectId: pa1.id, action: 'full' });
        const first = await api.queue.claim('elsewhere', 10_000);
        expect(first?.item.source).toBe('a@x.com');
        await api.queue.enqueue({ tenantId: 't', projectId: pa2.id, action: 'full' });
        runner.start();
        const channel = `${prefix}:work:0`;
        for (let i = 0; i < 250 && Number((await raw.pubsub('NUMSUB', channel))[1]) < 1; i++) await new Promise((r) => setTimeout(r, 20));
        expect(Number((await raw.pubsub('NUMSUB', channel))[1])).toBeGreaterThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 300)); // its first claims found nothing (a@x.com is busy): asleep for 60 s
        expect(claimed).toEqual([]);
        const t0 = Date.now();
        await api.queue.enqueue({ tenantId: 't', projectId: pb.id, action: 'full' });
        await waitFor(1);
        expect(claimed.map((c) => c.source)).toEqual(['b@x.com']);
        expect(claimed[0].at - t0).toBeLessThan(10_000);
        const t1 = Date.now();
        expect(await api.queue.complete(first!.lease, { action: 'full', export: done })).toBe(true);
        await waitFor(2);
        expect(claimed.map((c) => c.source)).toEqual(['b@x.com', 'a@x.com']);
        expect(claimed[1].at - t1).toBeLessThan(10_000);
      } finally {
        release();
        await runner.stop();
        raw.disconnect();
        await workerSide.close();
        await api.close();
        await deletePrefix(REDIS_URL, prefix);
      }
    }, 60_000);

    test('without OUTPORT_SECRET_KEY it refuses to start (no key file: processes on several machines must share one key)', async () => {
      const saved = process.env.OUTPORT_SECRET_KEY;
      delete process.env.OUTPORT_SECRET_KEY;
      try {
        await expect(openBullmqBackend({ redis: REDIS_URL, prefix: testPrefix('nokey') })).rejects.toMatchObject({ code: 'SecretKey', message: expect.stringMatching(/OUTPORT_SECRET_KEY/) });
      } finally {
        if (saved !== undefined) process.env.OUTPORT_SECRET_KEY = saved;
      }
    });

    test('an unreachable Redis is a clear BackendFailed naming the address, not a hang', async () => {
      const t0 = Date.now();
      await expect(openBullmqBackend({ redis: 'redis://127.0.0.1:1', prefix: testPrefix('down'), secretKey: randomBytes(32) }))
        .rejects.toMatchObject({ code: 'BackendFailed', message: expect.stringMatching(/redis:\/\/127\.0\.0\.1:1\/0/) });
      expect(Date.now() - t0).toBeLessThan(15_000);
    });
  });
});

describe('parseRedisUrl', () => {
  test.each([
    ['redis://127.0.0.1:6379', { host: '127.0.0.1', port: 6379, db: 0 }, 'redis://127.0.0.1:6379/0'],
    ['redis://cache.internal', { host: 'cache.internal', port: 6379, db: 0 }, 'redis://cache.internal:6379/0'],
    ['redis://:s3cret@h:7000/2', { host: 'h', port: 7000, db: 2, password: 's3cret' }, 'redis://h:7000/2'],
    ['rediss://user:pw@h', { host: 'h', port: 6379, db: 0, username: 'user', password: 'pw' }, 'rediss://h:6379/0'],
  ])('%s', (url, options, display) => {
    const t = parseRedisUrl(url);
    expect(t.options).toMatchObject(options);
    expect(t.display).toBe(display);
    expect(t.display).not.toMatch(/s3cret|pw/);
  });

  test.each([
    ['http://h:6379', /scheme "http"/],
    ['redis://h:99999', /not a URL|port/],
    ['redis://h/abc', /database number/],
    ['localhost:6379', /scheme|not a URL/],
  ])('refuses %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  test('a password never reaches the error message', () => {
    expect(() => parseRedisUrl('redis://:topsecret@h/99')).toThrow(/^(?!.*topsecret)/);
  });
});

describeWhenAvailable('bullmq backend: Redis restart', redisServerMissing(), () => {
  test('records and queued jobs survive a restart of Redis (append-only file); calls made while it is down wait and then succeed', async () => {
    const server = await startRedisServer();
    const b = await openBullmqBackend({ redis: server.url, prefix: 'outport', secretKey: randomBytes(32), stalledIntervalMs: 100 });
    try {
      const p = await b.store.createProject({ tenantId: 't', createdBy: 'u', name: 'P', destination: destinationWithKey() });
      await b.store.addItems('t', p.id, [{ source: 'a@contoso.com', mailbox: 'primary', pstName: 'a.pst' }, { source: 'b@contoso.com', mailbox: 'primary', pstName: 'b.pst' }]);
      await b.queue.enqueue({ tenantId: 't', projectId: p.id, action: 'full' });
      const c = (await b.queue.claim('w', 60_000))!;
      await b.queue.checkpoint(c.lease).partFinished({ name: 'a.pst', index: 1, sizeBytes: 10, sha256: 'ab'.repeat(32), sourceIds: ['x'], pass: 'full' });
      const restarting = server.restart(1500);
      await new Promise((r) => setTimeout(r, 300));
      // Redis is down now: the heartbeat waits for the reconnect and then renews.
      expect(await b.queue.heartbeat(c.lease, 60_000)).toBe(true);
      await restarting;
      expect((await b.queue.checkpoint(c.lease).finishedParts()).map((x) => x.index)).toEqual([1]);
      expect(await b.queue.complete(c.lease, { action: 'full', export: { outcome: 'Completed', itemsExported: 1, bytesExported: 10, sourceBytes: 1, itemsSkipped: 0, errors: 0, parts: [], fidelity: { full: 1, rest: 0 }, startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() } })).toBe(true);
      const second = (await b.queue.claim('w', 60_000))!;
      expect(second).toBeDefined();
      expect(second.item.source).toBe('b@contoso.com');
      expect((await b.store.listItems('t', p.id)).map((i) => i.state)).toEqual(['Completed', 'Running']);
    } finally {
      await b.close();
      await server.stop();
    }
  });
});
