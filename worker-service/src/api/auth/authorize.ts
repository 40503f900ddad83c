/**
 * Authorization of the worker API (docs/api.md "Authentication and authorization"; docs/auth.md):
 * pure functions over a validated identity, no I/O.
 *
 * - Admin: the token's `roles` holds a configured app role (default `Outport.Admin`), or its `wids`
 *   holds a configured directory role template id (default Exchange Administrator, Global
 *   Administrator). Admins act on any mailbox of their own tenant.
 * - User: acts only on their own mailbox and its archive. The source must name them: by user object
 *   id (`userId` = the token's `oid`, compared case-insensitively), or, when the caller could not
 *   resolve the id, by address (`address` = the token's `upn`, `preferred_username` or `email`,
 *   case-insensitive). Anything else is 403 NotYourMailbox.
 * - A caller of another tenant, or a source in another tenant, is 401 WrongTenant.
 */
import { AuthError, DEFAULT_ADMIN_APP_ROLE, DEFAULT_ADMIN_DIRECTORY_ROLE_IDS, type ApiAuthConfig } from './config';
import type { ApiIdentity } from './validate-token';

/** The claims authorization reads (an ApiIdentity, or a plain object in tests). */
export type AuthzIdentity = Pick<ApiIdentity, 'kind' | 'oid' | 'tid' | 'roles' | 'wids'> & Partial<Pick<ApiIdentity, 'upn' | 'preferredUsername' | 'email'>>;

/** The mailbox an export item reads: its owner, by id or address. Primary and archive have the same owner. */
export interface MailboxSource {
  /** The owner's user object id (Graph `user.id`), when known: then it alone decides ownership. */
  userId?: string;
  /** The owner's SMTP address or UPN, as the item names it (used when `userId` is absent). */
  address?: string;
  /** The tenant of the mailbox (GUID); default: the configured tenant. */
  tenantId?: string;
  /** Which of the owner's mailboxes; informational (both are the owner's). */
  kind?: 'primary' | 'archive';
}

/** Why access was granted: as the mailbox's owner, or as an admin of its tenant. */
export type MailboxAccess = 'owner' | 'admin';

const lower = (s: string | undefined): string => (s ?? '').trim().toLowerCase();
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether the identity is an admin: an admin app role in `roles` or an admin directory role id in `wids`. */
export function isAdmin(identity: Pick<AuthzIdentity, 'roles' | 'wids'>, config: Pick<ApiAuthConfig, 'adminAppRoles' | 'adminDirectoryRoleIds'>): boolean {
  const roles = (config.adminAppRoles ?? [DEFAULT_ADMIN_APP_ROLE]).map(lower);
  const wids = (config.adminDirectoryRoleIds ?? DEFAULT_ADMIN_DIRECTORY_ROLE_IDS).map(lower);
  return identity.roles.some((r) => roles.includes(lower(r))) || identity.wids.some((w) => wids.includes(lower(w)));
}

/** @throws AuthError WrongTenant (401) when the identity is not of the configured tenant (a GUID config only) */
function checkCallerTenant(identity: Pick<AuthzIdentity, 'tid'>, config: Pick<ApiAuthConfig, 'tenantId'>): void {
  if (GUID.test(config.tenantId) && lower(identity.tid) !== lower(config.tenantId)) throw new AuthError('WrongTenant', 'the token belongs to another tenant');
}

/**
 * Throws unless the identity is an admin of the configured tenant (routes for admins only:
 * `authMode: "application"`, other users' projects).
 * @throws AuthError AdminOnly (403), WrongTenant (401)
 */
export function requireAdmin(identity: AuthzIdentity, config: ApiAuthConfig): void {
  checkCallerTenant(identity, config);
  if (!isAdmin(identity, config)) throw new AuthError('AdminOnly', 'this action needs an Outport admin (an admin app role or an Exchange/Global Administrator role)');
}

/** Whether the source names the identity's own mailbox (by `userId` if given, else by address). */
export function isOwnMailbox(identity: AuthzIdentity, source: MailboxSource): boolean {
  if (identity.kind !== 'user') return false;
  if (source.userId) return lower(source.userId) === lower(identity.oid) && !!identity.oid;
  const address = lower(source.address);
  if (!address) return false;
  return [identity.upn, identity.preferredUsername, identity.email].some((a) => !!a && lower(a) === address);
}

/**
 * May the identity export `source`? Admins: any mailbox of their tenant. Users: their own primary
 * and archive only.
 * @returns how access was granted (`owner` before `admin` when both hold)
 * @throws AuthError WrongTenant (401) for a caller or source of another tenant; NotYourMailbox (403)
 */
export function authorizeMailbox(identity: AuthzIdentity, source: MailboxSource, config: ApiAuthConfig): MailboxAccess {
  checkCallerTenant(identity, config);
  if (source.tenantId && lower(source.tenantId) !== lower(identity.tid)) throw new AuthError('WrongTenant', 'the mailbox belongs to another tenant');
  if (!source.userId && !source.address) throw new TypeError('authorizeMailbox: the source needs userId or address');
  if (isOwnMailbox(identity, source)) return 'owner';
  if (isAdmin(identity, config)) return 'admin';
  throw new AuthError('NotYourMailbox', 'you can export only your own mailbox and archive; an Outport admin can export others');
}
