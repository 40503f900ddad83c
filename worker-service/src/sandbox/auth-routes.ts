/**
 * The token service of the sandbox tenant, shaped like the Microsoft identity platform v2 endpoints:
 * `/{tenant}/v2.0/.well-known/openid-configuration`, `/{tenant}/discovery/v2.0/keys` (JWKS) and
 * `/{tenant}/oauth2/v2.0/token` with grants client_credentials (app-only), password (a test user
 * signs in: a token for the worker API or for Graph) and jwt-bearer On-Behalf-Of; the app proves
 * itself with its secret or, when it has certificates, a signed client assertion (client-assertion.ts). Errors use the
 * platform's JSON (`error`, `error_description` with an AADSTS code, `error_codes`).
 *
 * CORS: a browser page (the add-in's sandbox sign-in) may call these endpoints from any origin:
 * every answer carries `Access-Control-Allow-Origin: *` and `OPTIONS` on the token endpoint answers
 * the preflight (Fetch standard "CORS protocol"), as Entra's token endpoint does for single-page
 * apps. No credentials (cookies) are involved, so `*` is enough. Both listeners serve these routes
 * with the same issuer: a token from the plain-HTTP listener has the HTTPS authority's `iss`.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseQuery } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyClientAssertion, type ClientAssertionRefusal } from './client-assertion';
import type { SandboxApp, SandboxContext } from './context';
import { SandboxGraphError } from './graph-errors';
import { GRAPH_APP_ID } from './tokens';

/** The worker API's delegated scope that the add-in asks for (its token is the OBO assertion). */
export const WORKER_API_SCOPE = 'access_as_user';

/** Request headers a browser may send to the token endpoint (preflight `Access-Control-Allow-Headers`). */
export const TOKEN_CORS_ALLOWED_HEADERS = ['content-type', 'client-request-id', 'return-client-request-id'] as const;
/** How long a browser may cache the preflight answer, seconds. */
export const TOKEN_CORS_MAX_AGE_SEC = 86_400;

/** Marks an answer readable by a page of any origin. */
function allowAnyOrigin(reply: FastifyReply): void {
  reply.header('access-control-allow-origin', '*');
}

function oauthError(reply: FastifyReply, status: number, error: string, aadsts: number, description: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send({
    error, error_description: `AADSTS${aadsts}: ${description}`, error_codes: [aadsts],
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z', trace_id: randomUUID(), correlation_id: randomUUID(),
  });
}

/** Audiences that mean "Microsoft Graph" in a scope: the sandbox's Graph URL, Graph's app id, graph.microsoft.com. */
function isGraphResource(ctx: SandboxContext, resource: string): boolean {
  const r = resource.replace(/\/+$/, '').toLowerCase();
  return r === ctx.graphUrl.toLowerCase() || r === GRAPH_APP_ID || r === 'https://graph.microsoft.com';
}

/** Splits `scope` into a resource and scope names: `<resource>/.default`, `<resource>/Name`, or bare names (Graph). */
function parseScopes(ctx: SandboxContext, scope: string): { resource: string; names: string[] } | undefined {
  let resource: string | undefined;
  const names: string[] = [];
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    if (['openid', 'profile', 'offline_access', 'email'].includes(s)) continue;
    const i = s.lastIndexOf('/');
    const res = i > 0 ? s.slice(0, i) : ctx.graphUrl;
    const name = i > 0 ? s.slice(i + 1) : s;
    const canonical = isGraphResource(ctx, res) ? ctx.graphUrl : res;
    if (resource !== undefined && resource !== canonical) return undefined;
    resource = canonical;
    names.push(name);
  }
  return resource === undefined ? undefined : { resource, names };
}

/** The calling app and whether its credential (secret, or a certificate's client assertion) holds. */
async function clientOf(ctx: SandboxContext, req: FastifyRequest, form: Record<string, string>, tenant: string): Promise<{ app?: SandboxApp; secretOk: boolean; refusal?: ClientAssertionRefusal }> {
  let id = form.client_id;
  let secret = form.client_secret;
  const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
  if (basic) {
    const [u, p] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    id = decodeURIComponent(u);
    secret = decodeURIComponent(p ?? '');
  }
  const app = ctx.apps.find((a) => a.clientId === id);
  if (app && form.client_assertion !== undefined) {
    const endpoints = [...new Set([ctx.authorityUrl, ctx.graphUrl])].flatMap((root) => [tenant, ctx.tenant.tenantId, ctx.tenant.domain].map((t) => `${root}/${t}/oauth2/v2.0/token`));
    const refusal = await verifyClientAssertion(form.client_assertion, form.client_assertion_type, app.clientId, app.certificates ?? [], endpoints);
    return { app, secretOk: !refusal, refusal };
  }
  return { app, secretOk: !!app && secret === app.clientSecret };
}

/** Registers the token service routes on the root instance. */
export function registerAuthRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQuery(String(body)));
  });
  const tenantOk = (t: string): boolean => [ctx.tenant.tenantId, ctx.tenant.domain].includes(t.toLowerCase());

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    allowAnyOrigin(reply);
    const { tenant } = req.params as { tenant: string };
    if (!tenantOk(tenant)) return oauthError(reply, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    return ctx.issuer.openidConfiguration();
  });
  app.get('/:tenant/discovery/v2.0/keys', async (req, reply) => {
    allowAnyOrigin(reply);
    const { tenant } = req.params as { tenant: string };
    if (!tenantOk(tenant)) return oauthError(reply, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    return ctx.issuer.jwks();
  });

  // The CORS preflight of the token endpoint (a form POST is a simple request, but a page that adds
  // client-request-id, as MSAL.js does, triggers one).
  app.options('/:tenant/oauth2/v2.0/token', async (_req, reply) => reply.code(204)
    .header('access-control-allow-origin', '*')
    .header('access-control-allow-methods', 'POST, OPTIONS')
    .header('access-control-allow-headers', TOKEN_CORS_ALLOWED_HEADERS.join(', '))
    .header('access-control-max-age', String(TOKEN_CORS_MAX_AGE_SEC))
    .send());

  app.post('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    allowAnyOrigin(reply);
    const { tenant } = req.params as { tenant: string };
    if (!tenantOk(tenant)) return oauthError(reply, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    const form = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]));
    const { app: client, secretOk, refusal } = await clientOf(ctx, req, form, tenant);
    const badCredential = (): FastifyReply => (refusal
      ? oauthError(reply, 401, 'invalid_client', refusal.aadsts, refusal.description)
      : oauthError(reply, 401, 'invalid_client', 7000215, 'Invalid client secret provided.'));
    if (!client) return oauthError(reply, 400, 'unauthorized_client', 700016, `Application with identifier '${form.client_id}' was not found in the directory.`);
    const scopes = parseScopes(ctx, form.scope ?? '');
    if (!scopes) return oauthError(reply, 400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid.`);
    const lifetime = 3600;
    const answer = (token: string, scope: string): unknown => ({ token_type: 'Bearer', scope, expires_in: lifetime, ext_expires_in: lifetime, access_token: token });
    const grant = form.grant_type;

    if (grant === 'client_credentials') {
      if (!secretOk) return badCredential();
      if (scopes.names.length !== 1 || scopes.names[0] !== '.default' || scopes.resource !== ctx.graphUrl) {
        return oauthError(reply, 400, 'invalid_scope', 1002012, `The provided value for scope ${form.scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
      }
      return answer(await ctx.issuer.appToken(client.clientId, client.roles), form.scope);
    }

    if (grant === 'password') {
      const user = ctx.tenant.user(form.username ?? '');
      if (!user || form.password !== user.password) return oauthError(reply, 400, 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.');
      if (scopes.resource === `api://${client.clientId}`) {
        return answer(await ctx.issuer.userToken(user, client.clientId, [WORKER_API_SCOPE], `api://${client.clientId}`), form.scope);
      }
      if (scopes.resource !== ctx.graphUrl) return oauthError(reply, 400, 'invalid_resource', 500011, `The resource principal named ${scopes.resource} was not found in the tenant.`);
      const granted = scopes.names.includes('.default') ? client.delegatedScopes : scopes.names.filter((s) => client.delegatedScopes.includes(s));
      return answer(await ctx.issuer.userToken(user, client.clientId, granted), granted.join(' '));
    }

    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      if (!secretOk) return badCredential();
      if (form.requested_token_use !== 'on_behalf_of') return oauthError(reply, 400, 'invalid_request', 900144, "The request body must contain the following parameter: 'requested_token_use'.");
      let principal;
      try {
        principal = await ctx.issuer.verify(form.assertion ?? '', [`api://${client.clientId}`, client.clientId]);
      } catch (err) {
        const expired = err instanceof SandboxGraphError && /expired/.test(err.message);
        return expired
          ? oauthError(reply, 400, 'invalid_grant', 500133, 'Assertion is not within its valid time range.')
          : oauthError(reply, 400, 'invalid_grant', 50013, `Assertion failed signature validation or audience check. (${err instanceof Error ? err.message : String(err)})`);
      }
      const user = principal.kind === 'user' ? ctx.tenant.user(principal.userId!) : undefined;
      if (!user) return oauthError(reply, 400, 'invalid_grant', 50013, 'The assertion is not a user token of this tenant.');
      if (scopes.resource !== ctx.graphUrl) return oauthError(reply, 400, 'invalid_resource', 500011, `The resource principal named ${scopes.resource} was not found in the tenant.`);
      const granted = scopes.names.includes('.default') ? client.delegatedScopes : scopes.names.filter((s) => client.delegatedScopes.includes(s));
      return answer(await ctx.issuer.userToken(user, client.clientId, granted), granted.join(' '));
    }
    return oauthError(reply, 400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
  });
}
