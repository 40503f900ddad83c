/**
 * Directory endpoints: `GET /users` (with `$search` + `$count`, which need `ConsistencyLevel:
 * eventual`; `$select`, `$top`, paging), `GET /users/{id|upn}`, `GET /me`, and
 * `GET /users/{id}/settings/exchange` (v1.0: primaryMailboxId; beta adds inPlaceArchiveMailboxId).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, PERMISSIONS, resolveUser, stateOf, type SandboxContext } from './context';
import { contextUrl, sendPage } from './collections';
import { GraphErrors } from './graph-errors';
import { userJson } from './graph-json';
import { applySelect, queryOf } from './odata';
import type { SandboxUser } from './tenant';

/**
 * `$search` terms as Graph's directory search reads them: `"property:text"` clauses joined by OR
 * (AND binds tighter); a user matches a clause when a word of the property starts with the text.
 * @throws SandboxGraphError 400 on syntax Graph would refuse
 */
export function userSearchMatcher(search: string): (u: SandboxUser) => boolean {
  const orParts = search.split(/\s+OR\s+/);
  const clauses = orParts.map((part) => part.split(/\s+AND\s+/).map((c) => {
    const m = /^"([A-Za-z]+):(.*)"$/.exec(c.trim());
    if (!m) throw GraphErrors.badRequest(`Syntax error: character '${c.trim()[0] ?? ''}' is not valid at position 0 in '${search}'.`, 'Request_UnsupportedQuery');
    return { prop: m[1], text: m[2].replace(/\\(["\\])/g, '$1').toLowerCase() };
  }));
  return (u) => clauses.some((and) => and.every(({ prop, text }) => {
    const v = (u as unknown as Record<string, unknown>)[prop];
    if (typeof v !== 'string') return false;
    return v.toLowerCase().split(/[\s.@_-]+/).some((w) => w.startsWith(text)) || v.toLowerCase().startsWith(text);
  }));
}

/** Registers the directory routes (inside a version prefix). */
export function registerUserRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  app.get('/users', async (req, reply) => {
    authorize(req, PERMISSIONS.usersList, undefined, true);
    const q = queryOf(req);
    const eventual = String(req.headers.consistencylevel ?? '').toLowerCase() === 'eventual';
    if ((q.$search !== undefined || q.$count === 'true') && !eventual) {
      throw GraphErrors.badRequest("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'", 'Request_UnsupportedQuery');
    }
    let users = ctx.tenant.users;
    if (q.$search !== undefined) users = users.filter(userSearchMatcher(q.$search));
    if (q.$orderby?.startsWith('displayName')) users = [...users].sort((a, b) => a.displayName.localeCompare(b.displayName));
    return sendPage(ctx, req, reply, 'users', users.map(userJson), 'users');
  });

  const one = async (req: FastifyRequest, id: string | undefined) => {
    const user = resolveUser(ctx, req, id);
    authorize(req, PERMISSIONS.userSelf, stateOf(req).principal?.kind === 'user' && !stateOf(req).principal!.scopes.has('User.ReadBasic.All') && !stateOf(req).principal!.scopes.has('User.Read.All') ? user : undefined, true);
    return { '@odata.context': contextUrl(ctx, req, 'users/$entity'), ...applySelect(userJson(user), queryOf(req).$select) };
  };
  app.get('/users/:uid', async (req) => one(req, (req.params as { uid: string }).uid));
  app.get('/me', async (req) => one(req, undefined));

  const settings = async (req: FastifyRequest, id: string | undefined) => {
    const user = resolveUser(ctx, req, id);
    authorize(req, PERMISSIONS.exchangeSettings, stateOf(req).principal?.kind === 'user' && !stateOf(req).principal!.scopes.has('User.Read.All') ? user : undefined, true);
    if (user.inactive || !user.primary) throw GraphErrors.mailboxNotEnabled();
    const beta = stateOf(req).version === 'beta';
    const body: Record<string, unknown> = {
      '@odata.context': contextUrl(ctx, req, `users('${encodeURIComponent(id ?? user.userPrincipalName)}')/settings/exchange/$entity`),
      primaryMailboxId: user.primary.id,
    };
    if (beta) body.inPlaceArchiveMailboxId = user.archive?.id ?? null;
    return body;
  };
  app.get('/users/:uid/settings/exchange', async (req) => settings(req, (req.params as { uid: string }).uid));
  app.get('/me/settings/exchange', async (req) => settings(req, undefined));
}
