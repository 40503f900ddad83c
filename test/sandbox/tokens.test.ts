/**
 * The sandbox's token service and Graph-side validation, over real HTTP and through Outport's
 * GraphClient: client credentials and OBO tokens, audience / issuer / expiry / signature checks,
 * a delegated token limited to its own user's mailboxes, app-only tokens needing roles, and Graph's
 * error body shapes.
 */
import { decodeJwt, SignJWT, generateKeyPair } from 'jose';
import { GraphError, getMailboxIds, walkFolders } from '../../worker-service/src/graph';
import { startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';
import { appToken, oboToken, sandboxClient, tokenRequest } from './helpers';

let sb: SandboxHandle;
const limited = { clientId: '11111111-2222-4333-8444-555555555555', clientSecret: 'limited-secret', displayName: 'limited', roles: ['User.Read.All'], delegatedScopes: ['User.Read'] };

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: 60, extraApps: [limited] });
});
afterAll(async () => sb?.stop());

const user = (given: string) => sb.users.find((u) => u.givenName === given)!;

async function graphFailure(p: Promise<unknown>): Promise<GraphError> {
  try { await p; } catch (err) { if (err instanceof GraphError) return err; throw err; }
  throw new Error('expected a GraphError');
}

test('OpenID metadata and JWKS describe the issuer that signs the tokens', async () => {
  const meta = await (await fetch(`${sb.authorityUrl}/${sb.tenantId}/v2.0/.well-known/openid-configuration`)).json() as Record<string, string>;
  expect(meta.issuer).toBe(`${sb.authorityUrl}/${sb.tenantId}/v2.0`);
  expect(meta.token_endpoint).toBe(`${sb.authorityUrl}/${sb.tenantId}/oauth2/v2.0/token`);
  const jwks = await (await fetch(meta.jwks_uri)).json() as { keys: { kid: string; kty: string; alg: string }[] };
  expect(jwks.keys).toHaveLength(1);
  expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
  const claims = decodeJwt(await appToken(sb));
  expect(claims).toMatchObject({ iss: meta.issuer, aud: sb.graphUrl, tid: sb.tenantId, idtyp: 'app', appid: sb.clientId });
  expect(claims.roles).toEqual(expect.arrayContaining(['MailboxItem.Export.All', 'MailboxFolder.Read.All', 'MailboxItem.Read.All', 'User.Read.All', 'Mail.Read']));
});

test('token endpoint refuses a wrong secret, a non-.default client-credentials scope and an unknown tenant (AADSTS errors)', async () => {
  const bad = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: sb.clientId, client_secret: 'nope', scope: `${sb.graphUrl}/.default` });
  expect(bad.status).toBe(401);
  expect(bad.body).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
  const scope = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: sb.clientId, client_secret: sb.clientSecret, scope: `${sb.graphUrl}/Mail.Read` });
  expect(scope.body.error).toBe('invalid_scope');
  const res = await fetch(`${sb.authorityUrl}/not-a-tenant/oauth2/v2.0/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
  expect(res.status).toBe(400);
});

test('OBO: the add-in assertion becomes a delegated Graph token; an expired assertion is AADSTS500133', async () => {
  const token = await oboToken(sb, user('Adele').mail);
  const claims = decodeJwt(token);
  expect(claims).toMatchObject({ aud: sb.graphUrl, idtyp: 'user', oid: user('Adele').id, upn: user('Adele').userPrincipalName });
  expect(String(claims.scp).split(' ')).toEqual(expect.arrayContaining(['MailboxItem.Export', 'Mail.Read', 'User.Read']));
  const expired = await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: user('Adele').id, scp: 'access_as_user', idtyp: 'user' }, { issuedAtSec: Math.floor(Date.now() / 1000) - 7200, lifetimeSec: 3600 });
  const r = await tokenRequest(sb, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: sb.clientId, client_secret: sb.clientSecret, assertion: expired, requested_token_use: 'on_behalf_of', scope: `${sb.graphUrl}/.default` });
  expect(r.body).toMatchObject({ error: 'invalid_grant', error_codes: [500133] });
  // A Graph token is not a valid assertion for the worker API (wrong audience).
  const r2 = await tokenRequest(sb, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: sb.clientId, client_secret: sb.clientSecret, assertion: token, requested_token_use: 'on_behalf_of', scope: `${sb.graphUrl}/.default` });
  expect(r2.body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] });
});

test('a delegated token reaches its own primary and archive, and is refused 403 on another user\'s mailbox', async () => {
  const adele = user('Adele');
  const megan = user('Megan');
  const client = sandboxClient(sb, await oboToken(sb, adele.mail));
  const ids = await getMailboxIds(client, adele.mail);
  expect(ids).toEqual({ primaryMailboxId: adele.primary!.id, inPlaceArchiveMailboxId: adele.archive!.id });
  const folders = [];
  for await (const f of walkFolders(client, ids.inPlaceArchiveMailboxId!)) folders.push(f.displayName);
  expect(folders).toContain('Inbox');
  const err = await graphFailure(client.get(`/admin/exchange/mailboxes/${megan.primary!.id}/folders`));
  expect(err.statusCode).toBe(403);
  expect(err.code).toBe('ErrorAccessDenied');
  const err2 = await graphFailure(client.post(`/admin/exchange/mailboxes/${megan.archive!.id}/exportItems`, { itemIds: ['x'] }));
  expect(err2.statusCode).toBe(403);
  const err3 = await graphFailure(client.get(`/users/${megan.id}/messages`));
  expect(err3.statusCode).toBe(403);
  // /me works with a delegated token.
  expect((await client.get<{ mail: string }>('/me')).mail).toBe(adele.mail);
});

test('app-only tokens need the roles: an app with only User.Read.All is refused the mailbox API and exportItems', async () => {
  const client = sandboxClient(sb, await appToken(sb, limited.clientId, limited.clientSecret));
  const adele = user('Adele');
  expect((await getMailboxIds(client, adele.mail)).primaryMailboxId).toBe(adele.primary!.id);
  const err = await graphFailure(client.get(`/admin/exchange/mailboxes/${adele.primary!.id}/folders`));
  expect([err.statusCode, err.code]).toEqual([403, 'ErrorAccessDenied']);
  const err2 = await graphFailure(client.post(`/admin/exchange/mailboxes/${adele.primary!.id}/exportItems`, { itemIds: [adele.primary!.folders[0].items[0]?.id ?? 'x'] }));
  expect(err2.statusCode).toBe(403);
});

test('Graph validates audience, issuer, expiry and signature: 401 InvalidAuthenticationToken with Graph\'s error body', async () => {
  const adele = user('Adele');
  const path = `${sb.graphUrl}/v1.0/users/${adele.id}/settings/exchange`;
  const wrongAud = await sb.issuer.sign({ aud: `api://${sb.clientId}`, idtyp: 'app', roles: ['User.Read.All'] });
  const expired = await sb.issuer.sign({ aud: sb.graphUrl, idtyp: 'app', roles: ['User.Read.All'] }, { issuedAtSec: Math.floor(Date.now() / 1000) - 7200, lifetimeSec: 3600 });
  const { privateKey } = await generateKeyPair('RS256');
  const foreign = await new SignJWT({ aud: sb.graphUrl, tid: sb.tenantId, idtyp: 'app', roles: ['User.Read.All'] })
    .setProtectedHeader({ alg: 'RS256', kid: sb.issuer.kid }).setIssuer(sb.issuer.issuer).setIssuedAt().setExpirationTime('1h').sign(privateKey);
  const otherIssuer = await new SignJWT({}).setProtectedHeader({ alg: 'none' } as never).sign(privateKey).catch(() => 'not.a.jwt');
  for (const [token, message] of [[wrongAud, /audience/], [expired, /expired/], [foreign, /Signature/], [otherIssuer, /well formed/], ['', /empty/]] as const) {
    const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect(res.status).toBe(401);
    const body = await res.json() as { error: { code: string; message: string; innerError: Record<string, string> } };
    expect(body.error.code).toBe('InvalidAuthenticationToken');
    expect(body.error.message).toMatch(message);
    expect(body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
  }
  // Through the client: the GraphError keeps Graph's code.
  const err = await graphFailure(sandboxClient(sb, expired).get(`/users/${adele.id}/settings/exchange`));
  expect([err.statusCode, err.code]).toEqual([401, 'InvalidAuthenticationToken']);
});

test('a token verified once is accepted from the cache only until jwtVerify would refuse it (exp + 60 s), and only for its audiences', async () => {
  const adele = user('Adele');
  const path = `${sb.graphUrl}/v1.0/users/${adele.id}/settings/exchange`;
  const now = Math.floor(Date.now() / 1000);
  const short = await sb.issuer.sign({ aud: sb.graphUrl, idtyp: 'app', roles: ['User.Read.All'] }, { issuedAtSec: now, lifetimeSec: 5 });
  expect((await sb.issuer.verify(short, [sb.graphUrl])).kind).toBe('app');
  expect((await fetch(path, { headers: { authorization: `Bearer ${short}` } })).status).toBe(200);
  // Another audience list is verified on its own: refused, though the token is cached for Graph's.
  await expect(sb.issuer.verify(short, ['api://other'])).rejects.toMatchObject({ statusCode: 401, message: expect.stringMatching(/audience/) });
  // Only the clock (Date) is faked: the sandbox's timers and sockets keep running.
  jest.useFakeTimers({ doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
  try {
    jest.setSystemTime((now + 5 + 59) * 1000); // within the skew: still accepted
    expect((await sb.issuer.verify(short, [sb.graphUrl])).kind).toBe('app');
    jest.setSystemTime((now + 5 + 62) * 1000); // past exp + 60 s: refused as jwtVerify refuses it
    await expect(sb.issuer.verify(short, [sb.graphUrl])).rejects.toMatchObject({ statusCode: 401, message: expect.stringMatching(/expired/) });
  } finally {
    jest.useRealTimers();
  }
});
