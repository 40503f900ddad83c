/**
 * How the runner reads errors from the layers below: by `code`, never by message text (STYLE.md
 * "Errors"). Token-expired errors move an item to WaitingForAuth; everything else is Failed with
 * the error's code and a message scrubbed of secrets.
 */
import { redactSecrets } from '../graph/errors';

/**
 * Codes meaning "the delegated token chain is no longer usable; a fresh user token fixes it":
 * Graph `InvalidAuthenticationToken` (401: expired or revoked access token;
 * https://learn.microsoft.com/graph/errors), the token sources' `AuthExpired` (OBO refused:
 * AADSTS500133 / invalid_grant) and `InteractionRequired` (MFA, Conditional Access), and MSAL's
 * `invalid_grant` / `interaction_required` when raw.
 */
export const AUTH_EXPIRED_CODES: ReadonlySet<string> = new Set([
  'InvalidAuthenticationToken', 'AuthExpired', 'InteractionRequired', 'invalid_grant', 'interaction_required',
]);

/** The `code` of an error (or of one in its `cause` chain) that is in {@link AUTH_EXPIRED_CODES}. */
export function isAuthExpired(e: unknown): boolean {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 8; cur = (cur as { cause?: unknown }).cause, depth++) {
    const c = cur as { code?: unknown; innerCode?: unknown; errorCode?: unknown };
    for (const v of [c.code, c.innerCode, c.errorCode]) if (typeof v === 'string' && AUTH_EXPIRED_CODES.has(v)) return true;
  }
  return false;
}

/** The error's stable code: its `code` when a string, else its class name, else "Failed". */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && code !== '') return code;
  const name = (e as { name?: unknown })?.name;
  return typeof name === 'string' && name !== 'Error' ? name : 'Failed';
}

/** Patterns of secrets that must not reach an item's error record: SAS signatures, keys, bearer tokens, JWTs. */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/((?:^|[?&;\s])(?:sig|AccountKey|SharedAccessSignature|client_secret|access_token|assertion)=)[^&;\s"']*/gi, '$1REDACTED'],
  [/(Bearer\s+)[A-Za-z0-9\-_.~+/]+=*/gi, '$1REDACTED'],
  [/eyJ[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*/g, 'REDACTED'],
];

/** A message fit for an item's error record and the API: secrets replaced by "REDACTED", ≤ 1,000 characters. */
export function safeErrorMessage(e: unknown): string {
  let m = e instanceof Error ? e.message : String(e);
  m = redactSecrets(m);
  for (const [p, r] of SECRET_PATTERNS) m = m.replace(p, r);
  return m.length > 1000 ? `${m.slice(0, 997)}...` : m;
}
