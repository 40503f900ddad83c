/**
 * A minimal app-only TokenSource over fetch: the OAuth 2.0 client credentials grant with a client
 * secret against `<authorityUrl>/<tenantId>/oauth2/v2.0/token` (Microsoft identity platform v2,
 * learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow, "First case:
 * Access token request with a shared secret"). Tokens are cached per scope set until a minute
 * before `expires_in` runs out (CachingTokenSource), and concurrent callers share one request.
 *
 * Why beside msal-token-sources.ts: MSAL refuses `http:` authorities (`authority_uri_insecure`),
 * and the sandbox tenant's token service is plain http unless started with `https: true`. The
 * CLI (`tokenSourceForTenant` in tenant-client.ts) uses MSAL for https authorities and this for
 * http ones. It has no certificate credential and no instance discovery.
 *
 * The secret lives in a private (#) field; it is sent only in the form body of the token request,
 * never logged, and never part of an error message, `toJSON` or `util.inspect` output.
 */
import { inspect } from 'node:util';
import { abortReason } from './abort';
import { CachingTokenSource, type AccessToken, type TokenSource } from './token-source';
import { redactTokens, TokenSourceCodes, TokenSourceError } from './msal-token-sources';

/** Settings of {@link FetchClientCredentialsTokenSource}. */
export interface FetchClientCredentialsOptions {
  /** Token service root without the tenant (`https://login.microsoftonline.com`, a sandbox's `http://127.0.0.1:4010`). */
  authorityUrl: string;
  /** Tenant id (GUID) or domain. */
  tenantId: string;
  /** The app's client id. */
  clientId: string;
  /** The app's client secret. Treat as a secret. */
  clientSecret: string;
  /** Renew this long before expiry; default 60,000 ms. */
  refreshBeforeMs?: number;
  /** For tests; default global fetch. */
  fetch?: typeof fetch;
}

/** The token endpoint of a tenant: `<authorityUrl>/<tenantId>/oauth2/v2.0/token`. */
export function clientCredentialsTokenUrl(authorityUrl: string, tenantId: string): string {
  return `${authorityUrl.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

/**
 * App-only tokens (client credentials, secret) over fetch, cached until shortly before expiry.
 * @throws TypeError from the constructor when a setting is empty or the authority is not http(s)
 */
export class FetchClientCredentialsTokenSource implements TokenSource {
  readonly #secret: string;
  readonly #url: string;
  readonly #clientId: string;
  readonly #fetch: typeof fetch;
  readonly #cache: CachingTokenSource;

  constructor(options: FetchClientCredentialsOptions) {
    for (const k of ['authorityUrl', 'tenantId', 'clientId', 'clientSecret'] as const) {
      if (typeof options[k] !== 'string' || options[k] === '') throw new TypeError(`client credentials: "${k}" is missing or empty`);
    }
    if (!/^https?:\/\//i.test(options.authorityUrl)) throw new TypeError('client credentials: "authorityUrl" must be an http(s) URL');
    this.#secret = options.clientSecret;
    this.#clientId = options.clientId;
    this.#url = clientCredentialsTokenUrl(options.authorityUrl, options.tenantId);
    this.#fetch = options.fetch ?? fetch;
    this.#cache = new CachingTokenSource({ getToken: (scopes) => this.#request(scopes) }, options.refreshBeforeMs ?? 60_000);
  }

  /**
   * A token for `scopes` (for Graph: `[cloud.graphScope]`, i.e. `<graph>/.default`).
   * @throws TokenSourceError: InvalidClient (`invalid_client`, `unauthorized_client`), InvalidScope,
   *         InvalidConfiguration (unknown tenant), TokenServiceUnavailable (no answer, 5xx),
   *         TokenRequestFailed (anything else); the signal's reason when aborted
   */
  async getToken(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    const pending = this.#cache.getToken(scopes);
    if (!signal) return pending;
    return new Promise<AccessToken>((resolve, reject) => {
      const onAbort = (): void => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      pending.then((t) => { signal.removeEventListener('abort', onAbort); resolve(t); }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
    });
  }

  async #request(scopes: readonly string[]): Promise<AccessToken> {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.#clientId, client_secret: this.#secret, scope: scopes.join(' ') });
    const started = Date.now();
    let res: Response;
    try {
      res = await this.#fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
    } catch (err) {
      throw new TokenSourceError(TokenSourceCodes.TokenServiceUnavailable, `token service unreachable (${this.#url}): ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON: handled below */ }
    if (res.ok && typeof json.access_token === 'string' && json.access_token !== '') {
      const lifetimeSec = Number(json.expires_in);
      return { token: json.access_token, expiresOnMs: started + (Number.isFinite(lifetimeSec) && lifetimeSec > 0 ? lifetimeSec * 1000 : 5 * 60_000) };
    }
    const oauthError = typeof json.error === 'string' ? json.error : undefined;
    const description = typeof json.error_description === 'string' ? json.error_description.split(/\r?\n/)[0] : '';
    const aadsts = Array.isArray(json.error_codes) && typeof json.error_codes[0] === 'number' ? json.error_codes[0] : undefined;
    const what = redactTokens(`${res.status}${oauthError ? ` ${oauthError}` : ''}${description ? `: ${description}` : ''}`).split(this.#secret).join('[redacted]');
    const details = { oauthError, aadsts };
    if (res.ok) throw new TokenSourceError(TokenSourceCodes.TokenRequestFailed, `the token service answered without an access token (${res.status})`, details);
    if (res.status >= 500) throw new TokenSourceError(TokenSourceCodes.TokenServiceUnavailable, `token service unavailable: ${what}`, details);
    if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
      throw new TokenSourceError(TokenSourceCodes.InvalidClient, `the app's credentials were refused (check clientId and clientSecret in the tenant config): ${what}`, details);
    }
    if (oauthError === 'invalid_scope' || oauthError === 'invalid_resource') throw new TokenSourceError(TokenSourceCodes.InvalidScope, `scope refused: ${what}`, details);
    if (oauthError === 'invalid_tenant' || aadsts === 90002 || res.status === 404) {
      throw new TokenSourceError(TokenSourceCodes.InvalidConfiguration, `tenant or authority not found (check tenantId and authorityUrl): ${what}`, details);
    }
    throw new TokenSourceError(TokenSourceCodes.TokenRequestFailed, `token request refused: ${what}`, details);
  }

  toJSON(): Record<string, unknown> { return { kind: 'FetchClientCredentialsTokenSource', tokenUrl: this.#url, clientId: this.#clientId }; }
  [inspect.custom](): string { return `FetchClientCredentialsTokenSource ${JSON.stringify(this.toJSON())}`; }
}
