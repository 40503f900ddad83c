/**
 * The sandbox's token issuer and Graph-side validation: an RS256 key pair (jose), OpenID metadata
 * and JWKS, access tokens for apps (client credentials: `roles`) and users (password / On-Behalf-Of:
 * `scp`), and the checks Graph makes on every call: signature, issuer, audience, expiry.
 * Claims follow Microsoft identity platform access tokens (tid, oid, appid/azp, roles, scp, idtyp, upn).
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload, type KeyLike } from 'jose';
import { GraphErrors } from './graph-errors';

/** The Graph application id: tokens for Graph may name it as audience instead of the URL. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Token lifetime (Entra's default for access tokens is 60-90 min). */
export const DEFAULT_TOKEN_LIFETIME_SEC = 3600;

/** Application permissions (roles) the sandbox app holds by default. */
export const DEFAULT_APP_ROLES: readonly string[] = [
  'MailboxItem.Export.All', 'MailboxFolder.Read.All', 'MailboxItem.Read.All', 'User.Read.All', 'Mail.Read',
  'Contacts.Read', 'Calendars.Read', 'Tasks.Read.All',
];
/** Delegated permissions (scopes) consented for the sandbox app by default. */
export const DEFAULT_DELEGATED_SCOPES: readonly string[] = [
  'MailboxItem.Export', 'MailboxItem.Read', 'MailboxFolder.Read', 'Mail.Read', 'User.Read', 'Contacts.Read', 'Calendars.Read', 'Tasks.Read',
];

/** Who a validated token speaks for. */
export interface Principal {
  readonly kind: 'app' | 'user';
  readonly appId: string;
  /** App roles (app-only tokens). */
  readonly roles: ReadonlySet<string>;
  /** Delegated scopes (user tokens). */
  readonly scopes: ReadonlySet<string>;
  /** The signed-in user's object id (user tokens). */
  readonly userId?: string;
  readonly claims: JWTPayload;
}

/** Settings of the issuer. */
export interface TokenIssuerOptions {
  tenantId: string;
  /** Token service root (`http://127.0.0.1:port`): issuer = `<root>/<tenant>/v2.0`. */
  authorityUrl: string;
  /** Graph root (`http://127.0.0.1:port`): the audience Graph tokens carry. */
  graphUrl: string;
  lifetimeSec?: number;
}

/** Clock skew allowed on `exp`/`nbf` when verifying, seconds (as Entra-protected resources allow). */
const VERIFY_SKEW_SEC = 60;
/** Verified tokens remembered at most (the cache is emptied when full). */
const VERIFIED_CACHE_MAX = 1024;

/** Issues and validates the tenant's tokens. */
export class TokenIssuer {
  readonly kid: string;
  private constructor(
    readonly options: TokenIssuerOptions,
    private readonly privateKey: KeyLike,
    private readonly publicJwk: JWK,
  ) {
    this.kid = publicJwk.kid!;
  }

  /** A new issuer with a fresh RS256 key pair. */
  static async create(options: TokenIssuerOptions): Promise<TokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = await exportJWK(publicKey);
    jwk.kid = randomUUID();
    jwk.use = 'sig';
    jwk.alg = 'RS256';
    return new TokenIssuer(options, privateKey, jwk);
  }

  /** `iss` of every token: `<authority>/<tenant>/v2.0`. */
  get issuer(): string {
    return `${this.options.authorityUrl}/${this.options.tenantId}/v2.0`;
  }

  /** The JWKS document. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** OpenID Provider metadata (/.well-known/openid-configuration) of the tenant. */
  openidConfiguration(): Record<string, unknown> {
    const base = `${this.options.authorityUrl}/${this.options.tenantId}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${this.options.authorityUrl}/${this.options.tenantId}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: this.issuer,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      grant_types_supported: ['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'roles', 'scp', 'upn'],
      tenant_region_scope: 'NA',
      cloud_instance_name: 'sandbox.outport.test',
    };
  }

  /** Signs arbitrary claims with the issuer's key (tests use it for expired or foreign tokens). */
  async sign(claims: JWTPayload, options: { lifetimeSec?: number; issuedAtSec?: number } = {}): Promise<string> {
    const iat = options.issuedAtSec ?? Math.floor(Date.now() / 1000);
    const lifetime = options.lifetimeSec ?? this.options.lifetimeSec ?? DEFAULT_TOKEN_LIFETIME_SEC;
    return new SignJWT({ ver: '2.0', tid: this.options.tenantId, ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid })
      .setIssuer(this.issuer)
      .setIssuedAt(iat)
      .setNotBefore(iat - 5)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }

  /** An app-only token (client credentials) for `audience` (default Graph) with `roles`. */
  appToken(appId: string, roles: readonly string[], audience = this.options.graphUrl): Promise<string> {
    return this.sign({ aud: audience, appid: appId, azp: appId, oid: appId, sub: appId, idtyp: 'app', roles: [...roles] });
  }

  /**
   * A delegated token for a user, `scopes` space-separated in `scp`; the user's directory roles'
   * template ids in `wids` (Entra sends `wids` when the app's groupMembershipClaims include
   * DirectoryRole, as the sandbox app's do).
   */
  userToken(user: { id: string; userPrincipalName: string; displayName: string; directoryRoles?: readonly { roleTemplateId: string }[] }, appId: string, scopes: readonly string[], audience = this.options.graphUrl, lifetimeSec?: number): Promise<string> {
    const wids = user.directoryRoles?.length ? { wids: user.directoryRoles.map((r) => r.roleTemplateId) } : {};
    return this.sign(
      { aud: audience, appid: appId, azp: appId, oid: user.id, sub: user.id, upn: user.userPrincipalName, preferred_username: user.userPrincipalName, name: user.displayName, idtyp: 'user', scp: scopes.join(' '), ...wids },
      { lifetimeSec },
    );
  }

  /**
   * Verifies a token as a resource would: RS256 signature with the issuer's key, `iss`, `aud` (one of
   * `audiences`), `exp`/`nbf` (60 s skew).
   * @throws SandboxGraphError 401 InvalidAuthenticationToken with Graph's messages
   */
  async verify(token: string, audiences: readonly string[]): Promise<Principal> {
    // A token already verified for these audiences is accepted again without the RS256 check until
    // the same moment jwtVerify would refuse it (exp + the 60 s skew): the signature, issuer,
    // audience and tenant of a token's fixed bytes cannot change. Benchmarks send thousands of
    // requests a second with one token; the check cost the sandbox ~0.2 ms of CPU a request.
    const key = `${JSON.stringify(audiences)}\n${token}`;
    const hit = this.verified.get(key);
    const now = Date.now();
    if (hit && now < hit.acceptUntilMs && now >= hit.acceptFromMs) return hit.principal;
    if (hit) this.verified.delete(key);
    const principal = await this.verifyOnce(token, audiences);
    const { exp, nbf } = principal.claims;
    if (typeof exp === 'number') {
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
      // jose refuses from (exp + skew) s on, and before (nbf − skew) s
      this.verified.set(key, { principal, acceptUntilMs: (exp + VERIFY_SKEW_SEC) * 1000, acceptFromMs: typeof nbf === 'number' ? (nbf - VERIFY_SKEW_SEC) * 1000 : -Infinity });
    }
    return principal;
  }

  /** Tokens verified by {@link verify}, by audiences and token, with when they stop being accepted. */
  private readonly verified = new Map<string, { principal: Principal; acceptUntilMs: number; acceptFromMs: number }>();

  /** {@link verify} without the cache. */
  private async verifyOnce(token: string, audiences: readonly string[]): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async () => this.publicKey(), { algorithms: ['RS256'], clockTolerance: VERIFY_SKEW_SEC }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw GraphErrors.invalidToken('Lifetime validation failed, the token is expired.');
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw GraphErrors.invalidToken('Access token validation failure. Signature verification failed.');
      throw GraphErrors.invalidToken('IDX14100: JWT is not well formed.');
    }
    if (payload.iss !== this.issuer) throw GraphErrors.invalidToken('Access token validation failure. Invalid issuer.');
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.some((a) => a !== undefined && audiences.includes(a))) throw GraphErrors.invalidToken('Access token validation failure. Invalid audience.');
    if (payload.tid !== this.options.tenantId) throw GraphErrors.invalidToken('Access token validation failure. Invalid tenant.');
    const appId = String(payload.appid ?? payload.azp ?? '');
    if (payload.idtyp === 'app' || (payload.scp === undefined && Array.isArray(payload.roles))) {
      return { kind: 'app', appId, roles: new Set((payload.roles as string[] | undefined) ?? []), scopes: new Set(), claims: payload };
    }
    return { kind: 'user', appId, roles: new Set(), scopes: new Set(String(payload.scp ?? '').split(' ').filter(Boolean)), userId: String(payload.oid ?? ''), claims: payload };
  }

  private publicKeyCache?: KeyLike | Uint8Array;
  private async publicKey(): Promise<KeyLike | Uint8Array> {
    this.publicKeyCache ??= await importJWK(this.publicJwk, 'RS256');
    return this.publicKeyCache;
  }
}
