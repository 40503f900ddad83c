/**
 * Issue 6 "Must show" e: hostile input to the worker API, on the stateless API over the BullMQ
 * backend (what `outport serve --queue redis://…` runs): fuzzed JSON bodies (fast-check), oversized
 * bodies, wrong types, forged tokens (alg none, HS256 signed with the tenant's public key, unknown
 * kid, expired, another tenant), traversal names and paths, and CSV formula injection through the
 * exported statistics. Every answer is a clear 4xx in docs/api.md's error shape (or a 2xx for a
 * body that happens to be valid) — never a 5xx — and Azurite's containers are the same before and
 * after (no storage writes). The bad-input table of test/api/validation.test.ts is the layer below.
 */
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import type { FastifyInstance } from 'fastify';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { buildApi, graphAccessForTenant } from '../../worker-service/src/api';
import { clearAuthMetadataCache } from '../../worker-service/src/api/auth';
import { checkTenantConfig } from '../../worker-service/src/graph/tenant-client';
import { openBullmqBackend, type BullmqBackend } from '../../worker-service/src/jobs/bullmq/backend';
import { sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';
import { ADMIN_CLAIMS, httpInject, type InjectRequest, type InjectResponse } from '../api/helpers';
import { azuriteAvailable, startAzurite, type AzuriteInstance } from '../harness/azurite';
import { describeWhenAvailable } from '../pst/shared-samples';
import { recordFigures } from './cluster';
import { deletePrefix, REDIS_URL, redisMissing, testPrefix } from './redis';

jest.setTimeout(300_000);

const missing = [...redisMissing(), ...(azuriteAvailable() ? [] : ['node_modules/.bin/azurite-blob'])];
const RUNS = Number(process.env.OUTPORT_FAULTS_FUZZ_RUNS ?? 150);

describeWhenAvailable('faults: hostile input to the API (BullMQ backend)', missing, () => {
  let sb: SandboxHandle;
  let az: AzuriteInstance;
  let backend: BullmqBackend;
  let app: FastifyInstance;
  let baseUrl: string;
  let prefix: string;
  let admin: string;
  let adele: string;
  let projectId: string;
  const counts = { requests: 0, status4xx: 0, status2xx: 0, status5xx: 0 };
  const byStatus: Record<number, number> = {};

  const blob = () => new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey));
  async function containers(): Promise<string[]> {
    const names: string[] = [];
    for await (const c of blob().listContainers()) names.push(c.name);
    return names.sort();
  }
  const destination = (container = 'hostile') => ({ accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: az.blobEndpoint, container });
  const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
  async function bearer(given: string, claims: Record<string, unknown> = {}): Promise<string> {
    const u = user(given);
    return `Bearer ${await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: u.id, upn: u.userPrincipalName, preferred_username: u.userPrincipalName, name: u.displayName, scp: 'access_as_user', ...claims })}`;
  }

  /** Sends, then checks the invariant: no 5xx; a 4xx carries {error: {code, message}}. */
  async function send(req: InjectRequest): Promise<InjectResponse> {
    const res = await httpInject(baseUrl, req);
    counts.requests++;
    byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
    if (res.statusCode >= 500) {
      counts.status5xx++;
      throw new Error(`${req.method} ${req.url} → ${res.statusCode}: ${res.body.slice(0, 500)}`);
    }
    if (res.statusCode === 414) {
      // Fastify's own "URI too long" (a path parameter over its maxParamLength) answers before the
      // API's error handler, so its body is not docs/api.md's shape; a clear 4xx all the same.
      counts.status4xx++;
    } else if (res.statusCode >= 400) {
      counts.status4xx++;
      const body = res.json() as { error?: { code?: string; message?: string } };
      expect(typeof body.error?.code).toBe('string');
      expect((body.error?.message ?? '').length).toBeGreaterThan(5);
    } else counts.status2xx++;
    return res;
  }

  beforeAll(async () => {
    [sb, az] = await Promise.all([startSandbox({ mailLimit: 10, https: true }), startAzurite()]);
    prefix = testPrefix('hostile');
    backend = await openBullmqBackend({ redis: REDIS_URL, prefix, secretKey: randomBytes(32) });
    const tenant = checkTenantConfig(sandboxTenantConfig(sb));
    clearAuthMetadataCache();
    const graph = graphAccessForTenant(tenant, { retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetries: 2 } });
    app = await buildApi(
      { auth: { tenantId: sb.tenantId, clientId: sb.clientId, authorityUrl: sb.authorityUrl, caCertificate: sb.caCertificate }, publicConfig: { authorityUrl: sb.authorityUrl, cloud: 'custom', sandbox: true }, logger: false },
      { backend, graph },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    admin = await bearer('Megan', ADMIN_CLAIMS);
    adele = await bearer('Adele');
    const res = await send({ method: 'POST', url: '/api/v1/projects', headers: { authorization: admin }, payload: { name: 'hostile', destination: destination() } });
    expect(res.statusCode).toBe(201);
    projectId = res.json().id;
  }, 120_000);

  afterAll(async () => {
    recordFigures({ test: 'e', requests: counts.requests, status_2xx: counts.status2xx, status_4xx: counts.status4xx, status_5xx: counts.status5xx, by_status: Object.entries(byStatus).map(([k, v]) => `${k}:${v}`).join(',') });
    await app?.close().catch(() => undefined);
    await backend?.close().catch(() => undefined);
    if (prefix) await deletePrefix(REDIS_URL, prefix);
    await Promise.all([sb?.stop().catch(() => undefined), az?.stop().catch(() => undefined)]);
  });

  test('fuzzed JSON bodies on every write route: never a 5xx, never a storage write', async () => {
    const before = await containers();
    const routes: [string, () => string][] = [
      ['POST', () => '/api/v1/projects'],
      ['PATCH', () => `/api/v1/projects/${projectId}`],
      ['POST', () => `/api/v1/projects/${projectId}/items`],
      ['POST', () => `/api/v1/projects/${projectId}/actions/export`],
      ['POST', () => `/api/v1/projects/${projectId}/actions/verify`],
      ['POST', () => `/api/v1/projects/${projectId}/actions/cancel`],
      ['POST', () => `/api/v1/projects/${projectId}/actions/retry-errors`],
      ['POST', () => `/api/v1/projects/${projectId}/actions/delete-container`],
    ];
    const value = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.array(fc.jsonValue(), { maxLength: 3 }));
    const shaped = fc.record({
      name: value, authMode: fc.oneof(value, fc.constantFrom('delegated', 'application')),
      destination: fc.oneof(value, fc.record({ accountName: value, accountKey: value, container: value, storageCloud: value, blobEndpoint: value, sasUrl: value }, { requiredKeys: [] })),
      options: fc.oneof(value, fc.record({ splitSizeBytes: value, maxConcurrentExports: value, itemTypes: value, dateRange: value }, { requiredKeys: [] })),
      items: fc.oneof(value, fc.array(fc.record({ source: value, mailbox: value, pstName: value }, { requiredKeys: [] }), { maxLength: 3 })),
      pass: fc.oneof(value, fc.constantFrom('full', 'prestage', 'incremental')), itemIds: value, olderThanDays: value, confirm: value,
      ['__proto__']: value, constructor: value,
    }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(shaped, fc.jsonValue()), fc.boolean(), async ([method, url], body, raw) => {
      // raw: the JSON text cut short or with garbage appended, as a broken client sends it
      const text = JSON.stringify(body) ?? 'null';
      const payload = raw ? text.slice(0, Math.max(0, text.length - 1)) + '\u0000' : text;
      await send({ method, url: url(), headers: { authorization: admin, 'content-type': 'application/json' }, payload });
    }), { numRuns: RUNS, seed: 6 });
    expect(await containers()).toEqual(before);
  });

  test('oversized bodies and wrong content types: 413 / 415, nothing stored', async () => {
    const before = await containers();
    const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), destination: destination() });
    expect((await send({ method: 'POST', url: '/api/v1/projects', headers: { authorization: admin, 'content-type': 'application/json' }, payload: big })).statusCode).toBe(413);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect((await send({ method: 'POST', url: '/api/v1/projects', headers: { authorization: admin, 'content-type': 'application/json' }, payload: deep })).statusCode).toBe(400);
    const csv = 'a@contoso.com,a.pst\n'.repeat(500_000);
    expect((await send({ method: 'POST', url: `/api/v1/projects/${projectId}/items/csv`, headers: { authorization: admin, 'content-type': 'text/csv' }, payload: csv })).statusCode).toBe(413);
    expect((await send({ method: 'POST', url: '/api/v1/projects', headers: { authorization: admin, 'content-type': 'application/xml' }, payload: '<x/>' })).statusCode).toBe(415);
    expect(await containers()).toEqual(before);
  });

  test('forged tokens: alg none, HS256 with the public key, unknown kid, expired, another tenant → 401, nothing stored', async () => {
    const before = await containers();
    const valid = (await bearer('Adele')).slice(7);
    const [, payload] = valid.split('.');
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const publicPem = createPublicKey({ key: sb.issuer.jwks().keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const foreign = await generateKeyPair('RS256');
    const claims = decodeJwt(valid);
    const u = user('Adele');
    const forged: [string, string][] = [
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`],
      ['HS256 signed with the public key', await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: sb.issuer.kid }).sign(new TextEncoder().encode(publicPem))],
      ['unknown kid', await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: randomUUID() }).sign(foreign.privateKey)],
      ['expired', await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: u.id, upn: u.userPrincipalName, scp: 'access_as_user' }, { issuedAtSec: Math.floor(Date.now() / 1000) - 7200, lifetimeSec: 3600 })],
      ['another tenant', await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: u.id, upn: u.userPrincipalName, scp: 'access_as_user', tid: randomUUID() })],
      ['garbage', 'not.a.jwt'],
    ];
    for (const [name, token] of forged) {
      for (const req of [
        { method: 'POST', url: '/api/v1/projects', payload: { name: 'forged', destination: destination('forged') } },
        { method: 'POST', url: `/api/v1/projects/${projectId}/actions/export`, payload: { pass: 'full' } },
        { method: 'GET', url: `/api/v1/projects/${projectId}/statistics?format=csv` },
      ]) {
        const res = await send({ ...req, headers: { authorization: `Bearer ${token}` } });
        expect({ name, status: res.statusCode }).toEqual({ name, status: 401 });
        expect(res.body).not.toContain(token.split('.')[2] || token);
      }
    }
    expect(await containers()).toEqual(before);
    expect((await backend.store.listProjects(sb.tenantId)).map((p) => p.name)).toEqual(['hostile']);
  });

  test('traversal in PST names and in path parameters: 400 / 404, nothing stored', async () => {
    const before = await containers();
    const mail = user('Adele').mail;
    // ("%2e%2e%2fx.pst" is no traversal: the blob is named with those characters, the SDK escapes them in the URL.)
    for (const pstName of ['../x.pst', '..\\x.pst', 'a/b.pst', '/etc/passwd.pst', 'C:\\x.pst', '.pst', 'x.pst\u0000.txt', '..', 'a/../../b.pst']) {
      const res = await send({ method: 'POST', url: `/api/v1/projects/${projectId}/items`, headers: { authorization: admin }, payload: { items: [{ source: mail, pstName }] } });
      expect({ pstName, status: res.statusCode, field: res.json().error?.field }).toEqual({ pstName, status: 400, field: 'items[0].pstName' });
    }
    for (const url of [
      '/api/v1/projects/..%2F..%2Fconfig', `/api/v1/projects/${projectId}/items/..%2F..%2F..`, '/api/v1/projects/%00', `/api/v1/projects/${projectId}%2F..%2F..`,
      `/api/v1/projects/${'a'.repeat(5000)}`, '/api/v1/../../etc/passwd',
    ]) {
      const res = await send({ method: 'GET', url, headers: { authorization: admin } });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    expect(await containers()).toEqual(before);
  });

  test('CSV formula injection: statistics cells beginning with = + - @ are escaped', async () => {
    let added = 0;
    for (const [i, source] of ['=HYPERLINK(x)@contoso.com', '+SUM(1)@contoso.com', '-2+3@contoso.com', '=cmd|x@contoso.com', '@x@contoso.com'].entries()) {
      const res = await send({ method: 'POST', url: `/api/v1/projects/${projectId}/items`, headers: { authorization: admin }, payload: { items: [{ source, pstName: `formula${i}.pst` }] } });
      if (res.statusCode === 201) added++;
    }
    // Whatever the address rules let in must come out escaped.
    const csv = await send({ method: 'GET', url: `/api/v1/projects/${projectId}/statistics?format=csv`, headers: { authorization: admin } });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const cells = csv.body.split(/\r\n/).slice(1).filter(Boolean).flatMap((line) => line.split(','));
    const formulaCells = cells.filter((c) => /^"?[=+\-@\t\r]/.test(c));
    recordFigures({ test: 'e-csv', items_with_formula_sources: added, formula_cells_unescaped: formulaCells.length });
    expect(added).toBeGreaterThanOrEqual(4);
    expect(formulaCells).toEqual([]);
    expect(csv.body).toMatch(/'(=|\+|-)/);
  });
});
