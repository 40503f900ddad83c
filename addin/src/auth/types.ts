/**
 * Sign-in behind one interface (ARCHITECTURE.md addin/src/auth): Nested App Authentication,
 * the Office-dialog fallback and the sandbox password sign-in all hand out access tokens for the
 * worker API scope (`api://<worker client id>/access_as_user`, docs/api.md "Authentication").
 */

/** Which sign-in the pane uses. */
export type AuthKind = 'naa' | 'dialog' | 'sandbox';

/** Stable codes of {@link AuthError}. */
export type AuthErrorCode =
  | 'NotSignedIn'          // getToken before signIn (sandbox) or after signOut
  | 'InvalidCredentials'   // the sandbox token service refused the user name or password (AADSTS50126)
  | 'Cancelled'            // the user closed the sign-in window
  | 'Blocked'              // the sign-in window could not open
  | 'SignInFailed';        // anything else; the identity platform's code is in the message

/** A sign-in failure. Messages never contain a token or a password. */
export class AuthError extends Error {
  constructor(readonly code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message);
    this.name = 'AuthError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** User name and password typed into the sandbox sign-in form. */
export interface Credentials {
  username: string;
  password: string;
}

/** One way to get tokens for the worker API. */
export interface AuthProvider {
  readonly kind: AuthKind;
  /** True when signIn needs {@link Credentials} from a form in the pane (the sandbox). */
  readonly needsCredentials: boolean;
  /** The signed-in account's user name when known. */
  account(): string | undefined;
  /** Interactive sign-in (NAA popup through Outlook, the Office dialog, or the password grant). */
  signIn(credentials?: Credentials): Promise<void>;
  /**
   * An access token for the worker API scope. `forceRefresh` asks the identity platform for a new one
   * (after a 401, and for WaitingForAuth: the worker needs an assertion with its whole lifetime ahead).
   * @throws AuthError
   */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** Forgets the account and cached tokens (in this pane). */
  signOut(): void;
  /** A token without any UI, or undefined when interaction is needed (NAA: Outlook's signed-in account). */
  getTokenSilently?(): Promise<string | undefined>;
}

/** What every provider needs from `GET /api/v1/config`. */
export interface AuthSettings {
  clientId: string;
  authorityUrl: string;
  apiScope: string;
  /** Sandbox only: the token endpoint of the password sign-in (config `sandboxSignIn.tokenUrl`); default `<authorityUrl>/oauth2/v2.0/token`. */
  tokenUrl?: string;
}

/** Seconds left before a JWT's `exp`; undefined when the token is not a readable JWT. */
export function secondsLeft(token: string, nowMs = Date.now()): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='))) as { exp?: number };
    return typeof json.exp === 'number' ? json.exp - nowMs / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Tokens with less than this left are not reused (the worker's OBO exchange needs time to run). */
export const MIN_TOKEN_LIFETIME_SECONDS = 300;
