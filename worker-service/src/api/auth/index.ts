/**
 * The worker API's authentication and authorization (docs/auth.md): `validateBearerToken` turns the
 * `Authorization` header into an {@link ApiIdentity} or an {@link AuthError}; `isAdmin`,
 * `authorizeMailbox` and `requireAdmin` decide what that identity may do.
 */
export * from './config';
export { ApiIdentity, ACCEPTED_ALGORITHMS, validateAccessToken, validateBearerToken, clearAuthMetadataCache, authorityRootOf } from './validate-token';
export { isAdmin, isOwnMailbox, authorizeMailbox, requireAdmin, type AuthzIdentity, type MailboxSource, type MailboxAccess } from './authorize';
