/**
 * Test helpers for the sandbox tenant: tokens from its token endpoint (real HTTP) and Outport's
 * GraphClient pointed at it through `customCloud` — the same path a real tenant takes.
 */
import { CachingTokenSource, GraphClient, StaticTokenSource, customCloud, tokenEndpoint, type AccessToken, type GraphClientOptions, type TokenSource } from '../../worker-service/src/graph';
import type { SandboxHandle } from '../../worker-service/src/sandbox';

/** POSTs a form to the tenant's token endpoint; returns status and JSON. */
export async function tokenRequest(sb: SandboxHandle, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(tokenEndpoint(customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl }), sb.tenantId), {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** An app-only Graph token (client credentials). */
export async function appToken(sb: SandboxHandle, clientId = sb.clientId, clientSecret = sb.clientSecret): Promise<string> {
  const { status, body } = await tokenRequest(sb, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: `${sb.graphUrl}/.default` });
  if (status !== 200) throw new Error(`token: ${status} ${JSON.stringify(body)}`);
  return String(body.access_token);
}

/** A delegated Graph token for `mail` through On-Behalf-Of (the add-in's assertion traded by the worker). */
export async function oboToken(sb: SandboxHandle, mail: string): Promise<string> {
  const { status, body } = await tokenRequest(sb, {
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: sb.clientId, client_secret: sb.clientSecret,
    assertion: await sb.userAssertion(mail), requested_token_use: 'on_behalf_of', scope: `${sb.graphUrl}/.default`,
  });
  if (status !== 200) throw new Error(`obo: ${status} ${JSON.stringify(body)}`);
  return String(body.access_token);
}

/** A TokenSource doing client credentials against the sandbox (what the auth issue's MSAL source will do). */
export function appTokenSource(sb: SandboxHandle): TokenSource {
  return new CachingTokenSource({
    getToken: async (): Promise<AccessToken> => ({ token: await appToken(sb), expiresOnMs: Date.now() + 3_600_000 }),
  });
}

/** Outport's GraphClient for the sandbox: custom cloud, fast retries. */
export function sandboxClient(sb: SandboxHandle, token: string | TokenSource, extra: Partial<GraphClientOptions> = {}): GraphClient {
  return new GraphClient({
    cloud: customCloud({ graphBaseUrl: sb.graphUrl, loginBaseUrl: sb.authorityUrl }),
    tokenSource: typeof token === 'string' ? new StaticTokenSource(token) : token,
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetries: 8 },
    ...extra,
  });
}
