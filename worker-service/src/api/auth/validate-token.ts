/**
 * Bearer token validation for the worker API (docs/auth.md "Token validation"), with jose against
 * the tenant's OpenID metadata: `<authorityUrl>/<tenant>/v2.0/.well-known/openid-configuration`
 * gives `issuer` and `jwks_uri` (Microsoft identity platform, "Access token validation":
 * learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens). Checked, in order:
 *
 * 1. `Authorization: Bearer <JWT>` (RFC 6750 section 2.1).
 * 2. `alg` is asymmetric (RS*, PS*, ES*, EdDSA). `none` and HS* are refused before any key is looked
 *    at, so "HS256 with the RSA public key as the HMAC secret" (the key-confusion attack) cannot work;
 *    keys come only from the tenant's JWKS, never from the token's `jwk`/`jku`/`x5u` headers.
 * 3. The signature with the JWKS key named by `kid`; an unknown `kid` makes jose download the JWKS
 *    once more (at most once per `jwksCooldownMs`: key rotation), then the token is refused.
 * 4. `aud` = the worker app (client id or `api://<client id>`), `exp`/`nbf` with 60 s skew.
 * 5. `tid` = the configured tenant, then `iss` = the metadata's issuer (v2.0 tokens).
 * 6. A delegated token needs the API's scope (`access_as_user`) in `scp` and an `oid`; app-only
 *    tokens (no `scp`) are refused unless `acceptAppOnlyTokens`; with `allowedClientAppIds`, the
 *    token's `azp`/`appid` must be one of them.
 *
 * Metadata is cached per authority for `metadataMaxAgeMs` (failures are not cached); the JWKS by
 * jose (10 min, refreshed on an unknown `kid`).
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { CLOUDS } from '../../graph/clouds';
import { CaTrustingNetworkClient } from '../../graph/msal-token-sources';
import { AuthError, DEFAULT_API_SCOPE, DEFAULT_CLOCK_TOLERANCE_SEC, type ApiAuthConfig } from './config';

/** Signature algorithms accepted (asymmetric only; RFC 7518 section 3.1, RFC 8037). Entra signs with RS256. */
export const ACCEPTED_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Longest token accepted (Entra access tokens are 1-3 KB; a group-heavy one stays far under this). */
const MAX_TOKEN_LENGTH = 16 * 1024;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who called the API: the claims of a validated token. */
export class ApiIdentity {
  /** `user` for delegated tokens (the add-in's), `app` for app-only tokens. */
  readonly kind: 'user' | 'app';
  /** Object id of the user (or the calling app's service principal for app-only tokens). */
  readonly oid: string;
  /** Tenant id (GUID) of the caller. */
  readonly tid: string;
  /** `upn` (v1-style claim; present for work accounts when configured). */
  readonly upn?: string;
  /** `preferred_username` (v2.0; usually the UPN). */
  readonly preferredUsername?: string;
  /** `email`, when the optional claim is configured. */
  readonly email?: string;
  /** Display name (`name`). */
  readonly name?: string;
  /** The client app that asked for the token (`azp`/`appid`): the add-in, or the app itself. */
  readonly clientAppId?: string;
  /** App roles assigned to the caller (`roles`). */
  readonly roles: readonly string[];
  /** Directory role template ids of the user (`wids`). */
  readonly wids: readonly string[];
  /** Delegated scopes (`scp`, split on spaces). */
  readonly scp: readonly string[];
  /** Token expiry (`exp`), epoch ms. */
  readonly expiresOnMs: number;
  readonly #rawToken: string;

  /** @internal built by validateBearerToken after validation */
  constructor(claims: JWTPayload, rawToken: string) {
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    this.scp = String(claims.scp ?? '').split(' ').filter(Boolean);
    this.kind = this.scp.length > 0 ? 'user' : 'app';
    this.oid = String(claims.oid ?? '');
    this.tid = String(claims.tid ?? '');
    const upn = str(claims.upn); if (upn) this.upn = upn;
    const pu = str(claims.preferred_username); if (pu) this.preferredUsername = pu;
    const email = str(claims.email); if (email) this.email = email;
    const name = str(claims.name); if (name) this.name = name;
    const app = str(claims.azp) ?? str(claims.appid); if (app) this.clientAppId = app;
    this.roles = Object.freeze(list(claims.roles));
    this.wids = Object.freeze(list(claims.wids));
    Object.freeze(this.scp);
    this.expiresOnMs = Number(claims.exp) * 1000;
    this.#rawToken = rawToken;
  }

  /** The validated token itself: the user assertion for On-Behalf-Of. A secret: never log it. */
  get rawToken(): string { return this.#rawToken; }

  /** The names this user is known by (lower-case): upn, preferred_username, email. */
  get addresses(): string[] {
    return [...new Set([this.upn, this.preferredUsername, this.email].filter((x): x is string => !!x).map((x) => x.trim().toLowerCase()))];
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, oid: this.oid, tid: this.tid, upn: this.upn, preferredUsername: this.preferredUsername, name: this.name, roles: this.roles, wids: this.wids, scp: this.scp, expiresOnMs: this.expiresOnMs };
  }
  [inspect.custom](): string { return `ApiIdentity ${JSON.stringify(this.toJSON())}`; }
}

interface TenantKeys {
  issuer: string;
  /** The tenant's GUID (configured, or read from the issuer when the config names a domain). */
  tid: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  fetchedAtMs: number;
}

const stores = new Map<string, Promise<TenantKeys>>();

/** Forgets cached metadata and keys (tests; a changed config). */
export function clearAuthMetadataCache(): void { stores.clear(); }

/** The authority root for a config: `authorityUrl` or the cloud's login host; https, or http on loopback only.
 *  @throws TypeError naming the field */
export function authorityRootOf(config: Pick<ApiAuthConfig, 'authorityUrl' | 'cloud'>): string {
  let root = config.authorityUrl;
  if (!root) {
    const cloud = config.cloud ?? 'global';
    const known = CLOUDS[cloud as keyof typeof CLOUDS];
    if (!known) throw new TypeError(`auth config: authorityUrl is required for cloud "${cloud}"`);
    root = known.loginBaseUrl;
  }
  let url: URL;
  try { url = new URL(root); } catch { throw new TypeError(`auth config: authorityUrl "${root}" is not an absolute URL`); }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new TypeError('auth config: authorityUrl must be https (http only on a loopback address, for the sandbox)');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

async function loadTenantKeys(config: ApiAuthConfig): Promise<TenantKeys> {
  const root = authorityRootOf(config);
  const metadataUrl = `${root}/${encodeURIComponent(config.tenantId)}/v2.0/.well-known/openid-configuration`;
  const net = new CaTrustingNetworkClient({ caCertificate: config.caCertificate, timeoutMs: config.fetchTimeoutMs ?? 5000 });
  let meta: { issuer?: unknown; jwks_uri?: unknown };
  try {
    meta = await net.getJson(metadataUrl);
  } catch (err) {
    net.close();
    throw new AuthError('AuthMetadataUnavailable', 'the tenant\'s OpenID metadata could not be read; try again later', { cause: err });
  }
  if (typeof meta.issuer !== 'string' || typeof meta.jwks_uri !== 'string') {
    net.close();
    throw new AuthError('AuthMetadataUnavailable', 'the tenant\'s OpenID metadata has no issuer or jwks_uri');
  }
  const jwksUrl = new URL(meta.jwks_uri);
  if (jwksUrl.protocol !== new URL(root).protocol) { net.close(); throw new AuthError('AuthMetadataUnavailable', 'the tenant\'s jwks_uri does not use the authority\'s scheme'); }
  const tid = GUID.test(config.tenantId) ? config.tenantId.toLowerCase() : (/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(meta.issuer)?.[0] ?? '').toLowerCase();
  if (!tid) { net.close(); throw new AuthError('AuthMetadataUnavailable', 'the tenant id could not be read from the metadata\'s issuer: configure tenantId as the directory id GUID'); }
  const jwks = createRemoteJWKSet(jwksUrl, {
    ...(jwksUrl.protocol === 'https:' ? { agent: net.agent } : {}),
    cooldownDuration: config.jwksCooldownMs ?? 30_000,
    timeoutDuration: config.fetchTimeoutMs ?? 5000,
  });
  return { issuer: meta.issuer, tid, jwks, fetchedAtMs: Date.now() };
}

function storeKey(config: ApiAuthConfig): string {
  const ca = config.caCertificate ? createHash('sha256').update(config.caCertificate).digest('hex') : '';
  return JSON.stringify([authorityRootOf(config), config.tenantId.toLowerCase(), ca, config.jwksCooldownMs ?? null, config.fetchTimeoutMs ?? null]);
}

async function tenantKeys(config: ApiAuthConfig): Promise<TenantKeys> {
  const key = storeKey(config);
  const maxAge = config.metadataMaxAgeMs ?? 24 * 3_600_000;
  let pending = stores.get(key);
  if (pending) {
    try {
      const keys = await pending;
      if (Date.now() - keys.fetchedAtMs < maxAge) return keys;
    } catch { /* failures are not cached: fetch again */ }
    if (stores.get(key) === pending) stores.delete(key);
  }
  pending = stores.get(key);
  if (!pending) {
    pending = loadTenantKeys(config);
    stores.set(key, pending);
    pending.catch(() => { if (stores.get(key) === pending) stores.delete(key); });
  }
  return pending;
}

/** Maps a jose failure to the refusal it means. */
function refusal(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof joseErrors.JWTExpired) return new AuthError('TokenExpired', 'the token has expired: get a new one');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new AuthError('TokenNotYetValid', 'the token is not valid yet (nbf is in the future)');
    if (err.claim === 'aud') return new AuthError('InvalidAudience', 'the token is not for this API (aud must be the worker app\'s client id or api://<client id>)');
    if (err.claim === 'iss') return new AuthError('InvalidIssuer', 'the token was not issued by the tenant\'s token service');
    return new AuthError('InvalidClaims', `the token's "${err.claim}" claim is missing or invalid`);
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError('InvalidSignature', 'the token\'s signature is not valid');
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) return new AuthError('UnknownSigningKey', 'the token is signed with a key the tenant does not publish');
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return new AuthError('UnsupportedAlgorithm', `the token's signature algorithm is not accepted (accepted: ${ACCEPTED_ALGORITHMS.join(', ')})`);
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return new AuthError('MalformedToken', 'the token is not a well-formed signed JWT');
  return new AuthError('AuthMetadataUnavailable', 'the tenant\'s signing keys could not be read; try again later', { cause: err });
}

/**
 * Validates an access token (the JWT itself) for the worker API.
 * @returns the caller's identity
 * @throws AuthError 401 (MalformedToken, UnsupportedAlgorithm, UnknownSigningKey, InvalidSignature,
 *         InvalidAudience, InvalidIssuer, WrongTenant, TokenExpired, TokenNotYetValid, InvalidClaims,
 *         AppOnlyTokenRefused), 403 InsufficientScope / ClientAppNotAllowed, 503 AuthMetadataUnavailable; TypeError for a bad config
 */
export async function validateAccessToken(token: string, config: ApiAuthConfig): Promise<ApiIdentity> {
  if (!token) throw new AuthError('MissingToken', 'an access token for the worker API is required');
  if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new AuthError('MalformedToken', 'the token is not a well-formed signed JWT');
  let alg: unknown;
  try { ({ alg } = decodeProtectedHeader(token)); } catch { throw new AuthError('MalformedToken', 'the token is not a well-formed signed JWT'); }
  if (typeof alg !== 'string' || !ACCEPTED_ALGORITHMS.includes(alg)) {
    throw new AuthError('UnsupportedAlgorithm', `the token's signature algorithm is not accepted (accepted: ${ACCEPTED_ALGORITHMS.join(', ')}; never none or HS*)`);
  }
  if (!config.clientId) throw new TypeError('auth config: clientId (the worker app\'s application id) is missing');
  if (!config.tenantId) throw new TypeError('auth config: tenantId is missing');
  const keys = await tenantKeys(config);
  const audiences = config.audiences?.length ? [...config.audiences] : [config.clientId, `api://${config.clientId}`];
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.jwks, {
      algorithms: [...ACCEPTED_ALGORITHMS], audience: audiences,
      clockTolerance: config.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC, requiredClaims: ['exp'],
    }));
  } catch (err) {
    throw refusal(err);
  }
  if (typeof payload.tid !== 'string' || payload.tid.toLowerCase() !== keys.tid) throw new AuthError('WrongTenant', 'the token belongs to another tenant');
  if (payload.iss !== keys.issuer) {
    const v1 = typeof payload.iss === 'string' && payload.iss.startsWith('https://sts.windows.net/');
    throw new AuthError('InvalidIssuer', v1
      ? 'the token is a v1.0 token: set "requestedAccessTokenVersion": 2 in the worker app registration\'s manifest'
      : 'the token was not issued by the tenant\'s token service');
  }
  const identity = new ApiIdentity(payload, token);
  if (identity.kind === 'app') {
    if (!config.acceptAppOnlyTokens) throw new AuthError('AppOnlyTokenRefused', 'app-only tokens are not accepted: call the API with a user\'s token');
  } else {
    const scope = config.requiredScope ?? DEFAULT_API_SCOPE;
    if (!identity.scp.includes(scope)) throw new AuthError('InsufficientScope', `the token lacks the "${scope}" scope of the worker API`);
  }
  if (!identity.oid) throw new AuthError('InvalidClaims', 'the token\'s "oid" claim is missing');
  if (config.allowedClientAppIds?.length) {
    const allowed = config.allowedClientAppIds.map((a) => a.toLowerCase());
    if (!identity.clientAppId || !allowed.includes(identity.clientAppId.toLowerCase())) throw new AuthError('ClientAppNotAllowed', 'the app that obtained this token may not call the worker API');
  }
  return identity;
}

/**
 * Validates the `Authorization` header of an API request (`Bearer <JWT>`, scheme case-insensitive).
 * @param authorizationHeader the header's value, or undefined when absent
 * @throws AuthError as {@link validateAccessToken}; MissingToken (401, `WWW-Authenticate: Bearer`)
 *         without a header; MalformedToken for another scheme
 */
export async function validateBearerToken(authorizationHeader: string | string[] | undefined, config: ApiAuthConfig): Promise<ApiIdentity> {
  const header = Array.isArray(authorizationHeader) ? authorizationHeader[0] : authorizationHeader;
  if (!header || !header.trim()) throw new AuthError('MissingToken', 'an Authorization: Bearer <token> header is required');
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header.trim());
  if (!m) throw new AuthError('MalformedToken', 'the Authorization header must be "Bearer <token>"');
  return validateAccessToken(m[1], config);
}
