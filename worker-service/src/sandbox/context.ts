/**
 * What the sandbox's route modules share: the tenant, the token issuer, the registered apps, knobs,
 * and per-request state (the validated principal, the API version). Also the permission checks Graph
 * applies: app-only tokens need one of the route's application roles; delegated tokens one of its
 * delegated scopes, and reach only the signed-in user's own mailboxes.
 */
import type { FastifyRequest } from 'fastify';
import type { FaultInjector } from './faults';
import { GraphErrors, SandboxGraphError } from './graph-errors';
import type { PagingOptions } from './odata';
import type { MailboxThrottle } from './throttle';
import type { Principal, TokenIssuer } from './tokens';
import type { SandboxMailbox, SandboxTenant, SandboxUser } from './tenant';

/** An app registration of the tenant (confidential client). */
export interface SandboxApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly displayName: string;
  /** Application permissions granted (app-only tokens carry them as `roles`). */
  readonly roles: readonly string[];
  /** Delegated permissions consented (user tokens for Graph carry them as `scp`). */
  readonly delegatedScopes: readonly string[];
  /** PEM certificates registered on the app: it may then authenticate with a signed client assertion (client-assertion.ts). */
  readonly certificates?: readonly string[];
}

/** Shared state of one running sandbox. */
export interface SandboxContext {
  readonly tenant: SandboxTenant;
  readonly issuer: TokenIssuer;
  readonly apps: readonly SandboxApp[];
  /** Graph root, e.g. `http://127.0.0.1:4010` (requests go to `<graphUrl>/v1.0/...`). */
  readonly graphUrl: string;
  readonly authorityUrl: string;
  readonly paging: PagingOptions;
  readonly throttle: MailboxThrottle;
  readonly faults: FaultInjector;
  readonly latencyMs: number;
  /** Marks `$batch` inner requests (sent in-process with this header value). */
  readonly innerSecret: string;
}

/** Per-request state set by the hooks. */
export interface SandboxRequestState {
  principal?: Principal;
  version: 'v1.0' | 'beta';
  release?: () => void;
  /** `performance.now()` when the request arrived (ms); the answer is sent no earlier than this + latencyMs. */
  arrivedAt?: number;
}

/** The request's state. */
export function stateOf(req: FastifyRequest): SandboxRequestState {
  const r = req as FastifyRequest & { sandbox?: SandboxRequestState };
  r.sandbox ??= { version: /^\/beta\//i.test(req.url) ? 'beta' : 'v1.0' };
  return r.sandbox;
}

/** A permission requirement: any one of the roles (app-only) or scopes (delegated). */
export interface Permission {
  readonly app: readonly string[];
  readonly delegated: readonly string[];
}

/** The permissions of each family of endpoints (Graph reference pages, "Permissions"). */
export const PERMISSIONS = {
  usersList: { app: ['User.Read.All', 'User.ReadBasic.All'], delegated: ['User.Read.All', 'User.ReadBasic.All'] },
  userSelf: { app: ['User.Read.All', 'User.ReadBasic.All'], delegated: ['User.Read', 'User.Read.All', 'User.ReadBasic.All'] },
  exchangeSettings: { app: ['User.Read.All'], delegated: ['User.Read', 'User.Read.All'] },
  mailboxFolders: { app: ['MailboxFolder.Read.All', 'MailboxFolder.ReadWrite.All'], delegated: ['MailboxFolder.Read', 'MailboxFolder.ReadWrite'] },
  mailboxItems: { app: ['MailboxItem.Read.All'], delegated: ['MailboxItem.Read'] },
  exportItems: { app: ['MailboxItem.Export.All'], delegated: ['MailboxItem.Export'] },
  mail: { app: ['Mail.Read', 'Mail.ReadBasic.All', 'Mail.ReadWrite'], delegated: ['Mail.Read', 'Mail.ReadWrite'] },
  contacts: { app: ['Contacts.Read', 'Contacts.ReadWrite'], delegated: ['Contacts.Read', 'Contacts.ReadWrite'] },
  calendars: { app: ['Calendars.Read', 'Calendars.ReadWrite'], delegated: ['Calendars.Read', 'Calendars.ReadWrite'] },
  tasks: { app: ['Tasks.Read.All', 'Tasks.ReadWrite.All'], delegated: ['Tasks.Read', 'Tasks.ReadWrite'] },
} as const satisfies Record<string, Permission>;

/**
 * Checks the request's principal against `perm`; with `owner`, a delegated token must be that user's.
 * @throws SandboxGraphError 401 without a principal; 403 (ErrorAccessDenied, or
 *         Authorization_RequestDenied for directory calls)
 */
export function authorize(req: FastifyRequest, perm: Permission, owner?: SandboxUser, directory = false): Principal {
  const p = stateOf(req).principal;
  if (!p) throw GraphErrors.invalidToken('Access token is empty.');
  const denied = (): SandboxGraphError => (directory ? GraphErrors.insufficientPrivileges() : GraphErrors.accessDenied());
  if (p.kind === 'app') {
    if (!perm.app.some((r) => p.roles.has(r))) throw denied();
    return p;
  }
  if (!perm.delegated.some((s) => p.scopes.has(s))) throw denied();
  if (owner && owner.id !== p.userId) throw denied();
  return p;
}

/** A user by id or UPN, or `me` (the delegated token's user). @throws 404 Request_ResourceNotFound, 400 for /me with an app token */
export function resolveUser(ctx: SandboxContext, req: FastifyRequest, idOrMe: string | undefined): SandboxUser {
  if (idOrMe === undefined) {
    const p = stateOf(req).principal;
    if (!p || p.kind !== 'user') throw GraphErrors.badRequest('/me request is only valid with delegated authentication flow.');
    const u = ctx.tenant.user(p.userId!);
    if (!u) throw GraphErrors.userNotFound(p.userId!);
    return u;
  }
  const u = ctx.tenant.user(idOrMe);
  if (!u) throw GraphErrors.userNotFound(idOrMe);
  return u;
}

/** A user's primary mailbox for the REST APIs. @throws 404 MailboxNotEnabledForRESTAPI for inactive users */
export function restMailbox(user: SandboxUser): SandboxMailbox {
  if (user.inactive || !user.primary) throw GraphErrors.mailboxNotEnabled();
  return user.primary;
}
