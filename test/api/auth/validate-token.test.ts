/**
 * validateBearerToken against the sandbox tenant's real issuer and keys (served over its HTTPS token
 * service, trusted through its caCertificate), and forged tokens: each refusal has its own reason and
 * API code; a valid user token gives the identity, whose raw token stays out of JSON and inspect.
 * A fake provider whose keys the test holds covers a wrong issuer with a valid signature, key
 * rotation (one JWKS refresh for an unknown kid) and an unreachable metadata endpoint.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { AuthError, clearAuthMetadataCache, validateAccessToken, validateBearerToken, type ApiAuthConfig, type AuthErrorReason } from '../../../worker-service/src/api/auth';
import { startSandbox, type SandboxHandle } from '../../../worker-service/src/sandbox';
import { startFakeOidc, type FakeOidc } from './fake-oidc';

let sb: SandboxHandle;
let config: ApiAuthConfig;
const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

beforeAll(async () => {
  sb = await startSandbox({ mailLimit: 5, https: true });
  config = { tenantId: sb.tenantId, clientId: sb.clientId, authorityUrl: sb.authorityUrl, caCertificate: sb.caCertificate };
});
afterAll(async () => sb?.stop());
beforeEach(() => clearAuthMetadataCache());

const user = (given: string) => sb.users.find((u) => u.givenName === given)!;
/** A user token for the worker API signed by the sandbox, with `claims` overriding. */
const apiToken = (claims: Record<string, unknown> = {}, options: { issuedAtSec?: number; lifetimeSec?: number } = {}): Promise<string> => {
  const u = user('Adele');
  return sb.issuer.sign({ aud: `api://${sb.clientId}`, azp: randomUUID(), oid: u.id, upn: u.userPrincipalName, preferred_username: u.userPrincipalName, name: u.displayName, scp: 'access_as_user', idtyp: 'user', ...claims }, options);
};

async function refusal(p: Promise<unknown>): Promise<AuthError> {
  try { await p; } catch (err) { if (err instanceof AuthError) return err; throw err; }
  throw new Error('expected an AuthError');
}

test('the sandbox\'s HTTPS authority is https and the issuer matches it', () => {
  expect(sb.authorityUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(sb.caCertificate).toMatch(/BEGIN CERTIFICATE/);
  expect(sb.issuer.issuer).toBe(`${sb.authorityUrl}/${sb.tenantId}/v2.0`);
});

test('a valid user token (the add-in\'s, from sb.userAssertion) gives the identity; the raw token stays private', async () => {
  const adele = user('Adele');
  const token = await sb.userAssertion(adele.mail);
  const id = await validateBearerToken(`Bearer ${token}`, config);
  expect(id).toMatchObject({ kind: 'user', oid: adele.id, tid: sb.tenantId, upn: adele.userPrincipalName, preferredUsername: adele.userPrincipalName, name: adele.displayName, scp: ['access_as_user'], roles: [], wids: [] });
  expect(id.rawToken).toBe(token);
  expect(id.expiresOnMs).toBe(Number(decodeJwt(token).exp) * 1000);
  expect(id.addresses).toEqual([adele.userPrincipalName.toLowerCase()]);
  expect(JSON.stringify(id)).not.toContain(token.split('.')[2]);
  expect(inspect(id, { depth: 5, showHidden: true })).not.toContain(token.split('.')[2]);
  // The scheme is case-insensitive; both audience forms (client id, api://client id) are accepted.
  expect((await validateBearerToken(`bearer ${await apiToken({ aud: sb.clientId })}`, config)).oid).toBe(adele.id);
  // roles and wids come through.
  const admin = await validateAccessToken(await apiToken({ roles: ['Outport.Admin'], wids: ['62e90394-69f5-4237-9190-012177145e10'] }), config);
  expect(admin.roles).toEqual(['Outport.Admin']);
  expect(admin.wids).toEqual(['62e90394-69f5-4237-9190-012177145e10']);
});

test('forged and wrong tokens are each refused with their reason, 401 InvalidToken, and no token in the message', async () => {
  const adele = user('Adele');
  const valid = await apiToken();
  const [h, p, s] = valid.split('.');
  const foreignKey = await generateKeyPair('RS256');
  const publicPem = createPublicKey({ key: sb.issuer.jwks().keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
  const publicDer = createPublicKey({ key: sb.issuer.jwks().keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  const hs256With = (secret: Uint8Array): Promise<string> => new SignJWT({ ...decodeJwt(valid) }).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: sb.issuer.kid }).sign(secret);
  const future = now() + 600;
  const cases: [string, Promise<string> | string, AuthErrorReason][] = [
    ['wrong audience (a Graph token)', apiToken({ aud: sb.graphUrl }), 'InvalidAudience'],
    ['wrong audience (another app)', apiToken({ aud: `api://${randomUUID()}` }), 'InvalidAudience'],
    ['another tenant\'s tid', apiToken({ tid: randomUUID() }), 'WrongTenant'],
    ['expired (1 h ago, beyond the 60 s skew)', apiToken({}, { issuedAtSec: now() - 7200, lifetimeSec: 3600 }), 'TokenExpired'],
    ['nbf 10 min in the future', apiToken({}, { issuedAtSec: future }), 'TokenNotYetValid'],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, 'UnsupportedAlgorithm'],
    ['alg none with a signature', `${b64({ alg: 'none' })}.${p}.${s}`, 'UnsupportedAlgorithm'],
    ['HS256 signed with the RSA public key (PEM bytes)', hs256With(new TextEncoder().encode(publicPem)), 'UnsupportedAlgorithm'],
    ['HS256 signed with the RSA public key (DER bytes)', hs256With(new Uint8Array(publicDer)), 'UnsupportedAlgorithm'],
    ['HS512', new SignJWT({ ...decodeJwt(valid) }).setProtectedHeader({ alg: 'HS512' }).sign(new Uint8Array(64)), 'UnsupportedAlgorithm'],
    ['unknown kid (a key the tenant does not publish)', new SignJWT({ ...decodeJwt(valid) }).setProtectedHeader({ alg: 'RS256', kid: randomUUID() }).sign(foreignKey.privateKey), 'UnknownSigningKey'],
    ['the tenant\'s kid, signed by another key', new SignJWT({ ...decodeJwt(valid) }).setProtectedHeader({ alg: 'RS256', kid: sb.issuer.kid }).sign(foreignKey.privateKey), 'InvalidSignature'],
    ['tampered payload (oid and upn changed to Megan\'s)', `${h}.${b64({ ...decodeJwt(valid), oid: user('Megan').id, upn: user('Megan').userPrincipalName })}.${s}`, 'InvalidSignature'],
    ['signature removed', `${h}.${p}.`, 'InvalidSignature'],
    ['not a JWT', 'abc.def', 'MalformedToken'],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.${p}.${s}`, 'MalformedToken'],
    ['no scp (app-only token to the API)', apiToken({ scp: undefined, idtyp: 'app', roles: ['Outport.Admin'] }), 'AppOnlyTokenRefused'],
    ['no oid', apiToken({ oid: undefined }), 'InvalidClaims'],
  ];
  for (const [what, tokenP, reason] of cases) {
    const token = await tokenP;
    const err = await refusal(validateBearerToken(`Bearer ${token}`, config));
    expect([what, err.reason]).toEqual([what, reason]);
    expect([what, err.status, err.code]).toEqual([what, 401, 'InvalidToken']);
    expect(err.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/);
    for (const part of token.split('.').filter((x) => x.length > 8)) expect(err.message).not.toContain(part);
    expect(err.message).not.toContain(adele.userPrincipalName);
  }
});

test('a delegated token without the API scope is 403 InsufficientScope; a client app not allowed is 403 ClientAppNotAllowed', async () => {
  const err = await refusal(validateAccessToken(await apiToken({ scp: 'User.Read' }), config));
  expect([err.status, err.code, err.reason]).toEqual([403, 'Forbidden', 'InsufficientScope']);
  expect(err.wwwAuthenticate).toMatch(/insufficient_scope/);
  // An app-only token is accepted only when configured so (then it is an app identity).
  const app = await validateAccessToken(await apiToken({ scp: undefined, idtyp: 'app', roles: ['Outport.Admin'] }), { ...config, acceptAppOnlyTokens: true });
  expect(app.kind).toBe('app');
  // allowedClientAppIds: only the add-in may call.
  const addin = '5c1a9e0b-3f7d-4a8e-9b61-0e2d4c7f8a90';
  expect((await validateAccessToken(await apiToken({ azp: addin.toUpperCase() }), { ...config, allowedClientAppIds: [addin] })).clientAppId).toBe(addin.toUpperCase());
  const other = await refusal(validateAccessToken(await apiToken(), { ...config, allowedClientAppIds: [addin] }));
  expect([other.status, other.code, other.reason]).toEqual([403, 'Forbidden', 'ClientAppNotAllowed']);
});

test('the Authorization header: missing → MissingToken (WWW-Authenticate: Bearer), other schemes → MalformedToken', async () => {
  for (const header of [undefined, '', '   ']) {
    const err = await refusal(validateBearerToken(header, config));
    expect([err.reason, err.status, err.wwwAuthenticate]).toEqual(['MissingToken', 401, 'Bearer']);
  }
  for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', `Token ${await apiToken()}`]) {
    expect((await refusal(validateBearerToken(header, config))).reason).toBe('MalformedToken');
  }
  expect((await refusal(validateBearerToken('Bearer ' + 'a'.repeat(20_000) + '.b.c', config))).reason).toBe('MalformedToken');
});

test('the CA is needed: without caCertificate the HTTPS metadata cannot be read (503, TLS stays verified)', async () => {
  const err = await refusal(validateAccessToken(await apiToken(), { ...config, caCertificate: undefined }));
  expect([err.status, err.code, err.reason]).toEqual([503, 'AuthUnavailable', 'AuthMetadataUnavailable']);
});

test('the config: an http authority is refused unless it is loopback; a domain tenant id resolves the GUID from the issuer', async () => {
  await expect(validateAccessToken(await apiToken(), { ...config, authorityUrl: 'http://login.example.com' })).rejects.toThrow(/authorityUrl must be https/);
  const domain = sb.tenant.domain;
  const id = await validateAccessToken(await apiToken(), { ...config, tenantId: domain });
  expect(id.tid).toBe(sb.tenantId);
  expect((await refusal(validateAccessToken(await apiToken({ tid: randomUUID() }), { ...config, tenantId: domain }))).reason).toBe('WrongTenant');
});

describe('with a provider whose keys the test holds', () => {
  let op: FakeOidc;
  let opConfig: ApiAuthConfig;
  const tid = randomUUID();
  const claims = { aud: 'api://worker', oid: randomUUID(), scp: 'access_as_user', upn: 'ann@contoso.test' };
  beforeAll(async () => {
    op = await startFakeOidc(tid);
    opConfig = { tenantId: tid, clientId: 'worker', authorityUrl: op.authorityUrl, jwksCooldownMs: 0 };
  });
  afterAll(async () => op?.stop());

  test('a valid signature with the wrong issuer is InvalidIssuer; a v1.0 issuer gets the manifest hint', async () => {
    expect((await validateAccessToken(await op.sign(claims, op.published[0]), opConfig)).oid).toBe(claims.oid);
    const wrong = await refusal(validateAccessToken(await op.sign(claims, op.published[0], { issuer: `https://login.evil.test/${tid}/v2.0` }), opConfig));
    expect(wrong.reason).toBe('InvalidIssuer');
    const v1 = await refusal(validateAccessToken(await op.sign(claims, op.published[0], { issuer: `https://sts.windows.net/${tid}/` }), opConfig));
    expect([v1.reason, v1.message]).toEqual(['InvalidIssuer', expect.stringMatching(/requestedAccessTokenVersion/)]);
  });

  test('key rotation: an unknown kid downloads the JWKS once more; still unknown → UnknownSigningKey', async () => {
    const old = op.published[0];
    expect((await validateAccessToken(await op.sign(claims, old), opConfig)).oid).toBe(claims.oid);
    const before = op.jwksFetches;
    const rotated = await op.newKey();
    op.published = [old, rotated];
    expect((await validateAccessToken(await op.sign(claims, rotated), opConfig)).oid).toBe(claims.oid);
    expect(op.jwksFetches).toBe(before + 1);
    const stranger = await op.newKey();
    const err = await refusal(validateAccessToken(await op.sign(claims, stranger), opConfig));
    expect(err.reason).toBe('UnknownSigningKey');
    expect(op.jwksFetches).toBe(before + 2);
    // With the default 30 s cooldown a burst of unknown kids causes no download at all.
    const cooled = { ...opConfig, jwksCooldownMs: 30_000 };
    await validateAccessToken(await op.sign(claims, old), cooled);
    const n = op.jwksFetches;
    for (let i = 0; i < 5; i++) expect((await refusal(validateAccessToken(await op.sign(claims, stranger), cooled))).reason).toBe('UnknownSigningKey');
    expect(op.jwksFetches).toBe(n);
  });

  test('an unreachable provider is 503 AuthMetadataUnavailable, and the failure is not cached', async () => {
    const gone = await startFakeOidc(tid);
    const cfg = { ...opConfig, authorityUrl: gone.authorityUrl };
    await gone.stop();
    const err = await refusal(validateAccessToken(await op.sign(claims, op.published[0]), cfg));
    expect([err.status, err.reason]).toEqual([503, 'AuthMetadataUnavailable']);
    // The same config against a live provider works at once (no cached failure).
    expect((await validateAccessToken(await op.sign(claims, op.published[0]), opConfig)).oid).toBe(claims.oid);
  });
});
