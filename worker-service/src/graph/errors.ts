/**
 * GraphError: what Graph said when a request failed, in a shape the runner can decide on
 * (retry, skip, give up) by `code` and `statusCode`, never by message text. Graph's error body is
 * `{ error: { code, message, innerError: { code?, date, request-id, client-request-id } } }`
 * (learn.microsoft.com/graph/errors).
 *
 * Secrets never reach an error: the path is the URL's pathname only (query strings can carry
 * `$skiptoken`s and `authtoken`s), headers are not copied, and anything that looks like a bearer
 * token in a message is replaced.
 */
import { GraphClientError } from '@microsoft/microsoft-graph-client';

/** Codes Outport gives when Graph said nothing (no response, or a response without an error body). */
export const GraphClientCodes = {
  /** The caller's AbortSignal fired; `cause` is the signal's reason. */
  Aborted: 'Aborted',
  /** No HTTP response (DNS, TCP reset, TLS); `cause` is the fetch error. */
  NetworkError: 'NetworkError',
  /** More redirects than the hop limit. */
  TooManyRedirects: 'TooManyRedirects',
  /** A 3xx without a usable Location. */
  InvalidRedirect: 'InvalidRedirect',
  /** A 2xx whose body is not what the call expects (e.g. not JSON). */
  InvalidResponse: 'InvalidResponse',
  /** A non-2xx whose body carries no Graph error code: `HttpError` + the status. */
  HttpError: 'HttpError',
} as const;

/**
 * A token could not be had for a request (thrown by AuthHandler, turned into a GraphError by
 * ErrorHandler with the token source's code, e.g. `InvalidClient`, `AuthExpired`). Only
 * `TokenServiceUnavailable` (no answer, 5xx) is retried by RetryHandler; a refused credential is not.
 */
export class TokenAcquisitionError extends Error {
  override readonly name = 'TokenAcquisitionError';
  /** The token source's code (TokenSourceCodes), or `AuthenticationFailed` when it gave none. */
  readonly code: string;
  constructor(override readonly cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    super(cause instanceof Error ? cause.message : String(cause));
    this.code = typeof code === 'string' && code !== '' ? code : 'AuthenticationFailed';
  }

  /** Whether trying again later may help. */
  get retryable(): boolean { return this.code === 'TokenServiceUnavailable'; }
}

/** Fields of a GraphError besides its message. */
export interface GraphErrorDetails {
  /** Graph's `error.code` (e.g. `TooManyRequests`, `MailboxNotEnabledForRESTAPI`, `ErrorItemNotFound`), or a GraphClientCodes value. */
  code: string;
  /** HTTP status, or 0 when there was no response. */
  statusCode: number;
  /** HTTP method of the failed request. */
  method: string;
  /** Pathname of the failed request (after redirects), without query or fragment. */
  path: string;
  /** Graph's `error.message`, when given. */
  graphMessage?: string;
  /** `error.innerError.code`, when given (often more specific than `code`). */
  innerCode?: string;
  /** `request-id` response header (or innerError's): quote it to Microsoft support. */
  requestId?: string;
  /** `client-request-id` we sent (echoed by Graph). */
  clientRequestId?: string;
  /** The wait Graph asked for (Retry-After), in ms, when present. */
  retryAfterMs?: number;
  /** HTTP attempts made, including retries and redirect hops; default 1. */
  attempts?: number;
  cause?: unknown;
}

/** A failed Graph request. Extends the SDK's GraphClientError so that the SDK's fluent API
 *  (`Client.api(...).get()`) passes it through unchanged. */
export class GraphError extends GraphClientError {
  override readonly name = 'GraphError';
  readonly code: string;
  readonly statusCode: number;
  readonly method: string;
  readonly path: string;
  readonly graphMessage?: string;
  readonly innerCode?: string;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly retryAfterMs?: number;
  readonly attempts: number;

  constructor(d: GraphErrorDetails) {
    const status = d.statusCode ? ` ${d.statusCode}` : '';
    const said = d.graphMessage ? `: ${d.graphMessage}` : '';
    super(redactSecrets(`Graph ${d.method} ${d.path}${status} ${d.code}${said}`));
    // GraphClientError's constructor resets the prototype to its own; restore ours.
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = d.code;
    this.statusCode = d.statusCode;
    this.method = d.method;
    this.path = d.path;
    if (d.graphMessage !== undefined) this.graphMessage = redactSecrets(d.graphMessage);
    if (d.innerCode !== undefined) this.innerCode = d.innerCode;
    if (d.requestId !== undefined) this.requestId = d.requestId;
    if (d.clientRequestId !== undefined) this.clientRequestId = d.clientRequestId;
    if (d.retryAfterMs !== undefined) this.retryAfterMs = d.retryAfterMs;
    this.attempts = d.attempts ?? 1;
    if (d.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: redactCause(d.cause), enumerable: false, writable: true, configurable: true });
    }
  }

  /** A plain object for logs and job records (no stack, no cause). */
  toJSON(): Record<string, unknown> {
    const { name, code, statusCode, method, path, graphMessage, innerCode, requestId, clientRequestId, retryAfterMs, attempts } = this;
    return { name, code, statusCode, method, path, graphMessage, innerCode, requestId, clientRequestId, retryAfterMs, attempts, message: this.message };
  }
}

/** The pathname of a URL or path, without query and fragment (where secrets such as skip tokens live). */
export function safePath(urlOrPath: string): string {
  try { return new URL(urlOrPath, 'http://x').pathname; } catch { return urlOrPath.replace(/[?#].*$/s, ''); }
}

/** Graph's error body fields, when the body is one. */
export interface GraphErrorBody {
  code?: string;
  message?: string;
  innerCode?: string;
  requestId?: string;
  clientRequestId?: string;
}

/** Reads `{ error: { code, message, innerError } }` from a parsed JSON body; {} when absent. */
export function parseGraphErrorBody(body: unknown): GraphErrorBody {
  const e = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object') return {};
  const inner = (e.innerError ?? e.innererror) as Record<string, unknown> | undefined;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    code: str(e.code),
    message: str(e.message),
    innerCode: str(inner?.code),
    requestId: str(inner?.['request-id']),
    clientRequestId: str(inner?.['client-request-id']),
  };
}

const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const URL_SECRET_PARAMS = /([?&](?:authtoken|access_token|code|client_secret|sig|\$?skiptoken|\$?deltatoken)=)[^&\s#"']*/gi;

/** Replaces bearer tokens, JWTs and secret query parameters in a string with `[redacted]`. */
export function redactSecrets(s: string): string {
  return s.replace(BEARER, '$1 [redacted]').replace(JWT, '[redacted]').replace(URL_SECRET_PARAMS, '$1[redacted]');
}

function redactCause(cause: unknown): unknown {
  if (cause instanceof GraphError) return cause;
  if (cause instanceof Error) {
    const msg = redactSecrets(cause.message);
    if (msg === cause.message) return cause;
    const copy = new Error(msg);
    copy.name = cause.name;
    return copy;
  }
  return cause;
}
