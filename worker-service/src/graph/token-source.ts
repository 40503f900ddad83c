/**
 * Where Graph access tokens come from. The client asks a TokenSource before every HTTP attempt
 * (a long Retry-After wait can outlive a token), so sources cache and refresh on their own.
 * Implementations: a static token (tests, the sandbox, a token handed over by a caller), and the
 * contracts of app-only client credentials and On-Behalf-Of, which the auth issue wires to MSAL
 * (@azure/msal-node `acquireTokenByClientCredential` / `acquireTokenOnBehalfOf`).
 *
 * A token never appears in logs, errors or `util.inspect` output: sources keep it in private
 * (#) fields, and the client puts it only in the Authorization header.
 */

/** An access token and when it stops working. */
export interface AccessToken {
  /** The bearer token itself. Treat as a secret. */
  token: string;
  /** Expiry, epoch ms. */
  expiresOnMs: number;
}

/** A source of access tokens for one identity (an app, or a user through OBO). */
export interface TokenSource {
  /**
   * A token valid for `scopes` (for Graph: the cloud's `graphScope`, e.g. `https://graph.microsoft.us/.default`).
   * @throws the signal's reason when aborted; source-specific errors when the token service refuses
   *         (OBO after the incoming assertion expired: AADSTS500133, see FACTS.md)
   */
  getToken(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken>;
}

/** A fixed token (the sandbox tenant, tests, a token another component obtained). */
export class StaticTokenSource implements TokenSource {
  readonly #token: string;
  readonly #expiresOnMs: number;

  /** @param expiresOnMs default: never (Number.MAX_SAFE_INTEGER) */
  constructor(token: string, expiresOnMs = Number.MAX_SAFE_INTEGER) {
    if (!token) throw new TypeError('StaticTokenSource needs a non-empty token');
    this.#token = token;
    this.#expiresOnMs = expiresOnMs;
  }

  async getToken(_scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    return { token: this.#token, expiresOnMs: this.#expiresOnMs };
  }

  toJSON(): Record<string, unknown> { return { kind: 'static', expiresOnMs: this.#expiresOnMs }; }
}

/**
 * Wraps a source and reuses its token per scope set until `refreshBeforeMs` before expiry;
 * concurrent callers share one pending request.
 */
export class CachingTokenSource implements TokenSource {
  readonly #inner: TokenSource;
  readonly #refreshBeforeMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Promise<AccessToken>>();

  /** @param refreshBeforeMs default 5 min */
  constructor(inner: TokenSource, refreshBeforeMs = 5 * 60_000, now: () => number = Date.now) {
    this.#inner = inner;
    this.#refreshBeforeMs = refreshBeforeMs;
    this.#now = now;
  }

  async getToken(scopes: readonly string[], signal?: AbortSignal): Promise<AccessToken> {
    signal?.throwIfAborted();
    const key = [...scopes].sort().join(' ');
    const cached = this.#cache.get(key);
    if (cached) {
      try {
        const t = await cached;
        if (t.expiresOnMs - this.#refreshBeforeMs > this.#now()) return t;
      } catch { /* a failed fetch is not cached: ask again below */ }
      if (this.#cache.get(key) === cached) this.#cache.delete(key);
    }
    let pending = this.#cache.get(key);
    if (!pending) {
      // Not tied to one caller's signal: other callers share this request.
      pending = this.#inner.getToken(scopes);
      this.#cache.set(key, pending);
      pending.catch(() => { if (this.#cache.get(key) === pending) this.#cache.delete(key); });
    }
    return pending;
  }

  toJSON(): Record<string, unknown> { return { kind: 'caching' }; }
}

/**
 * Settings of app-only client credentials (admin exports of other users' mailboxes; application
 * permissions MailboxItem.Export.All, MailboxFolder.Read.All, MailboxItem.Read.All, User.Read.All).
 * Implemented by the auth issue with @azure/msal-node ConfidentialClientApplication; a certificate
 * is preferred over a secret.
 */
export interface ClientCredentialsTokenSourceOptions {
  /** Authority = cloud.loginBaseUrl + '/' + tenantId. */
  loginBaseUrl: string;
  tenantId: string;
  clientId: string;
  /** Exactly one of clientSecret and certificate. */
  clientSecret?: string;
  certificate?: { thumbprintSha256: string; privateKeyPem: string; x5c?: string };
}

/**
 * Settings of On-Behalf-Of (delegated exports of the signed-in user's own primary and archive:
 * MailboxItem.Export). The user assertion is the add-in's token for the worker API; msal-node does
 * not refresh OBO after the assertion expires (~60-90 min), so `getUserAssertion` is asked again
 * for a fresh one and may answer undefined (the job then pauses in a resumable state).
 */
export interface OnBehalfOfTokenSourceOptions extends ClientCredentialsTokenSourceOptions {
  getUserAssertion(signal?: AbortSignal): Promise<string | undefined>;
}
