/**
 * isAdmin / authorizeMailbox / requireAdmin as tables: admin by app role and by directory role
 * (wids), configurable lists, a user on their own mailbox and archive (by oid or address, any case)
 * and on someone else's (403 NotYourMailbox), other tenants (401 WrongTenant). Then the same rules on
 * identities validated from the sandbox's tokens, and the sandbox's Graph refusing the delegated
 * token on another user's mailbox (defence in depth: the API's check is not the only one).
 */
import { AuthError, DIRECTORY_ROLE_TEMPLATE_IDS, authorizeMailbox, clearAuthMetadataCache, isAdmin, requireAdmin, validateAccessToken, type ApiAuthConfig, type AuthzIdentity, type MailboxSource } from '../../../worker-service/src/api/auth';
import { ClientCredentialsTokenSource, OnBehalfOfTokenSource, msalSettingsFromTenantConfig } from '../../../worker-service/src/graph/msal-token-sources';
import { GraphClient, GraphError, customCloud, getMailboxIds, type TokenSource } from '../../../worker-service/src/graph';
import { sandboxTenantConfig, startSandbox, type SandboxHandle } from '../../../worker-service/src/sandbox';

const TENANT = '9f3c1a52-5d0e-4e4b-9a39-3b5b0f8f1c11';
const OTHER_TENANT = '0c4e5c0e-7b1d-4d37-8c85-4f2e9b1b2a77';
const config: ApiAuthConfig = { tenantId: TENANT, clientId: 'worker' };

const ann: AuthzIdentity = { kind: 'user', oid: 'A1B2C3D4-0000-4000-8000-000000000001', tid: TENANT, upn: 'Ann@Contoso.com', preferredUsername: 'ann@contoso.com', email: 'ann.smith@contoso.com', roles: [], wids: [] };
const bob: AuthzIdentity = { kind: 'user', oid: 'b0b00000-0000-4000-8000-000000000002', tid: TENANT, upn: 'bob@contoso.com', roles: [], wids: [] };
const roleAdmin: AuthzIdentity = { ...bob, roles: ['Outport.Admin'] };
const exchangeAdmin: AuthzIdentity = { ...bob, wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509', DIRECTORY_ROLE_TEMPLATE_IDS.ExchangeAdministrator] };
const globalAdmin: AuthzIdentity = { ...bob, wids: [DIRECTORY_ROLE_TEMPLATE_IDS.GlobalAdministrator.toUpperCase()] };
const foreignAdmin: AuthzIdentity = { ...roleAdmin, tid: OTHER_TENANT };
const app: AuthzIdentity = { kind: 'app', oid: 'app-sp', tid: TENANT, roles: [], wids: [] };
const adminApp: AuthzIdentity = { ...app, roles: ['Outport.Admin'] };

test.each([
  ['no roles', false, bob, config],
  ['app role Outport.Admin', true, roleAdmin, config],
  ['app role, other case', true, { ...bob, roles: ['outport.admin'] }, config],
  ['another app role', false, { ...bob, roles: ['Outport.Reader'] }, config],
  ['Exchange Administrator in wids', true, exchangeAdmin, config],
  ['Global Administrator in wids (upper case)', true, globalAdmin, config],
  ['only the default member role in wids', false, { ...bob, wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509'] }, config],
  ['configured: only the Exporter role counts', false, roleAdmin, { ...config, adminAppRoles: ['Exporter'] }],
  ['configured: Exporter role', true, { ...bob, roles: ['Exporter'] }, { ...config, adminAppRoles: ['Exporter'] }],
  ['configured: no directory roles count', false, exchangeAdmin, { ...config, adminDirectoryRoleIds: [] }],
  ['configured: Compliance Administrator counts', true, { ...bob, wids: ['17315797-102d-40b4-93e0-432062caca18'] }, { ...config, adminDirectoryRoleIds: ['17315797-102d-40b4-93e0-432062caca18'] }],
] as [string, boolean, AuthzIdentity, ApiAuthConfig][])('isAdmin: %s → %s', (_what, expected, identity, cfg) => {
  expect(isAdmin(identity, cfg)).toBe(expected);
});

type Outcome = 'owner' | 'admin' | 'NotYourMailbox' | 'WrongTenant';
test.each([
  ['Ann, her primary by address', 'owner', ann, { address: 'ann@contoso.com', kind: 'primary' }],
  ['Ann, her archive by address in another case', 'owner', ann, { address: ' ANN@CONTOSO.COM ', kind: 'archive' }],
  ['Ann, by her email (not the UPN)', 'owner', ann, { address: 'Ann.Smith@contoso.com' }],
  ['Ann, by her object id (upper case)', 'owner', ann, { userId: ann.oid.toUpperCase() }],
  ['Ann, by her object id with the right tenant', 'owner', ann, { userId: ann.oid, tenantId: TENANT.toUpperCase() }],
  ['Ann on Bob\'s mailbox', 'NotYourMailbox', ann, { address: 'bob@contoso.com' }],
  ['Ann on Bob\'s archive by id', 'NotYourMailbox', ann, { userId: bob.oid, kind: 'archive' }],
  ['Ann: the id decides when given (her address, Bob\'s id)', 'NotYourMailbox', ann, { userId: bob.oid, address: 'ann@contoso.com' }],
  ['Ann on a look-alike address', 'NotYourMailbox', ann, { address: 'ann@contoso.com.evil.test' }],
  ['Ann on a mailbox of another tenant', 'WrongTenant', ann, { address: 'ann@contoso.com', tenantId: OTHER_TENANT }],
  ['admin by role on Ann\'s mailbox', 'admin', roleAdmin, { address: 'ann@contoso.com' }],
  ['admin by wids on Ann\'s archive', 'admin', exchangeAdmin, { userId: ann.oid, kind: 'archive' }],
  ['admin on their own mailbox: owner', 'owner', roleAdmin, { address: 'BOB@contoso.com' }],
  ['admin on a mailbox of another tenant', 'WrongTenant', roleAdmin, { address: 'x@fabrikam.com', tenantId: OTHER_TENANT }],
  ['admin of another tenant on our mailbox', 'WrongTenant', foreignAdmin, { address: 'ann@contoso.com' }],
  ['app-only token without the admin role', 'NotYourMailbox', app, { address: 'ann@contoso.com' }],
  ['app-only token with the admin role', 'admin', adminApp, { address: 'ann@contoso.com' }],
] as [string, Outcome, AuthzIdentity, MailboxSource][])('authorizeMailbox: %s → %s', (_what, expected, identity, source) => {
  let outcome: Outcome;
  try {
    outcome = authorizeMailbox(identity, source, config);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    outcome = err.reason as Outcome;
    expect(err.status).toBe(err.reason === 'WrongTenant' ? 401 : 403);
    expect(err.code).toBe(err.reason === 'WrongTenant' ? 'InvalidToken' : 'NotYourMailbox');
  }
  expect(outcome).toBe(expected);
});

test('authorizeMailbox needs a source that names someone; requireAdmin refuses users (403 AdminOnly) and other tenants (401)', () => {
  expect(() => authorizeMailbox(ann, {}, config)).toThrow(TypeError);
  expect(() => requireAdmin(roleAdmin, config)).not.toThrow();
  expect(() => requireAdmin(exchangeAdmin, config)).not.toThrow();
  const err = (() => { try { requireAdmin(ann, config); } catch (e) { return e as AuthError; } throw new Error('expected'); })();
  expect([err.status, err.code, err.reason]).toEqual([403, 'AdminOnly', 'AdminOnly']);
  expect(() => requireAdmin(foreignAdmin, config)).toThrow(expect.objectContaining({ reason: 'WrongTenant', status: 401 }));
});

describe('on the sandbox tenant: validated tokens, then Graph itself', () => {
  let sb: SandboxHandle;
  let cfg: ApiAuthConfig;
  beforeAll(async () => {
    sb = await startSandbox({ mailLimit: 10, https: true });
    cfg = { tenantId: sb.tenantId, clientId: sb.clientId, authorityUrl: sb.authorityUrl, caCertificate: sb.caCertificate };
    clearAuthMetadataCache();
  });
  afterAll(async () => sb?.stop());
  const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
  const graph = (tokens: TokenSource): GraphClient => new GraphClient({ cloud: customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl }), tokenSource: tokens, retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetries: 1 } });

  test('Adele: her own mailbox and archive allowed, Megan\'s refused by the API (403) and by Graph with her OBO token (403)', async () => {
    const adele = user('Adele');
    const megan = user('Megan');
    const assertion = await sb.userAssertion(adele.mail);
    const id = await validateAccessToken(assertion, cfg);
    expect(authorizeMailbox(id, { address: adele.userPrincipalName, kind: 'primary' }, cfg)).toBe('owner');
    expect(authorizeMailbox(id, { userId: adele.id, kind: 'archive' }, cfg)).toBe('owner');
    expect(() => authorizeMailbox(id, { address: megan.mail }, cfg)).toThrow(expect.objectContaining({ reason: 'NotYourMailbox', status: 403 }));

    // Defence in depth: were the API check skipped, Graph refuses Adele's delegated token on Megan's mailboxes.
    const obo = new OnBehalfOfTokenSource({ ...msalSettingsFromTenantConfig(sandboxTenantConfig(sb)), userAssertion: id.rawToken });
    const client = graph(obo);
    expect((await getMailboxIds(client, adele.mail)).inPlaceArchiveMailboxId).toBe(adele.archive!.id);
    for (const path of [`/admin/exchange/mailboxes/${megan.primary!.id}/folders`, `/admin/exchange/mailboxes/${megan.archive!.id}/folders`, `/users/${megan.id}/messages`]) {
      const err = await client.get(path).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(GraphError);
      expect([path, (err as GraphError).statusCode, (err as GraphError).code]).toEqual([path, 403, 'ErrorAccessDenied']);
    }
  });

  test('an admin (by wids) may export Megan\'s mailbox; the app-only token (client credentials) reaches it', async () => {
    const adele = user('Adele');
    const megan = user('Megan');
    const token = await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: adele.id, upn: adele.userPrincipalName, scp: 'access_as_user', wids: [DIRECTORY_ROLE_TEMPLATE_IDS.ExchangeAdministrator] });
    const id = await validateAccessToken(token, cfg);
    expect(isAdmin(id, cfg)).toBe(true);
    expect(authorizeMailbox(id, { address: megan.mail, kind: 'archive' }, cfg)).toBe('admin');
    const client = graph(new ClientCredentialsTokenSource(msalSettingsFromTenantConfig(sandboxTenantConfig(sb))));
    const folders = await client.get<{ value: unknown[] }>(`/admin/exchange/mailboxes/${megan.archive!.id}/folders`);
    expect(folders.value.length).toBeGreaterThan(0);
  });
});
