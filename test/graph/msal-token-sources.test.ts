/**
 * The MSAL token sources against the sandbox's HTTPS token service (self-signed, trusted through its
 * caCertificate): client credentials with a secret and with a certificate (signed client assertion),
 * On-Behalf-Of with the add-in's token, an expired assertion → AuthExpired (then a fresh one through
 * replaceAssertion or getUserAssertion), refusals mapped to codes, configuration errors naming the
 * field, and no secret or token in JSON, inspect or error messages.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeJwt } from 'jose';
import { generate } from 'selfsigned';
import { GraphClient, customCloud, getMailboxIds, type TokenSource } from '../../worker-service/src/graph';
import {
  CaTrustingNetworkClient, ClientCredentialsTokenSource, OnBehalfOfTokenSource, TokenSourceConfigError, TokenSourceError,
  msalAuthority, msalConfiguration, msalSettingsFromOptions, msalSettingsFromTenantConfig, type MsalAppSettings,
} from '../../worker-service/src/graph/msal-token-sources';
import { parseSandboxArgs, sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';

let sb: SandboxHandle;
let settings: MsalAppSettings;
let scope: string;
const certApp = { clientId: '7b0c2f4e-1d7a-4e55-9d0a-2f4c3b6a8e11', clientSecret: 'unused-secret', displayName: 'cert app', roles: ['User.Read.All', 'MailboxFolder.Read.All'], delegatedScopes: ['User.Read'], certificates: [] as string[] };
let cert: { cert: string; private: string };

beforeAll(async () => {
  cert = await generate([{ name: 'commonName', value: 'outport-test-app' }], { keySize: 2048, algorithm: 'sha256' });
  certApp.certificates.push(cert.cert);
  sb = await startSandbox({ mailLimit: 10, https: true, extraApps: [certApp] });
  settings = msalSettingsFromTenantConfig(sandboxTenantConfig(sb));
  scope = `${sb.graphUrl}/.default`;
});
afterAll(async () => sb?.stop());

const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
const graph = (tokens: TokenSource): GraphClient => new GraphClient({ cloud: customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl }), tokenSource: tokens, retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 1 } });
const thumbprintSha256 = (pem: string): string => createHash('sha256').update(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('hex');

async function failure(p: Promise<unknown>): Promise<TokenSourceError> {
  try { await p; } catch (err) { if (err instanceof TokenSourceError) return err; throw err; }
  throw new Error('expected a TokenSourceError');
}

test('client credentials with the secret, over HTTPS through MSAL: an app-only Graph token that Graph accepts; cached', async () => {
  const logs: string[] = [];
  const source = new ClientCredentialsTokenSource({ ...settings, log: (_l, m) => logs.push(m) });
  const t = await source.getToken([scope]);
  const claims = decodeJwt(t.token);
  expect(claims).toMatchObject({ iss: `${sb.authorityUrl}/${sb.tenantId}/v2.0`, aud: sb.graphUrl, appid: sb.clientId, idtyp: 'app', tid: sb.tenantId });
  expect(claims.roles).toEqual(expect.arrayContaining(['MailboxItem.Export.All']));
  expect(t.expiresOnMs).toBeGreaterThan(Date.now() + 50 * 60_000);
  expect((await source.getToken([scope])).token).toBe(t.token); // MSAL's cache
  const adele = user('Adele');
  expect((await getMailboxIds(graph(source), adele.mail)).primaryMailboxId).toBe(adele.primary!.id);
  expect(JSON.stringify(source)).not.toContain(sb.clientSecret);
  expect(inspect(source, { showHidden: true, depth: 8 })).not.toContain(sb.clientSecret);
  expect(JSON.stringify(source)).toContain(sb.clientId);
  for (const m of logs) { expect(m).not.toContain(sb.clientSecret); expect(m).not.toContain(t.token.split('.')[2]); }
});

test('client credentials with a certificate (PS256 client assertion, x5t#S256): the sandbox verifies it like Entra', async () => {
  const source = new ClientCredentialsTokenSource({ ...settings, clientSecret: undefined, clientId: certApp.clientId, certificate: { thumbprintSha256: thumbprintSha256(cert.cert), privateKeyPem: cert.private } });
  const t = await source.getToken([scope]);
  expect(decodeJwt(t.token)).toMatchObject({ appid: certApp.clientId, roles: certApp.roles });
  expect(inspect(source, { showHidden: true, depth: 8 })).not.toContain('PRIVATE KEY');
  expect(JSON.stringify(source)).toContain('"credential":"certificate"');
  // Another key under the registered thumbprint: signature refused (AADSTS700027) → InvalidClient.
  const other = await generate([{ name: 'commonName', value: 'impostor' }], { keySize: 2048, algorithm: 'sha256' });
  const impostor = new ClientCredentialsTokenSource({ ...settings, clientSecret: undefined, clientId: certApp.clientId, certificate: { thumbprintSha256: thumbprintSha256(cert.cert), privateKeyPem: other.private } });
  const err = await failure(impostor.getToken([scope]));
  expect([err.code, err.oauthError, err.aadsts]).toEqual(['InvalidClient', 'invalid_client', 700027]);
  // An unregistered certificate: the key is not found (700027).
  const unknown = new ClientCredentialsTokenSource({ ...settings, clientSecret: undefined, clientId: certApp.clientId, certificate: { thumbprintSha256: thumbprintSha256(other.cert), privateKeyPem: other.private } });
  expect((await failure(unknown.getToken([scope]))).aadsts).toBe(700027);
});

test('refusals map to codes, and messages carry no secret: wrong secret, unknown app, bad scope, unknown tenant', async () => {
  const wrong = await failure(new ClientCredentialsTokenSource({ ...settings, clientSecret: 'not-the-secret-123' }).getToken([scope]));
  expect([wrong.code, wrong.oauthError, wrong.aadsts]).toEqual(['InvalidClient', 'invalid_client', 7000215]);
  expect(wrong.message).toMatch(/AADSTS7000215/);
  expect(wrong.message).not.toContain('not-the-secret-123');
  const unknownApp = await failure(new ClientCredentialsTokenSource({ ...settings, clientId: '00000000-1111-4222-8333-444444444444' }).getToken([scope]));
  expect([unknownApp.code, unknownApp.aadsts]).toEqual(['InvalidClient', 700016]);
  const badScope = await failure(new ClientCredentialsTokenSource(settings).getToken([`${sb.graphUrl}/Mail.Read`]));
  expect(badScope.code).toBe('InvalidScope');
  const tenant = await failure(new ClientCredentialsTokenSource({ ...settings, tenantId: 'not-a-tenant' }).getToken([scope]));
  expect(tenant.code).toBe('InvalidConfiguration');
});

test('TLS stays verified: without the sandbox CA MSAL cannot reach the token service', async () => {
  const err = await failure(new ClientCredentialsTokenSource({ ...settings, caCertificate: undefined }).getToken([scope]));
  expect([err.code, err.oauthError]).toEqual(['InvalidConfiguration', 'endpoints_resolution_error']);
  expect(err.message).toMatch(/caCertificate/);
  expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
});

test('On-Behalf-Of: the add-in\'s token becomes Adele\'s delegated Graph token; her mailbox works, Megan\'s is 403', async () => {
  const adele = user('Adele');
  const assertion = await sb.userAssertion(adele.mail);
  const source = new OnBehalfOfTokenSource({ ...settings, userAssertion: assertion });
  expect(source.assertionExpiresOnMs).toBe(Number(decodeJwt(assertion).exp) * 1000);
  const t = await source.getToken([scope]);
  const claims = decodeJwt(t.token);
  expect(claims).toMatchObject({ aud: sb.graphUrl, idtyp: 'user', oid: adele.id, upn: adele.userPrincipalName });
  expect(String(claims.scp).split(' ')).toEqual(expect.arrayContaining(['MailboxItem.Export']));
  const client = graph(source);
  expect(await getMailboxIds(client, adele.mail)).toEqual({ primaryMailboxId: adele.primary!.id, inPlaceArchiveMailboxId: adele.archive!.id });
  await expect(client.get(`/admin/exchange/mailboxes/${user('Megan').primary!.id}/folders`)).rejects.toMatchObject({ statusCode: 403, code: 'ErrorAccessDenied' });
  const shown = JSON.stringify(source) + inspect(source, { showHidden: true, depth: 8 });
  expect(shown).not.toContain(assertion.split('.')[2]);
  expect(shown).not.toContain(sb.clientSecret);
});

test('an expired user assertion → AuthExpired (AADSTS500133); replaceAssertion with a fresh token resumes', async () => {
  const adele = user('Adele');
  const expired = await sb.userAssertion(adele.mail, -120);
  const source = new OnBehalfOfTokenSource({ ...settings, userAssertion: expired });
  const err = await failure(source.getToken([scope]));
  expect([err.code, err.oauthError, err.aadsts]).toEqual(['AuthExpired', 'invalid_grant', 500133]);
  expect(err.message).not.toContain(expired.split('.')[1]);
  source.replaceAssertion(await sb.userAssertion(adele.mail));
  expect(decodeJwt((await source.getToken([scope])).token).oid).toBe(adele.id);
  expect(() => source.replaceAssertion('')).toThrow(TokenSourceConfigError);
  // A Graph token is not an assertion for the worker API (wrong audience, AADSTS50013): also AuthExpired.
  const graphToken = (await new ClientCredentialsTokenSource(settings).getToken([scope])).token;
  expect((await failure(new OnBehalfOfTokenSource({ ...settings, userAssertion: graphToken }).getToken([scope]))).aadsts).toBe(50013);
});

test('OBO asks getUserAssertion for a fresh token once when refused, and answers AuthExpired when it has none', async () => {
  const adele = user('Adele');
  let asked = 0;
  let fresh: string | undefined = await sb.userAssertion(adele.mail);
  const source = new OnBehalfOfTokenSource({ ...settings, userAssertion: await sb.userAssertion(adele.mail, -120), getUserAssertion: async () => { asked++; return fresh; } });
  expect(decodeJwt((await source.getToken([scope])).token).oid).toBe(adele.id);
  expect(asked).toBe(1);
  fresh = undefined;
  const none = new OnBehalfOfTokenSource({ ...settings, getUserAssertion: async () => { asked++; return fresh; } });
  expect(none.hasAssertion).toBe(false);
  expect((await failure(none.getToken([scope]))).code).toBe('AuthExpired');
  expect(asked).toBe(2);
  const aborted = new AbortController();
  aborted.abort(new Error('stop'));
  await expect(source.getToken([scope], aborted.signal)).rejects.toThrow('stop');
});

test('settings: https only, the field named; the cloud\'s login host by default; knownAuthorities only for other hosts', () => {
  expect(() => msalAuthority({ authorityUrl: 'http://127.0.0.1:4010', tenantId: 't' })).toThrow(/authorityUrl must be https/);
  expect(() => msalAuthority({ cloud: 'custom', tenantId: 't' })).toThrow(/authorityUrl is required/);
  expect(() => msalAuthority({ tenantId: '' })).toThrow(/tenantId/);
  expect(msalAuthority({ cloud: 'usgov', tenantId: 'contoso.onmicrosoft.us' })).toBe('https://login.microsoftonline.us/contoso.onmicrosoft.us');
  expect(msalAuthority({ tenantId: 'abc' })).toBe('https://login.microsoftonline.com/abc');
  expect(() => msalConfiguration({ tenantId: 't', clientId: 'c' })).toThrow(/clientSecret or certificate is required/);
  expect(() => msalConfiguration({ tenantId: 't', clientId: 'c', clientSecret: 's', certificate: { thumbprintSha256: 'a'.repeat(64), privateKeyPem: '-----BEGIN PRIVATE KEY-----' } })).toThrow(/not both/);
  expect(() => msalConfiguration({ tenantId: 't', clientId: 'c', certificate: { thumbprintSha256: 'abc', privateKeyPem: 'x' } })).toThrow(/thumbprintSha256/);
  expect(() => msalConfiguration({ tenantId: 't', clientId: '', clientSecret: 's' })).toThrow(/clientId/);
  expect(msalConfiguration({ tenantId: 't', clientId: 'c', clientSecret: 's' }).auth.knownAuthorities).toBeUndefined();
  expect(msalConfiguration({ ...settings }).auth.knownAuthorities).toEqual([new URL(sb.authorityUrl).host]);
  expect(msalConfiguration({ ...settings }).system?.networkClient).toBeInstanceOf(CaTrustingNetworkClient);
  // The sandbox's tenant config carries what MSAL needs; `outport sandbox --https` turns it on.
  expect(sandboxTenantConfig(sb)).toMatchObject({ authorityUrl: expect.stringMatching(/^https:/), caCertificate: expect.stringMatching(/BEGIN CERTIFICATE/) });
  expect(parseSandboxArgs(['--https', '--https-port', '0']).options).toMatchObject({ https: true, httpsPort: 0 });
  // token-source.ts's contract maps onto the same settings.
  expect(msalSettingsFromOptions({ loginBaseUrl: sb.authorityUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: sb.clientSecret, caCertificate: sb.caCertificate })).toEqual((({ cloud: _cloud, ...rest }) => rest)(settings));
});

test('CaTrustingNetworkClient: answers every status with parsed JSON; refuses non-JSON and over-1-MiB answers without echoing the query', async () => {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/json')) { res.statusCode = 400; res.setHeader('x-Thing', 'a'); res.end('{"error":"invalid_grant"}'); }
    else if (req.url?.startsWith('/html')) res.end('<html>');
    else res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const net = new CaTrustingNetworkClient();
  try {
    const res = await net.sendPostRequestAsync<{ error: string }>(`${base}/json`, { body: 'client_secret=hush', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([res.status, res.body.error, res.headers['x-thing']]).toEqual([400, 'invalid_grant', 'a']);
    await expect(net.getJson(`${base}/json`)).rejects.toThrow(/answered 400/);
    await expect(net.sendGetRequestAsync(`${base}/html?code=secret-code`)).rejects.toThrow(/is not JSON/);
    await expect(net.sendGetRequestAsync(`${base}/html?code=secret-code`)).rejects.not.toThrow(/secret-code/);
    await expect(net.sendGetRequestAsync(`${base}/big`)).rejects.toThrow(/larger than/);
  } finally {
    net.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
