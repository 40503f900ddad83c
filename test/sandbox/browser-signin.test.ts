/**
 * The sandbox's browser sign-in (docs/sandbox.md "Signing in from a browser"): with its HTTPS
 * authority on (as `outport start` runs it), the plain-HTTP listener's token endpoint answers a
 * page's CORS preflight and password grant with `Access-Control-Allow-Origin`, and its tokens carry
 * the HTTPS authority's issuer, so the worker API's validation (trusting only the tenant config's
 * authority and certificate) accepts them. The seeded admin's tokens carry the Exchange Administrator
 * `wids` and make it an admin of the worker API; a test user's do not. The tenant config names the
 * sign-in URL and the admin; the admin's mailbox leaves the others' mail as it was.
 */
import { decodeJwt } from 'jose';
import { clearAuthMetadataCache, isAdmin, validateBearerToken, type ApiAuthConfig } from '../../worker-service/src/api/auth';
import { checkTenantConfig, TenantConfigError } from '../../worker-service/src/graph/tenant-client';
import { EXCHANGE_ADMINISTRATOR_ROLE, mailboxFolders, sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';

const MAIL_LIMIT = 30;
const ORIGIN = 'http://127.0.0.1:7071';
let sb: SandboxHandle;
let auth: ApiAuthConfig;

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: MAIL_LIMIT, https: true });
  auth = { tenantId: sb.tenantId, clientId: sb.clientId, authorityUrl: sb.authorityUrl, caCertificate: sb.caCertificate };
});
afterAll(async () => sb?.stop());
beforeEach(() => clearAuthMetadataCache());

const admin = () => sb.users.find((u) => u.directoryRoles?.length)!;
const adele = () => sb.users.find((u) => u.givenName === 'Adele')!;

/** The password grant as the add-in's sandbox sign-in sends it, from a page of origin ORIGIN. */
const passwordGrant = (username: string, password: string): Promise<Response> => fetch(sb.signInTokenUrl, {
  method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'password', client_id: sb.clientId, scope: `api://${sb.clientId}/access_as_user`, username, password }).toString(),
});

test('the sign-in URL is the plain-HTTP listener\'s token endpoint, not the HTTPS authority', () => {
  expect(sb.authorityUrl).toMatch(/^https:/);
  expect(sb.signInTokenUrl).toBe(`${sb.url}/${sb.tenantId}/oauth2/v2.0/token`);
  expect(sb.signInTokenUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
});

test('CORS preflight of the token endpoint: 204 allowing any origin, POST and content-type', async () => {
  const res = await fetch(sb.signInTokenUrl, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
  expect(res.status).toBe(204);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('access-control-allow-methods')).toMatch(/\bPOST\b/);
  expect(res.headers.get('access-control-allow-headers')?.split(/,\s*/)).toContain('content-type');
  expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
});

test('password grant over plain HTTP: CORS answer, the HTTPS authority\'s issuer, accepted by the worker API\'s validation; a test user is no admin', async () => {
  const res = await passwordGrant(adele().userPrincipalName, adele().password);
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const { access_token: token } = (await res.json()) as { access_token: string };
  expect(decodeJwt(token)).toMatchObject({ iss: `${sb.authorityUrl}/${sb.tenantId}/v2.0`, aud: `api://${sb.clientId}`, oid: adele().id, scp: 'access_as_user' });
  expect(decodeJwt(token).wids).toBeUndefined();
  const id = await validateBearerToken(`Bearer ${token}`, auth);
  expect(id.oid).toBe(adele().id);
  expect(isAdmin(id, auth)).toBe(false);
  // The metadata a browser library would read is CORS-readable too, and names the same issuer.
  const meta = await fetch(`${sb.url}/${sb.tenantId}/v2.0/.well-known/openid-configuration`, { headers: { origin: ORIGIN } });
  expect(meta.headers.get('access-control-allow-origin')).toBe('*');
  expect(((await meta.json()) as { issuer: string }).issuer).toBe(`${sb.authorityUrl}/${sb.tenantId}/v2.0`);
});

test('a wrong password is AADSTS50126 invalid_grant, readable by the page (CORS header on the error too)', async () => {
  const res = await passwordGrant(adele().userPrincipalName, 'not-the-password');
  expect(res.status).toBe(400);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(await res.json()).toMatchObject({ error: 'invalid_grant', error_codes: [50126] });
});

test('the seeded admin signs in with its password; its token carries the Exchange Administrator wids and makes it an admin of the worker API', async () => {
  const a = admin();
  expect(a).toMatchObject({ displayName: 'Outport Admin', inactive: false, password: 'Outport-sandbox-1' });
  expect(a.directoryRoles).toEqual([EXCHANGE_ADMINISTRATOR_ROLE]);
  expect(EXCHANGE_ADMINISTRATOR_ROLE.roleTemplateId).toBe('29232cdf-9323-42fd-ade2-1d097af3e4de');
  const res = await passwordGrant(a.userPrincipalName, a.password);
  expect(res.status).toBe(200);
  const { access_token: token } = (await res.json()) as { access_token: string };
  expect(decodeJwt(token).wids).toEqual(['29232cdf-9323-42fd-ade2-1d097af3e4de']);
  const id = await validateBearerToken(`Bearer ${token}`, auth);
  expect(isAdmin(id, auth)).toBe(true);
  // Only the admin has a directory role.
  expect(sb.users.filter((u) => u.directoryRoles?.length)).toEqual([a]);
});

test('the admin\'s mailbox: a primary with PIM items and no corpus mail, so the other mailboxes hold all the mail they held before', () => {
  const a = admin();
  expect(a.primary).toBeDefined();
  expect(a.archive).toBeUndefined();
  const items = mailboxFolders(a.primary!).flatMap((f) => f.items);
  expect(items.length).toBeGreaterThan(0);
  expect(items.every((i) => i.corpusKey === undefined)).toBe(true);
  const corpus = sb.tenant.mailboxes().flatMap((mb) => mailboxFolders(mb).filter((f) => f.home === mb).flatMap((f) => f.items)).filter((i) => i.corpusKey);
  expect(new Set(corpus.map((i) => i.corpusKey)).size).toBe(MAIL_LIMIT);
  expect(corpus.every((i) => i.folder.home.owner !== a)).toBe(true);
  // Five users with mailboxes besides the admin, one inactive, as before.
  expect(sb.users.filter((u) => u.primary && u !== a)).toHaveLength(5);
  expect(sb.users.filter((u) => u.inactive)).toHaveLength(1);
});

test('tenant config: sandboxSignIn.tokenUrl and the admin with its password and role; checkTenantConfig keeps them and refuses a bad tokenUrl naming the field', () => {
  const config = sandboxTenantConfig(sb);
  expect(config.sandboxSignIn).toEqual({ tokenUrl: sb.signInTokenUrl });
  const a = config.users.find((u) => u.id === admin().id)!;
  expect(a).toMatchObject({ displayName: 'Outport Admin', password: 'Outport-sandbox-1', directoryRoles: [{ displayName: 'Exchange Administrator', roleTemplateId: '29232cdf-9323-42fd-ade2-1d097af3e4de' }] });
  expect(config.users.filter((u) => u.directoryRoles)).toHaveLength(1);
  expect(checkTenantConfig(JSON.parse(JSON.stringify(config))).sandboxSignIn).toEqual({ tokenUrl: sb.signInTokenUrl });
  expect(() => checkTenantConfig({ ...config, sandboxSignIn: { tokenUrl: 'ftp://x' } })).toThrow(TenantConfigError);
  expect(() => checkTenantConfig({ ...config, sandboxSignIn: 'http://x' })).toThrow(/"sandboxSignIn\.tokenUrl" must be an http\(s\) URL/);
});
