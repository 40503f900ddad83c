/**
 * Graph token sources on @azure/msal-node 7 (`ConfidentialClientApplication`):
 * - {@link ClientCredentialsTokenSource}: app-only tokens (`acquireTokenByClientCredential`) with a
 *   client secret or a certificate (admin and unattended exports; application permissions).
 * - {@link OnBehalfOfTokenSource}: delegated tokens for the signed-in user (`acquireTokenOnBehalfOf`)
 *   traded for the add-in's token to the worker API (the user assertion). msal-node does not renew
 *   OBO with refresh tokens: when the assertion has expired the token service answers `invalid_grant`
 *   AADSTS500133 (FACTS.md "Authentication"), and the source throws {@link TokenSourceError}
 *   `AuthExpired`, which the jobs runner maps to the job state WaitingForAuth; `replaceAssertion`
 *   takes the fresh token the add-in posts.
 *
 * Authority = `<authorityUrl>/<tenantId>` (Microsoft identity platform v2). MSAL accepts only
 * `https:` authorities (msal-common `UrlString.validateAsUri`: `authority_uri_insecure`); for a host
 * that is not a Microsoft login host (the sandbox tenant) it is listed in `knownAuthorities`, so MSAL
 * skips instance discovery against login.microsoftonline.com and reads the host's own OpenID metadata
 * (`<authority>/v2.0/.well-known/openid-configuration`). A self-signed token service (the sandbox's
 * HTTPS listener) is trusted through {@link CaTrustingNetworkClient} (MSAL `system.networkClient`,
 * node:https with `ca`): TLS verification stays on everywhere.
 *
 * Secrets (client secret, certificate key, assertions, access tokens) live in private (#) fields;
 * `toJSON` and `util.inspect` show only non-secret settings; error messages carry AADSTS codes and
 * the service's description with anything token-shaped removed.
 * Sources: learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow,
 * /v2-oauth2-on-behalf-of-flow, /msal-node-migration; msal-node docs "Configuration".
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { inspect } from 'node:util';
import {
  AuthError, ClientConfigurationError, ConfidentialClientApplication, LogLevel, ServerError,
  type AuthenticationResult, type Configuration, type INetworkModule, type NetworkRequestOptions, type NetworkResponse,
} from '@azure/msal-node';
import { CLOUDS, type CloudName } from './clouds';
import type { AccessToken, ClientCredentialsTokenSourceOptions, TokenSource } from './token-source';

/** Codes of {@link TokenSourceError}; the runner decides by code, never by message. */
export const TokenSourceCodes = {
  /** The user assertion expired or is no longer accepted (OBO `invalid_grant`, AADSTS500133/50013),
   *  or none is held: wait for the add-in to post a fresh token (job state WaitingForAuth). */
  AuthExpired: 'AuthExpired',
  /** Admin consent missing for the permissions asked (AADSTS65001): an admin must consent. */
  ConsentRequired: 'ConsentRequired',
  /** The user must sign in interactively again (MFA, Conditional Access: `interaction_required`). */
  InteractionRequired: 'InteractionRequired',
  /** The app's credentials were refused: wrong or expired secret, unknown certificate, unknown client id
   *  (`invalid_client`, `unauthorized_client`: AADSTS7000215, 7000222, 700027, 700016). */
  InvalidClient: 'InvalidClient',
  /** The scope or resource does not exist in the tenant (`invalid_scope`, `invalid_resource`). */
  InvalidScope: 'InvalidScope',
  /** The tenant id or authority is wrong (`invalid_tenant` AADSTS90002, issuer or metadata rejected). */
  InvalidConfiguration: 'InvalidConfiguration',
  /** No answer from the token service (DNS, TCP, TLS, timeout, 5xx): retry later. */
  TokenServiceUnavailable: 'TokenServiceUnavailable',
  /** Any other refusal. */
  TokenRequestFailed: 'TokenRequestFailed',
} as const;
/** One of {@link TokenSourceCodes}. */
export type TokenSourceCode = (typeof TokenSourceCodes)[keyof typeof TokenSourceCodes];

/** A token could not be acquired. `message` is safe to log and return (no token, no secret). */
export class TokenSourceError extends Error {
  override readonly name = 'TokenSourceError';
  /** What to do about it: see {@link TokenSourceCodes}. */
  readonly code: TokenSourceCode;
  /** The token service's error (`invalid_grant`, `invalid_client`, …) when it answered. */
  readonly oauthError?: string;
  /** The AADSTS number (e.g. 500133) when the token service gave one. */
  readonly aadsts?: number;
  constructor(code: TokenSourceCode, message: string, details: { oauthError?: string; aadsts?: number; cause?: unknown } = {}) {
    super(redactTokens(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    if (details.oauthError !== undefined) this.oauthError = details.oauthError;
    if (details.aadsts !== undefined) this.aadsts = details.aadsts;
  }
}

/** Invalid settings of a token source (a missing or malformed field); the message names the field and the fix. */
export class TokenSourceConfigError extends TypeError {
  override readonly name = 'TokenSourceConfigError';
}

/** Replaces JWT-shaped and long opaque strings (tokens, secrets) in a message. */
export function redactTokens(text: string): string {
  return text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted-token]')
    .replace(/(client_secret|assertion|access_token|client_assertion)=[^&\s]+/gi, '$1=[redacted]');
}

// ---------------------------------------------------------------------------------------------
// Network client

/** Options of {@link CaTrustingNetworkClient}. */
export interface CaTrustingNetworkClientOptions {
  /** PEM certificate(s) trusted in addition to Node's bundled roots (e.g. the sandbox's self-signed one). */
  caCertificate?: string;
  /** Per-request timeout when MSAL gives none, ms; default 30,000. */
  timeoutMs?: number;
}

/** Largest JSON answer read from a token service (metadata, JWKS, token responses are a few KB). */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * MSAL's `INetworkModule` on node:http(s), trusting an extra CA (`https.Agent({ ca })` with Node's
 * root store kept). Answers `{ status, headers (lower-case), body (parsed JSON) }` for every status,
 * as MSAL's own HttpClient does; MSAL reads the OAuth error body of 4xx answers.
 * @throws Error on network failure, timeout, an answer over 1 MiB, or a body that is not JSON
 *         (messages carry the URL's origin and path only)
 */
export class CaTrustingNetworkClient implements INetworkModule {
  readonly #agent: https.Agent;
  readonly #timeoutMs: number;

  constructor(options: CaTrustingNetworkClientOptions = {}) {
    const ca = options.caCertificate ? [...tlsRootCertificates(), options.caCertificate] : undefined;
    this.#agent = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }

  /** GET a JSON document (OpenID metadata, JWKS) and fail on a non-2xx status. */
  async getJson<T>(url: string): Promise<T> {
    const res = await this.#send<T>('GET', url);
    if (res.status < 200 || res.status > 299) throw new Error(`GET ${safeUrl(url)} answered ${res.status}`);
    return res.body;
  }

  /** The agent (for libraries taking one, e.g. jose's createRemoteJWKSet). */
  get agent(): https.Agent { return this.#agent; }

  /** Frees the keep-alive sockets. */
  close(): void { this.#agent.destroy(); }

  #send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!lib) return Promise.reject(new Error(`unsupported protocol ${target.protocol} in ${safeUrl(url)}`));
    const body = options?.body;
    const headers: Record<string, string> = { ...(options?.headers ?? {}) };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<NetworkResponse<T>>((resolve, reject) => {
      const req = lib.request(target, { method, headers, ...(lib === https ? { agent: this.#agent } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) { req.destroy(new Error(`answer of ${safeUrl(url)} is larger than ${MAX_RESPONSE_BYTES} bytes`)); return; }
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try { parsed = text ? JSON.parse(text) : {}; } catch {
            reject(new Error(`answer of ${method} ${safeUrl(url)} (${res.statusCode}) is not JSON`));
            return;
          }
          const outHeaders: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) outHeaders[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: outHeaders, body: parsed as T });
        });
      });
      req.setTimeout(timeout ?? this.#timeoutMs, () => req.destroy(new Error(`${method} ${safeUrl(url)} timed out`)));
      req.on('error', (err) => reject(new Error(`${method} ${safeUrl(url)} failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err })));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  toJSON(): Record<string, unknown> { return { kind: 'CaTrustingNetworkClient', timeoutMs: this.#timeoutMs }; }
}

/** Node's bundled roots, so that giving a CA adds trust instead of replacing it. */
function tlsRootCertificates(): readonly string[] {
  return rootCertificates;
}

function safeUrl(url: string): string {
  try { const u = new URL(url); return `${u.origin}${u.pathname}`; } catch { return '(invalid URL)'; }
}

// ---------------------------------------------------------------------------------------------
// Settings

/** How the app proves itself: exactly one of a secret and a certificate. */
export interface MsalClientCredential {
  /** Client secret (Certificates & secrets → Client secrets). */
  clientSecret?: string;
  /**
   * Certificate registered on the app (preferred over a secret for unattended exports):
   * `thumbprintSha256` = hex SHA-256 of the DER certificate (MSAL sends it as `x5t#S256`),
   * `privateKeyPem` = PKCS#8 PEM private key, `x5c` = the PEM certificate chain (optional; for
   * subject-name/issuer authentication).
   */
  certificate?: { thumbprintSha256: string; privateKeyPem: string; x5c?: string };
}

/** Settings of an MSAL confidential client for one tenant. */
export interface MsalAppSettings extends MsalClientCredential {
  /** Token service root: the cloud's login host (`CLOUDS[cloud].loginBaseUrl`) unless given. https only. */
  authorityUrl?: string;
  /** The cloud; used for the login host when `authorityUrl` is absent. Default `global`. */
  cloud?: CloudName;
  /** Directory (tenant) id or a verified domain. */
  tenantId: string;
  /** Application (client) id of the worker app. */
  clientId: string;
  /** PEM certificate(s) to trust for the token service (the sandbox's self-signed HTTPS listener). */
  caCertificate?: string;
  /**
   * MSAL's `authorityMetadata`: the tenant's OpenID metadata as a JSON string, to skip fetching it.
   * Normally unnecessary: MSAL fetches `<authority>/v2.0/.well-known/openid-configuration` once.
   */
  authorityMetadata?: string;
  /** Receives MSAL's warnings and errors (PII logging off: no tokens or user names). */
  log?: (level: 'error' | 'warning', message: string) => void;
}

const MICROSOFT_LOGIN_HOSTS = new Set(Object.values(CLOUDS).map((c) => new URL(c.loginBaseUrl).host.toLowerCase()));

/** The authority URL (`<root>/<tenantId>`) of settings.
 *  @throws TokenSourceConfigError naming the field for a missing tenant, an unknown cloud, a non-https root */
export function msalAuthority(settings: Pick<MsalAppSettings, 'authorityUrl' | 'cloud' | 'tenantId'>): string {
  if (!settings.tenantId || !/^[\w.-]+$/.test(settings.tenantId)) throw new TokenSourceConfigError('tenantId is missing or malformed: give the directory (tenant) id GUID or a verified domain');
  let root = settings.authorityUrl;
  if (!root) {
    const cloud = settings.cloud ?? 'global';
    if (cloud === 'custom') throw new TokenSourceConfigError('authorityUrl is required for cloud "custom": give the token service root (https://…)');
    const known = CLOUDS[cloud as keyof typeof CLOUDS];
    if (!known) throw new TokenSourceConfigError(`cloud "${cloud}" is unknown: use global, usgov, dod, china or custom`);
    root = known.loginBaseUrl;
  }
  let url: URL;
  try { url = new URL(root); } catch { throw new TokenSourceConfigError(`authorityUrl "${root}" is not an absolute URL: give e.g. https://login.microsoftonline.com`); }
  if (url.protocol !== 'https:') throw new TokenSourceConfigError(`authorityUrl must be https (MSAL refuses ${url.protocol} authorities): for the sandbox start it with https: true (outport sandbox --https) and use its https authorityUrl and caCertificate`);
  if (url.search || url.hash || url.username || url.password) throw new TokenSourceConfigError('authorityUrl must not carry a query, fragment or credentials');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/${settings.tenantId}`;
}

/** The MSAL configuration of settings (exported for tests and for callers that build their own MSAL app).
 *  @throws TokenSourceConfigError naming the missing or conflicting field */
export function msalConfiguration(settings: MsalAppSettings): Configuration {
  if (!settings.clientId) throw new TokenSourceConfigError('clientId is missing: give the application (client) id of the worker app registration');
  const authority = msalAuthority(settings);
  const hasSecret = !!settings.clientSecret;
  const cert = settings.certificate;
  if (hasSecret === !!cert) throw new TokenSourceConfigError(hasSecret ? 'give either clientSecret or certificate, not both' : 'clientSecret or certificate is required: add a client secret or upload a certificate to the app registration');
  if (cert && (!/^[0-9a-f]{64}$/i.test(cert.thumbprintSha256 ?? '') || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(cert.privateKeyPem ?? ''))) {
    throw new TokenSourceConfigError('certificate needs thumbprintSha256 (64 hex digits: SHA-256 of the DER certificate) and privateKeyPem (a PEM private key)');
  }
  const host = new URL(authority).host.toLowerCase();
  const log = settings.log;
  return {
    auth: {
      clientId: settings.clientId,
      authority,
      ...(hasSecret ? { clientSecret: settings.clientSecret } : { clientCertificate: { thumbprintSha256: cert!.thumbprintSha256, privateKey: cert!.privateKeyPem, ...(cert!.x5c ? { x5c: cert!.x5c } : {}) } }),
      // A non-Microsoft host (the sandbox) is trusted as its own authority: no instance discovery.
      ...(MICROSOFT_LOGIN_HOSTS.has(host) ? {} : { knownAuthorities: [host] }),
      ...(settings.authorityMetadata ? { authorityMetadata: settings.authorityMetadata } : {}),
    },
    system: {
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message, containsPii) => {
          if (!log || containsPii) return;
          if (level === LogLevel.Error) log('error', redactTokens(message));
          else if (level === LogLevel.Warning) log('warning', redactTokens(message));
        },
      },
      ...(settings.caCertificate ? { networkClient: new CaTrustingNetworkClient({ caCertificate: settings.caCertificate }) } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Token sources

function aadstsOf(err: AuthError): number | undefined {
  const n = Number((err as ServerError).errorNo);
  if (Number.isInteger(n) && n > 0) return n;
  const m = /AADSTS(\d+)/.exec(err.errorMessage ?? err.message);
  return m ? Number(m[1]) : undefined;
}

/** A safe, short description of an MSAL error: the service's first line, tokens removed. */
function describe(err: AuthError): string {
  const text = (err.errorMessage || err.message || '').split(/\r?\n/)[0];
  // MSAL formats server errors as "Error(s): N - Timestamp: … - Description: AADSTSN: … - Trace ID: … - Correlation ID: …".
  const aad = /AADSTS\d+:.*?(?=\s+-\s+(?:Trace ID|Correlation ID|Timestamp):|$)/.exec(text);
  const said = aad ? aad[0] : text.replace(/\s*-?\s*(Trace ID|Correlation ID):.*$/i, '');
  return `${err.errorCode}${said ? `: ${said}` : ''}`;
}

/** Maps an MSAL failure to a TokenSourceError; `obo` turns assertion refusals into AuthExpired. */
export function toTokenSourceError(err: unknown, obo = false): TokenSourceError {
  if (err instanceof TokenSourceError) return err;
  if (!(err instanceof AuthError)) {
    return new TokenSourceError(TokenSourceCodes.TokenServiceUnavailable, `token service unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const aadsts = aadstsOf(err);
  const oauthError = err.errorCode;
  const details = { oauthError, aadsts, cause: err };
  const text = describe(err);
  if (err instanceof ClientConfigurationError) return new TokenSourceError(TokenSourceCodes.InvalidConfiguration, `MSAL configuration refused: ${text}`, details);
  if (aadsts === 65001 || oauthError === 'consent_required') return new TokenSourceError(TokenSourceCodes.ConsentRequired, `admin consent is missing for the requested permissions: ${text}`, details);
  if (obo && (oauthError === 'invalid_grant' || aadsts === 500133 || aadsts === 50013)) {
    return new TokenSourceError(TokenSourceCodes.AuthExpired, `the user's sign-in token is expired or no longer accepted; a fresh token from the add-in is needed: ${text}`, details);
  }
  if (oauthError === 'interaction_required' || oauthError === 'login_required') return new TokenSourceError(TokenSourceCodes.InteractionRequired, `the user must sign in again: ${text}`, details);
  if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') return new TokenSourceError(TokenSourceCodes.InvalidClient, `the app's credentials were refused: ${text}`, details);
  if (oauthError === 'invalid_scope' || oauthError === 'invalid_resource') return new TokenSourceError(TokenSourceCodes.InvalidScope, `scope refused: ${text}`, details);
  if (oauthError === 'invalid_tenant' || aadsts === 90002) return new TokenSourceError(TokenSourceCodes.InvalidConfiguration, `tenant not found: ${text}`, details);
  if (oauthError === 'openid_config_error' || oauthError === 'endpoints_resolution_error') {
    // MSAL folds every failure to read `<authority>/v2.0/.well-known/openid-configuration` into these.
    return new TokenSourceError(TokenSourceCodes.InvalidConfiguration, `the authority's OpenID metadata could not be read (check tenantId and authorityUrl; for a self-signed token service set caCertificate): ${oauthError}`, details);
  }
  const status = (err as ServerError).status;
  if (oauthError === 'network_error' || oauthError === 'temporarily_unavailable' || (status !== undefined && status >= 500)) {
    return new TokenSourceError(TokenSourceCodes.TokenServiceUnavailable, `token service unavailable: ${text}`, details);
  }
  return new TokenSourceError(TokenSourceCodes.TokenRequestFailed, `token request refused: ${text}`, details);
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, (e) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}

function accessTokenOf(result: AuthenticationResult | null): AccessToken {
  if (!result?.accessToken) throw new TokenSourceError(TokenSourceCodes.TokenRequestFailed, 'the token service answered without an access token');
  return { token: result.accessToken, expiresOnMs: result.expiresOn ? result.expiresOn.getTime() : Date.now() + 5 * 60_000 };
}

function describeSettings(kind: string, s: MsalAppSettings): Record<string, unknown> {
  return { kind, authority: msalAuthority(s), clientId: s.clientId, credential: s.clientSecret ? 'secret' : 'certificate', customCa: !!s.caCertificate };
}

/**
 * App-only Graph tokens (OAuth 2.0 client credentials) through MSAL, cached by MSAL until shortly
 * before expiry. Scopes are `<resource>/.default` (for Graph: the cloud's `graphScope`).
 * @throws TokenSourceConfigError from the constructor on bad settings
 */
export class ClientCredentialsTokenSource implements TokenSource {
  readonly #app: ConfidentialClientApplication;
  readonly #describe: Record<string, unknown>;

  constructor(settings: MsalAppSettings) {
    this.#app = new ConfidentialClientApplication(msalConfiguration(settings));
    this.#describe = describeSettings('ClientCredentialsTokenSource', settings);
  }

  /** @throws TokenSourceError (InvalidClient, InvalidScope, InvalidConfiguration, TokenServiceUnavailable, …); the signal's reason */
  async getToken(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    try {
      return accessTokenOf(await abortable(this.#app.acquireTokenByClientCredential({ scopes: [...scopes] }), signal));
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err;
      throw toTokenSourceError(err);
    }
  }

  toJSON(): Record<string, unknown> { return { ...this.#describe }; }
  [inspect.custom](): string { return `ClientCredentialsTokenSource ${JSON.stringify(this.#describe)}`; }
}

/** Settings of {@link OnBehalfOfTokenSource}. */
export interface OnBehalfOfSettings extends MsalAppSettings {
  /** The user's token for the worker API (`aud` = the worker app), as validated by api/auth. */
  userAssertion?: string;
  /**
   * Asked for a fresh assertion when the token service refuses the current one (and when none is
   * held); may answer undefined (then AuthExpired). Optional: without it the runner calls
   * `replaceAssertion` when the add-in posts a fresh token.
   */
  getUserAssertion?(signal?: AbortSignal): Promise<string | undefined>;
}

/**
 * Delegated Graph tokens for one user through On-Behalf-Of (grant
 * `urn:ietf:params:oauth:grant-type:jwt-bearer`, `requested_token_use=on_behalf_of`). MSAL caches
 * the Graph token per assertion; after the assertion expires the token service refuses it and
 * getToken throws TokenSourceError `AuthExpired` (after asking `getUserAssertion`, when given, once).
 */
export class OnBehalfOfTokenSource implements TokenSource {
  readonly #app: ConfidentialClientApplication;
  readonly #describe: Record<string, unknown>;
  readonly #getUserAssertion?: (signal?: AbortSignal) => Promise<string | undefined>;
  #assertion: string | undefined;

  constructor(settings: OnBehalfOfSettings) {
    this.#app = new ConfidentialClientApplication(msalConfiguration(settings));
    this.#describe = describeSettings('OnBehalfOfTokenSource', settings);
    this.#assertion = settings.userAssertion || undefined;
    this.#getUserAssertion = settings.getUserAssertion?.bind(settings);
  }

  /** Takes a fresh user assertion (the add-in posted a new token); the next getToken uses it.
   *  @throws TokenSourceConfigError for an empty or non-JWT string */
  replaceAssertion(token: string): void {
    if (!token || token.split('.').length !== 3) throw new TokenSourceConfigError('the user assertion must be a JWT (the add-in\'s token for the worker API)');
    this.#assertion = token;
  }

  /** Whether a user assertion is held. */
  get hasAssertion(): boolean { return this.#assertion !== undefined; }

  /** The held assertion's `exp`, epoch ms (undefined without one or without `exp`): when a fresh one will be needed. */
  get assertionExpiresOnMs(): number | undefined {
    if (!this.#assertion) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(this.#assertion.split('.')[1], 'base64url').toString('utf8')) as { exp?: unknown };
      return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
    } catch { return undefined; }
  }

  /** @throws TokenSourceError AuthExpired (no assertion, or refused), ConsentRequired, InvalidClient, …; the signal's reason */
  async getToken(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    if (!this.#assertion) await this.#refreshAssertion(signal);
    try {
      return await this.#acquire(scopes, signal);
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err;
      const mapped = toTokenSourceError(err, true);
      if (mapped.code !== TokenSourceCodes.AuthExpired || !this.#getUserAssertion) throw mapped;
      const before = this.#assertion;
      await this.#refreshAssertion(signal);
      if (this.#assertion === before) throw mapped;
      try {
        return await this.#acquire(scopes, signal);
      } catch (err2) {
        if (signal?.aborted && err2 === signal.reason) throw err2;
        throw toTokenSourceError(err2, true);
      }
    }
  }

  async #acquire(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    return accessTokenOf(await abortable(this.#app.acquireTokenOnBehalfOf({ oboAssertion: this.#assertion!, scopes: [...scopes] }), signal));
  }

  async #refreshAssertion(signal?: AbortSignal): Promise<void> {
    const fresh = this.#getUserAssertion ? await this.#getUserAssertion(signal) : undefined;
    if (fresh) { this.replaceAssertion(fresh); return; }
    if (!this.#assertion) throw new TokenSourceError(TokenSourceCodes.AuthExpired, 'no user token is held: the add-in must post a fresh token');
  }

  toJSON(): Record<string, unknown> { return { ...this.#describe, hasAssertion: this.hasAssertion }; }
  [inspect.custom](): string { return `OnBehalfOfTokenSource ${JSON.stringify(this.toJSON())}`; }
}

/**
 * The tenant config fields that choose Graph tokens (`sandbox/config.ts` TenantConfig and a real
 * tenant's config share them). `certificate` is an addition for real tenants.
 */
export interface TenantAuthConfig extends MsalClientCredential {
  cloud: CloudName;
  /** Token service root; absent or empty → the cloud's login host. */
  authorityUrl?: string;
  tenantId: string;
  clientId: string;
  caCertificate?: string;
}

/** MSAL settings from a tenant config (an empty clientSecret counts as absent). */
export function msalSettingsFromTenantConfig(config: TenantAuthConfig): MsalAppSettings {
  return {
    cloud: config.cloud, authorityUrl: config.authorityUrl || undefined, tenantId: config.tenantId, clientId: config.clientId,
    ...(config.clientSecret ? { clientSecret: config.clientSecret } : {}),
    ...(config.certificate ? { certificate: config.certificate } : {}),
    ...(config.caCertificate ? { caCertificate: config.caCertificate } : {}),
  };
}

/** MSAL settings from token-source.ts's contract (`loginBaseUrl` is the authority root). */
export function msalSettingsFromOptions(options: ClientCredentialsTokenSourceOptions & { caCertificate?: string }): MsalAppSettings {
  return {
    authorityUrl: options.loginBaseUrl, tenantId: options.tenantId, clientId: options.clientId,
    ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
    ...(options.certificate ? { certificate: options.certificate } : {}),
    ...(options.caCertificate ? { caCertificate: options.caCertificate } : {}),
  };
}
