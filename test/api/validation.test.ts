/**
 * Must-show c (issue 4): a table of bad inputs → 400 naming the field (413 for a 10 MB body), in the
 * docs/api.md error shape; nothing is created in storage (Azurite's containers listed before and
 * after). Plus the shape rules every route shares: unknown fields, wrong JSON types (no coercion),
 * the OpenAPI document, and the log's redaction of secrets posted in a request.
 */
import { REDACTED } from '../../worker-service/src/api';
import { startApiStack, type ApiStack } from './helpers';

let s: ApiStack;
let adele: string;
let projectId: string;

beforeAll(async () => {
  s = await startApiStack({ keepAliveMs: 100, allowedOrigins: ['https://localhost:3000'] });
  adele = await s.bearer('Adele');
  const res = await s.inject({ method: 'POST', url: '/api/v1/projects', headers: { authorization: adele }, payload: { name: 'mine', destination: s.destination('validation-ok') } });
  expect(res.statusCode).toBe(201);
  projectId = res.json().id;
}, 60_000);
afterAll(async () => s?.stop());

const adeleMail = (): string => s.sb.users.find((u) => u.givenName === 'Adele')!.mail;

type Case = { name: string; url: () => string; body: unknown; contentType?: string; status: number; field: string | RegExp; rowsField?: string };

const project = (destination: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name: 'p', destination, ...extra });
const cases: Case[] = [
  { name: 'capital letters in the account name', url: () => '/api/v1/projects', body: () => project({ ...s.destination(), accountName: 'DevStoreAccount1' }), status: 400, field: 'destination.accountName' },
  { name: 'bad container name (underscore)', url: () => '/api/v1/projects', body: () => project(s.destination('bad_container')), status: 400, field: 'destination.container' },
  { name: 'bad container name (double hyphen)', url: () => '/api/v1/projects', body: () => project(s.destination('a--b')), status: 400, field: 'destination.container' },
  { name: 'two credentials', url: () => '/api/v1/projects', body: () => project({ ...s.destination(), connectionString: s.az.connectionString }), status: 400, field: /^destination\.(connectionString|accountKey|sasUrl)$/ },
  { name: 'no credential', url: () => '/api/v1/projects', body: () => project({ accountName: 'acct' }), status: 400, field: 'destination' },
  { name: 'unknown storage cloud', url: () => '/api/v1/projects', body: () => project({ ...s.destination(), storageCloud: 'mars' }), status: 400, field: 'destination.storageCloud' },
  { name: 'wrong JSON type: name a number', url: () => '/api/v1/projects', body: () => ({ name: 5, destination: s.destination() }), status: 400, field: 'name' },
  { name: 'wrong JSON type: splitSizeBytes a string', url: () => '/api/v1/projects', body: () => project(s.destination(), { options: { splitSizeBytes: '1048576' } }), status: 400, field: 'options.splitSizeBytes' },
  { name: 'wrong JSON type: destination an array', url: () => '/api/v1/projects', body: () => ({ name: 'p', destination: [] }), status: 400, field: 'destination' },
  { name: 'split size below 1 MiB', url: () => '/api/v1/projects', body: () => project(s.destination(), { options: { splitSizeBytes: 1000 } }), status: 400, field: 'options.splitSizeBytes' },
  { name: 'unknown field', url: () => '/api/v1/projects', body: () => project(s.destination(), { colour: 'red' }), status: 400, field: 'colour' },
  { name: 'missing name', url: () => '/api/v1/projects', body: () => ({ destination: s.destination() }), status: 400, field: 'name' },
  { name: 'application auth mode by a user', url: () => '/api/v1/projects', body: () => project(s.destination(), { authMode: 'application' }), status: 403, field: '' },
  { name: 'malformed JSON', url: () => '/api/v1/projects', body: '{"name": ', contentType: 'application/json', status: 400, field: 'body' },
  { name: '../x.pst', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: adeleMail(), pstName: '../x.pst' }] }), status: 400, field: 'items[0].pstName' },
  { name: 'a name without .pst', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: adeleMail(), pstName: 'adele.txt' }] }), status: 400, field: 'items[0].pstName' },
  { name: 'a Windows-reserved name', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: adeleMail(), pstName: 'CON.pst' }] }), status: 400, field: 'items[0].pstName' },
  { name: 'duplicate PST names', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: adeleMail(), pstName: 'a.pst' }, { source: adeleMail(), mailbox: 'archive', pstName: 'A.pst' }] }), status: 400, field: 'items[1].pstName' },
  { name: 'wrong JSON type: items an object', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: { source: adeleMail() } }), status: 400, field: 'items' },
  { name: 'wrong JSON type: source a number', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: 42 }] }), status: 400, field: 'items[0].source' },
  { name: 'bad mailbox kind', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [{ source: adeleMail(), mailbox: 'secondary' }] }), status: 400, field: 'items[0].mailbox' },
  { name: 'empty items list', url: () => `/api/v1/projects/${projectId}/items`, body: () => ({ items: [] }), status: 400, field: 'items' },
  { name: 'empty CSV', url: () => `/api/v1/projects/${projectId}/items/csv`, body: '', contentType: 'text/csv', status: 400, field: 'csv', rowsField: 'csv' },
  { name: 'malformed CSV (unclosed quote)', url: () => `/api/v1/projects/${projectId}/items/csv`, body: 'source,destination\n"adele@x.com,adele.pst\n', contentType: 'text/csv', status: 400, field: 'csv', rowsField: 'csv' },
  { name: 'CSV with ../x.pst', url: () => `/api/v1/projects/${projectId}/items/csv`, body: () => `${adeleMail()},../x.pst\n`, contentType: 'text/csv', status: 400, field: 'csv', rowsField: 'destination' },
  { name: 'CSV with duplicate destinations', url: () => `/api/v1/projects/${projectId}/items/csv`, body: () => `${adeleMail()},a.pst\n${adeleMail()},A.PST,archive\n`, contentType: 'text/csv', status: 400, field: 'csv', rowsField: 'destination' },
  { name: 'export without pass', url: () => `/api/v1/projects/${projectId}/actions/export`, body: {}, status: 400, field: 'pass' },
  { name: 'export prestage without olderThanDays', url: () => `/api/v1/projects/${projectId}/actions/export`, body: { pass: 'prestage' }, status: 400, field: 'olderThanDays' },
  { name: 'export with olderThanDays a string', url: () => `/api/v1/projects/${projectId}/actions/export`, body: { pass: 'prestage', olderThanDays: '30' }, status: 400, field: 'olderThanDays' },
  { name: 'delete-container with the wrong confirm', url: () => `/api/v1/projects/${projectId}/actions/delete-container`, body: { confirm: 'outport' }, status: 400, field: 'confirm' },
  { name: 'a 10 MB JSON body', url: () => '/api/v1/projects', body: () => JSON.stringify({ name: 'x'.repeat(10 * 1024 * 1024), destination: s.destination() }), contentType: 'application/json', status: 413, field: '' },
  { name: 'a 9 MB CSV', url: () => `/api/v1/projects/${projectId}/items/csv`, body: () => `${adeleMail()},a.pst\n`.repeat(Math.ceil(9 * 1024 * 1024 / (adeleMail().length + 7))), contentType: 'text/csv', status: 413, field: '' },
  { name: 'JSON sent to the CSV route', url: () => `/api/v1/projects/${projectId}/items/csv`, body: { items: [] }, status: 415, field: '' },
];

test.each(cases)('$name → $status naming $field; nothing created in storage', async (c) => {
  const before = await s.containers();
  const body = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body;
  const res = await s.inject({
    method: 'POST', url: c.url(), headers: { authorization: adele, ...(c.contentType ? { 'content-type': c.contentType } : {}) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = res.json() as { error: { code: string; message: string; field?: string; rows?: { row: number; field: string; message: string }[] } };
  expect({ status: res.statusCode, code: json.error?.code }).toEqual({
    status: c.status,
    code: { 400: 'InvalidRequest', 403: 'AdminOnly', 413: 'PayloadTooLarge', 415: 'UnsupportedMediaType' }[c.status] ?? expect.any(String),
  });
  if (c.field) {
    if (typeof c.field === 'string') expect(json.error.field).toBe(c.field);
    else expect(json.error.field).toMatch(c.field);
    expect(json.error.message.length).toBeGreaterThan(10);
  }
  if (c.rowsField) expect(json.error.rows?.map((r) => r.field)).toContain(c.rowsField);
  expect(await s.containers()).toEqual(before);
  // Nothing added to the project either.
  const items = await s.inject({ method: 'GET', url: `/api/v1/projects/${projectId}/items`, headers: { authorization: adele } });
  expect(items.json().value).toEqual([]);
});

test('the error body names the field for a bad destination in PATCH too, and the project keeps its destination', async () => {
  const res = await s.inject({ method: 'PATCH', url: `/api/v1/projects/${projectId}`, headers: { authorization: adele }, payload: { destination: { ...s.destination(), accountName: 'Capital' } } });
  expect(res.statusCode).toBe(400);
  expect(res.json().error).toMatchObject({ code: 'InvalidRequest', field: 'destination.accountName', message: expect.stringMatching(/capital|lowercase/i) });
  const p = await s.inject({ method: 'GET', url: `/api/v1/projects/${projectId}`, headers: { authorization: adele } });
  expect(p.json().destination).toEqual({ accountName: 'devstoreaccount1', container: 'validation-ok', storageCloud: 'custom', blobEndpoint: s.az.blobEndpoint, credential: 'accountKey' });
});

test('a good CSV adds the rows (header optional, addresses case-insensitive); the secret never comes back', async () => {
  const other = await s.inject({ method: 'POST', url: '/api/v1/projects', headers: { authorization: adele }, payload: { name: 'csv', destination: s.destination('csv-project') } });
  const id = other.json().id;
  const res = await s.inject({ method: 'POST', url: `/api/v1/projects/${id}/items/csv`, headers: { authorization: adele, 'content-type': 'text/csv' }, payload: `source,destination\n${adeleMail().toUpperCase()},adele.pst\n${adeleMail()},adele-archive.pst,archive\n` });
  expect(res.statusCode).toBe(201);
  expect(res.json().value.map((i: { mailbox: string; pstName: string; state: string }) => [i.mailbox, i.pstName, i.state])).toEqual([['primary', 'adele.pst', 'NotStarted'], ['archive', 'adele-archive.pst', 'NotStarted']]);
  expect(other.body).not.toContain(s.az.accountKey);
  const list = await s.inject({ method: 'GET', url: '/api/v1/projects', headers: { authorization: adele } });
  expect(list.body).not.toContain(s.az.accountKey);
});

test('the log holds no secret posted in a request (account key, connection string, SAS signature, bearer token)', async () => {
  const sig = 'c2VjcmV0LXNpZ25hdHVyZS1mb3ItdGVzdGluZw%3D%3D';
  const sasUrl = `${s.az.blobEndpoint}/sas-container?sv=2023-11-03&sr=c&sp=racwdl&se=2030-01-01T00%3A00%3A00Z&sig=${sig}`;
  const connectionString = s.az.connectionString;
  // A request whose path carries a sig= (logged as the URL), one with each credential form, one refused.
  await s.inject({ method: 'GET', url: `/api/v1/projects?sig=${sig}`, headers: { authorization: adele } });
  await s.inject({ method: 'POST', url: '/api/v1/projects', headers: { authorization: adele }, payload: project({ sasUrl, storageCloud: 'custom', blobEndpoint: s.az.blobEndpoint }) });
  await s.inject({ method: 'POST', url: '/api/v1/projects', headers: { authorization: adele }, payload: project({ connectionString, container: 'Bad_Name' }) });
  await s.inject({ method: 'POST', url: '/api/v1/projects', headers: { authorization: adele }, payload: project({ ...s.destination(), accountName: 'UPPER' }) });
  await s.inject({ method: 'GET', url: '/api/v1/projects', headers: { authorization: 'Bearer not.a.token' } });
  s.app.log.info({ destination: { accountKey: s.az.accountKey, sasUrl }, msg2: `Bearer ${adele.slice(7)}` }, `a careless line with AccountKey=${s.az.accountKey}; and ${sasUrl}`);
  const all = s.logs.join('');
  expect(all.length).toBeGreaterThan(500);
  for (const secret of [s.az.accountKey, s.az.accountKey.slice(0, 20), sig, decodeURIComponent(sig), adele.slice(7), adele.slice(7).split('.')[2]]) {
    expect(all).not.toContain(secret);
  }
  expect(all).toContain(REDACTED);
});

test('OpenAPI 3 at /api/v1/openapi.json (no token needed) describes every route of docs/api.md', async () => {
  const res = await s.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  expect(res.statusCode).toBe(200);
  const doc = res.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
  expect(doc.openapi).toMatch(/^3\./);
  const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  expect(routes).toEqual(expect.arrayContaining([
    'GET /api/v1/config', 'GET /api/v1/health', 'GET /api/v1/me', 'GET /api/v1/users',
    'POST /api/v1/projects', 'GET /api/v1/projects', 'GET /api/v1/projects/{projectId}', 'PATCH /api/v1/projects/{projectId}', 'DELETE /api/v1/projects/{projectId}',
    'POST /api/v1/projects/{projectId}/items', 'POST /api/v1/projects/{projectId}/items/csv', 'GET /api/v1/projects/{projectId}/items',
    'DELETE /api/v1/projects/{projectId}/items/{itemId}',
    'POST /api/v1/projects/{projectId}/actions/verify', 'POST /api/v1/projects/{projectId}/actions/export', 'POST /api/v1/projects/{projectId}/actions/retry-errors',
    'POST /api/v1/projects/{projectId}/actions/cancel', 'POST /api/v1/projects/{projectId}/actions/delete-container', 'POST /api/v1/projects/{projectId}/auth',
    'GET /api/v1/projects/{projectId}/progress', 'GET /api/v1/projects/{projectId}/events', 'GET /api/v1/projects/{projectId}/statistics',
    'GET /api/v1/projects/{projectId}/items/{itemId}/errors', 'GET /api/v1/projects/{projectId}/items/{itemId}/parts',
  ]));
  const post = doc.paths['/api/v1/projects'].post as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } };
  expect(Object.keys(post.requestBody.content['application/json'].schema.properties)).toEqual(['name', 'authMode', 'destination', 'options']);
  const health = await s.inject({ method: 'GET', url: '/api/v1/health' });
  expect(health.json()).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  const cfg = await s.inject({ method: 'GET', url: '/api/v1/config' });
  expect(cfg.json()).toEqual({ tenantId: s.sb.tenantId, authorityUrl: s.sb.authorityUrl, clientId: s.sb.clientId, apiScope: `api://${s.sb.clientId}/access_as_user`, cloud: 'custom', sandbox: true, sandboxSignIn: { tokenUrl: s.sb.signInTokenUrl } });
});

test('events: text/event-stream with the current progress, keep-alive comments; an open stream does not hold up close()', async () => {
  const ac = new AbortController();
  const res = await fetch(`${s.baseUrl}/api/v1/projects/${projectId}/events`, { headers: { authorization: adele }, signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  while (!/: keep-alive\n\n[\s\S]*: keep-alive\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  expect(text.startsWith(': connected\n\n')).toBe(true);
  // Another user cannot follow Adele's project.
  expect((await fetch(`${s.baseUrl}/api/v1/projects/${projectId}/events`, { headers: { authorization: await s.bearer('Megan') } })).status).toBe(404);
  // left open on purpose: afterAll's app.close() must end it (preClose) instead of waiting for it
});

test('CORS only for the configured origin: preflight without a token, the allow-origin header on answers', async () => {
  const pre = await fetch(`${s.baseUrl}/api/v1/projects`, { method: 'OPTIONS', headers: { origin: 'https://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  expect(pre.status).toBe(204);
  expect(pre.headers.get('access-control-allow-origin')).toBe('https://localhost:3000');
  expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
  const get = await fetch(`${s.baseUrl}/api/v1/projects`, { headers: { origin: 'https://localhost:3000', authorization: adele } });
  expect([get.status, get.headers.get('access-control-allow-origin')]).toEqual([200, 'https://localhost:3000']);
  const evil = await fetch(`${s.baseUrl}/api/v1/projects`, { headers: { origin: 'https://evil.example', authorization: adele } });
  expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  const evilPre = await fetch(`${s.baseUrl}/api/v1/projects`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  expect(evilPre.headers.get('access-control-allow-origin')).toBeNull();
});
