/**
 * The fetch-based client credentials TokenSource (graph/client-credentials.ts) and the tenant
 * config → GraphClient path (graph/tenant-client.ts) against the sandbox's token service: tokens
 * cached until expiry and shared by concurrent callers, refusals typed (InvalidClient with the
 * AADSTS number) without the secret anywhere, a refused credential not retried by the client.
 */
import { inspect } from 'node:util';
import { FetchClientCredentialsTokenSource, clientCredentialsTokenUrl } from '../../worker-service/src/graph/client-credentials';
import { checkTenantConfig, graphClientForTenant, tokenSourceForTenant, TenantConfigError } from '../../worker-service/src/graph/tenant-client';
import { ClientCredentialsTokenSource } from '../../worker-service/src/graph/msal-token-sources';
import { getMailboxIds } from '../../worker-service/src/graph';
import { sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../worker-service/src/sandbox';

let sb: SandboxHandle;
beforeAll(async () => { sb = await startSandbox({ mailLimit: 20 }); });
afterAll(async () => sb?.stop());

function counting(): { fetch: typeof fetch; calls: () => number; bodies: string[] } {
  let n = 0;
  const bodies: string[] = [];
  return {
    fetch: async (input, init) => { n++; bodies.push(String(init?.body ?? '')); return fetch(input, init); },
    calls: () => n,
    bodies,
  };
}

test('a token for <graph>/.default with the app roles; cached until near expiry; concurrent callers share one request', async () => {
  const c = counting();
  const src = new FetchClientCredentialsTokenSource({ authorityUrl: sb.authorityUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: sb.clientSecret, fetch: c.fetch });
  const scope = [`${sb.graphUrl}/.default`];
  const [a, b] = await Promise.all([src.getToken(scope), src.getToken(scope)]);
  expect(a.token).toBe(b.token);
  expect(c.calls()).toBe(1);
  const payload = JSON.parse(Buffer.from(a.token.split('.')[1], 'base64url').toString('utf8')) as { roles: string[]; aud: string; tid: string };
  expect(payload.roles).toContain('MailboxItem.Export.All');
  expect(payload.tid).toBe(sb.tenantId);
  expect(a.expiresOnMs).toBeGreaterThan(Date.now() + 60_000);
  expect((await src.getToken(scope)).token).toBe(a.token);
  expect(c.calls()).toBe(1);
  expect(new URLSearchParams(c.bodies[0]).get('grant_type')).toBe('client_credentials');
  expect(clientCredentialsTokenUrl(sb.authorityUrl + '/', sb.tenantId)).toBe(`${sb.authorityUrl}/${sb.tenantId}/oauth2/v2.0/token`);
  expect(JSON.stringify(src) + inspect(src)).not.toContain(sb.clientSecret);
});

test('a wrong secret → TokenSourceError InvalidClient (AADSTS7000215), no secret in message; the client does not retry it', async () => {
  const c = counting();
  const secret = 'sbx~wrong-secret-4711';
  const src = new FetchClientCredentialsTokenSource({ authorityUrl: sb.authorityUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: secret, fetch: c.fetch });
  const err = (await src.getToken([`${sb.graphUrl}/.default`]).then(() => undefined, (e: unknown) => e)) as Error & { code: string; aadsts?: number };
  expect(err).toMatchObject({ name: 'TokenSourceError', code: 'InvalidClient', aadsts: 7000215 });
  expect(err.message).not.toContain(secret);
  const client = graphClientForTenant({ ...checkTenantConfig(sandboxTenantConfig(sb)), clientSecret: secret });
  const t0 = Date.now();
  const e2 = (await getMailboxIds(client, sb.users[0].mail).then(() => undefined, (e: unknown) => e)) as Error & { code: string; attempts: number };
  expect(e2).toMatchObject({ name: 'GraphError', code: 'InvalidClient' });
  expect(e2.attempts).toBe(1);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(String(e2.message) + inspect(e2)).not.toContain(secret);
  const unknownTenant = new FetchClientCredentialsTokenSource({ authorityUrl: sb.authorityUrl, tenantId: '00000000-0000-0000-0000-000000000000', clientId: sb.clientId, clientSecret: sb.clientSecret });
  await expect(unknownTenant.getToken([`${sb.graphUrl}/.default`])).rejects.toMatchObject({ name: 'TokenSourceError' });
  const down = new FetchClientCredentialsTokenSource({ authorityUrl: 'http://127.0.0.1:9', tenantId: 't', clientId: 'c', clientSecret: 's' });
  await expect(down.getToken(['x/.default'])).rejects.toMatchObject({ code: 'TokenServiceUnavailable' });
});

test('tenant config: fields checked by name; http authority → fetch source, https → MSAL; the sandbox config reads Graph', async () => {
  const good = sandboxTenantConfig(sb);
  expect(() => checkTenantConfig({ ...good, tenantId: '' })).toThrow(/"tenantId" is missing/);
  expect(() => checkTenantConfig({ ...good, clientSecret: undefined })).toThrow(/"clientSecret" nor "certificate"/);
  expect(() => checkTenantConfig({ ...good, cloud: 'mars' })).toThrow(/"cloud" must be one of/);
  expect(() => checkTenantConfig({ ...good, graphUrl: undefined })).toThrow(TenantConfigError);
  expect(() => checkTenantConfig({ ...good, graphUrl: undefined })).toThrow(/"graphUrl"/);
  const cfg = checkTenantConfig(good);
  expect(tokenSourceForTenant(cfg)).toBeInstanceOf(FetchClientCredentialsTokenSource);
  expect(tokenSourceForTenant({ ...cfg, cloud: 'global', authorityUrl: undefined })).toBeInstanceOf(ClientCredentialsTokenSource);
  const client = graphClientForTenant(cfg);
  expect(await getMailboxIds(client, sb.users[0].mail, { includeArchive: false })).toEqual({ primaryMailboxId: sb.users[0].primary!.id });
});
