/**
 * Settings of the worker API's authentication (who may call) and authorization (what they may do),
 * and the error every refusal becomes. docs/auth.md explains each rule; docs/api.md is the contract
 * ("Authentication and authorization", "Errors").
 */
import type { CloudName } from '../../graph/clouds';

/** Directory role template ids (learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference). */
export const DIRECTORY_ROLE_TEMPLATE_IDS = {
  ExchangeAdministrator: '29232cdf-9323-42fd-ade2-1d097af3e4de',
  GlobalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
} as const;

/** Default app role that makes a caller an admin (declared on the worker app registration, "App roles"). */
export const DEFAULT_ADMIN_APP_ROLE = 'Outport.Admin';
/** Default directory roles (template ids, the token's `wids` claim) that make a caller an admin. */
export const DEFAULT_ADMIN_DIRECTORY_ROLE_IDS: readonly string[] = [
  DIRECTORY_ROLE_TEMPLATE_IDS.ExchangeAdministrator, DIRECTORY_ROLE_TEMPLATE_IDS.GlobalAdministrator,
];
/** The delegated scope the worker API exposes and the add-in asks for. */
export const DEFAULT_API_SCOPE = 'access_as_user';
/** Allowed clock skew on `exp`/`nbf`, seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 60;

/** The worker API's auth settings (one tenant). */
export interface ApiAuthConfig {
  /** The tenant whose users may call: directory (tenant) id GUID, or a verified domain (the GUID is then read from the metadata's issuer). */
  tenantId: string;
  /** Application (client) id of the worker app registration: tokens must be for it. */
  clientId: string;
  /** Token service root (`https://login.microsoftonline.com`); default: the cloud's login host. */
  authorityUrl?: string;
  /** Default `global`; used when `authorityUrl` is absent. */
  cloud?: CloudName;
  /** PEM certificate(s) trusted when fetching the metadata and keys (the sandbox's self-signed HTTPS listener). */
  caCertificate?: string;
  /** Accepted `aud` values; default `[clientId, 'api://' + clientId]`. */
  audiences?: readonly string[];
  /** Scope a delegated token must carry in `scp`; default `access_as_user`. */
  requiredScope?: string;
  /**
   * Client apps allowed to call (the token's `azp`/`appid`): e.g. the add-in's client id. Default:
   * any app the tenant lets obtain a token for the API (consent and "Authorized client applications"
   * decide that at Entra).
   */
  allowedClientAppIds?: readonly string[];
  /** Accept app-only tokens (client credentials to the worker API; no user): default false. They are
   *  admins only through an admin app role. */
  acceptAppOnlyTokens?: boolean;
  /** App roles (`roles` claim) that make an admin; default `['Outport.Admin']`. */
  adminAppRoles?: readonly string[];
  /** Directory role template ids (`wids` claim) that make an admin; default Exchange and Global Administrator. */
  adminDirectoryRoleIds?: readonly string[];
  /** Allowed clock skew on `exp`/`nbf`, seconds; default 60. */
  clockToleranceSec?: number;
  /** Least time between two JWKS downloads caused by an unknown `kid`, ms; default 30,000 (jose's). */
  jwksCooldownMs?: number;
  /** How long OpenID metadata and keys are kept, ms; default 24 h (metadata), 10 min (JWKS, jose's). */
  metadataMaxAgeMs?: number;
  /** Timeout of a metadata or JWKS request, ms; default 5,000. */
  fetchTimeoutMs?: number;
}

/**
 * Why a request was refused (stable; the runner and tests decide by it, never by message text).
 * 401 reasons: the token. 403: the token is fine but not allowed. 503: the tenant's keys could not be read.
 */
export type AuthErrorReason =
  | 'MissingToken' | 'MalformedToken' | 'UnsupportedAlgorithm' | 'UnknownSigningKey' | 'InvalidSignature'
  | 'InvalidAudience' | 'InvalidIssuer' | 'WrongTenant' | 'TokenExpired' | 'TokenNotYetValid' | 'InvalidClaims'
  | 'AppOnlyTokenRefused' | 'InsufficientScope' | 'ClientAppNotAllowed' | 'NotYourMailbox' | 'AdminOnly' | 'AuthMetadataUnavailable';

/** The API error code (docs/api.md "Errors") of each reason. */
const API_CODE: Record<AuthErrorReason, { status: 401 | 403 | 503; code: string }> = {
  MissingToken: { status: 401, code: 'InvalidToken' },
  MalformedToken: { status: 401, code: 'InvalidToken' },
  UnsupportedAlgorithm: { status: 401, code: 'InvalidToken' },
  UnknownSigningKey: { status: 401, code: 'InvalidToken' },
  InvalidSignature: { status: 401, code: 'InvalidToken' },
  InvalidAudience: { status: 401, code: 'InvalidToken' },
  InvalidIssuer: { status: 401, code: 'InvalidToken' },
  WrongTenant: { status: 401, code: 'InvalidToken' },
  TokenExpired: { status: 401, code: 'InvalidToken' },
  TokenNotYetValid: { status: 401, code: 'InvalidToken' },
  InvalidClaims: { status: 401, code: 'InvalidToken' },
  AppOnlyTokenRefused: { status: 401, code: 'InvalidToken' },
  InsufficientScope: { status: 403, code: 'Forbidden' },
  ClientAppNotAllowed: { status: 403, code: 'Forbidden' },
  NotYourMailbox: { status: 403, code: 'NotYourMailbox' },
  AdminOnly: { status: 403, code: 'AdminOnly' },
  AuthMetadataUnavailable: { status: 503, code: 'AuthUnavailable' },
};

/**
 * A refused request. `message` is safe to return to the caller: it never contains the token or a
 * claim value beyond what the caller sent about themselves (and not even that: no user names).
 * Body: `{ error: { code, message } }`; 401s carry `WWW-Authenticate` (RFC 6750 section 3).
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  /** The specific cause (see {@link AuthErrorReason}). */
  readonly reason: AuthErrorReason;
  /** HTTP status: 401, 403 or 503. */
  readonly status: 401 | 403 | 503;
  /** The API error code (`InvalidToken`, `Forbidden`, `NotYourMailbox`, `AdminOnly`, `AuthUnavailable`). */
  readonly code: string;

  constructor(reason: AuthErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
    this.status = API_CODE[reason].status;
    this.code = API_CODE[reason].code;
  }

  /** The `WWW-Authenticate` header value for 401/403 (RFC 6750: invalid_token, insufficient_scope), undefined otherwise. */
  get wwwAuthenticate(): string | undefined {
    const quote = (s: string): string => s.replace(/["\\]/g, "'");
    if (this.status === 401) return this.reason === 'MissingToken' ? 'Bearer' : `Bearer error="invalid_token", error_description="${quote(this.message)}"`;
    if (this.reason === 'InsufficientScope') return `Bearer error="insufficient_scope", error_description="${quote(this.message)}"`;
    return undefined;
  }

  /** The response body of docs/api.md: `{ error: { code, message, reason } }`. */
  toBody(): { error: { code: string; message: string; reason: AuthErrorReason } } {
    return { error: { code: this.code, message: this.message, reason: this.reason } };
  }
}
