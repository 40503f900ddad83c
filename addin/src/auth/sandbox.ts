/**
 * Sandbox sign-in: when `GET /api/v1/config` says `sandbox: true`, the tenant is Outport's local
 * Graph-compatible sandbox (docs/sandbox.md). Its token service has no authorization-code or NAA
 * flow; test users sign in with the resource-owner password grant
 * (grant_type=password, scope = the worker API scope), as worker-service/src/sandbox/auth-routes.ts
 * implements, posted to the config's `sandboxSignIn.tokenUrl`: the sandbox's plain-HTTP loopback
 * listener, which answers CORS and issues tokens with the HTTPS authority's issuer (a browser refuses
 * the authority's self-signed certificate). Without it, `<authority>/oauth2/v2.0/token`. Never used
 * against a real tenant.
 */
import { AuthError, MIN_TOKEN_LIFETIME_SECONDS, secondsLeft, type AuthProvider, type AuthSettings, type Credentials } from './types';

/** The password-grant provider. The password stays in memory only, for re-grants (forceRefresh). */
export class SandboxAuth implements AuthProvider {
  readonly kind = 'sandbox' as const;
  readonly needsCredentials = true;
  private credentials: Credentials | undefined;
  private token: string | undefined;

  constructor(private readonly settings: AuthSettings, private readonly fetchImpl: typeof fetch = (i, n) => globalThis.fetch(i, n)) {}

  account(): string | undefined {
    return this.token ? this.credentials?.username : undefined;
  }

  async signIn(credentials?: Credentials): Promise<void> {
    if (!credentials?.username || !credentials.password) throw new AuthError('InvalidCredentials', 'Enter the test user\'s email address and password.');
    this.token = await this.grant(credentials);
    this.credentials = credentials;
  }

  async getToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    if (!this.credentials) throw new AuthError('NotSignedIn', 'Sign in first.');
    const left = this.token ? secondsLeft(this.token) : undefined;
    if (!options.forceRefresh && this.token && (left === undefined || left > MIN_TOKEN_LIFETIME_SECONDS)) return this.token;
    this.token = await this.grant(this.credentials);
    return this.token;
  }

  signOut(): void {
    this.credentials = undefined;
    this.token = undefined;
  }

  private async grant(c: Credentials): Promise<string> {
    const url = this.settings.tokenUrl ?? `${this.settings.authorityUrl.replace(/\/+$/, '')}/oauth2/v2.0/token`;
    const body = new URLSearchParams({ grant_type: 'password', client_id: this.settings.clientId, scope: this.settings.apiScope, username: c.username, password: c.password });
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
    } catch (err) {
      throw new AuthError('SignInFailed', `Cannot reach the sandbox token service at ${url}.`, { cause: err });
    }
    const json = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
    if (res.ok && json.access_token) return json.access_token;
    if (json.error === 'invalid_grant') throw new AuthError('InvalidCredentials', 'The user name or password is wrong.');
    throw new AuthError('SignInFailed', `Sign-in failed: ${json.error_description ?? json.error ?? `HTTP ${res.status}`}`);
  }
}
