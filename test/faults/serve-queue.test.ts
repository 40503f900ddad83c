/**
 * `outport serve --queue redis://…` (cli/serve.ts startServer with `queue`): the API alone over the
 * BullMQ backend — no runner in the process — and stateless: two API processes' worth (two servers
 * on one Redis prefix) answer the same projects, whichever one took the request. Needs Redis
 * (127.0.0.1:6379); skips visibly without it, fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clearAuthMetadataCache } from '../../worker-service/src/api/auth';
import { startServer, type ServerHandle } from '../../worker-service/src/cli/serve';
import { checkTenantConfig } from '../../worker-service/src/graph/tenant-client';
import { sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';
import { httpInject } from '../api/helpers';
import { describeWhenAvailable } from '../pst/shared-samples';
import { deletePrefix, REDIS_URL, redisMissing, testPrefix } from './redis';

jest.setTimeout(120_000);

describeWhenAvailable('outport serve --queue: the API alone, stateless, over BullMQ', redisMissing(), () => {
  let sb: SandboxHandle;
  const servers: ServerHandle[] = [];
  const prefix = testPrefix('serve');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outport-serve-queue-'));
  const savedKey = process.env.OUTPORT_SECRET_KEY;

  beforeAll(async () => {
    process.env.OUTPORT_SECRET_KEY = randomBytes(32).toString('base64');
    sb = await startSandbox({ mailLimit: 10, https: true });
    clearAuthMetadataCache();
    const tenant = checkTenantConfig(sandboxTenantConfig(sb));
    for (let i = 0; i < 2; i++) servers.push(await startServer({ tenant, dataDir: path.join(dir, String(i)), port: 0, queue: REDIS_URL, prefix, logger: false }));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await sb?.stop();
    await deletePrefix(REDIS_URL, prefix);
    rmSync(dir, { recursive: true, force: true });
    if (savedKey === undefined) delete process.env.OUTPORT_SECRET_KEY; else process.env.OUTPORT_SECRET_KEY = savedKey;
  });

  test('a project made through one API process is read, changed and enqueued through another; no runner claims it', async () => {
    const adele = sb.users.find((u) => u.givenName === 'Adele')!;
    const auth = { authorization: `Bearer ${await sb.userAssertion(adele.mail)}` };
    const [a, b] = servers;
    expect(a.worker).toBeUndefined();
    expect(a.backend.kind).toBe('bullmq');
    const created = await httpInject(a.url, { method: 'POST', url: '/api/v1/projects', headers: auth, payload: {
      name: 'stateless', destination: { accountName: 'devstoreaccount1', accountKey: randomBytes(64).toString('base64'), storageCloud: 'custom', blobEndpoint: 'http://127.0.0.1:1/devstoreaccount1', container: 'stateless' },
    } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const read = await httpInject(b.url, { method: 'GET', url: `/api/v1/projects/${id}`, headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.json().name).toBe('stateless');
    const items = await httpInject(b.url, { method: 'POST', url: `/api/v1/projects/${id}/items`, headers: auth, payload: { items: [{ source: adele.mail }] } });
    expect(items.statusCode).toBe(201);
    const queued = await httpInject(a.url, { method: 'POST', url: `/api/v1/projects/${id}/actions/export`, headers: auth, payload: { pass: 'full' } });
    expect(queued.statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 1500));
    const list = await httpInject(b.url, { method: 'GET', url: `/api/v1/projects/${id}/items`, headers: auth });
    expect(list.json().value.map((i: { state: string }) => i.state)).toEqual(['Queued']);
  });
});
