/**
 * Typed failures of the worker API client. The pane decides what to show from the class and
 * `code`, never from message text (STYLE.md "Errors"). Messages never carry a token or a key.
 */
import type { RowProblem } from './types';

/** Codes the API answers with (docs/api.md "Errors"), plus `HttpError` for a body that is not the API's. */
export type ApiErrorCode = 'InvalidRequest' | 'InvalidToken' | 'Forbidden' | 'NotYourMailbox' | 'AdminOnly' | 'NotFound'
  | 'Conflict' | 'RetryNotAllowed' | 'ContainerNotOurs' | 'PayloadTooLarge' | 'UnsupportedMediaType' | 'HttpError';

/** The API refused or failed a request: `{error: {code, message, field?, rows?}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | string,
    message: string,
    /** JSON path of the offending input (`destination.accountName`, `items[3].pstName`) when the API named one. */
    readonly field?: string,
    /** Every bad row of an items list or CSV (row 1 = first line). */
    readonly rows?: RowProblem[],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** True for 401: the token is missing, expired or for another audience/tenant. */
  get isAuth(): boolean { return this.status === 401; }
  /** True for 403: signed in, but not allowed. */
  get isForbidden(): boolean { return this.status === 403; }
}

/** The worker could not be reached (DNS, refused connection, CORS, offline). */
export class NetworkError extends Error {
  constructor(readonly url: string, options?: { cause?: unknown }) {
    super(`Cannot reach the Outport service at ${url}. Check your connection, or ask your administrator whether the service is running.`);
    this.name = 'NetworkError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** The words a person should read for an error of the client (the API's message when it sent one). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403 && err.code === 'NotYourMailbox') return `You can only export your own mailbox and archive. ${err.message}`;
    if (err.status === 403) return `You are not allowed to do this: ${err.message}`;
    if (err.status === 401) return `Your sign-in was not accepted (${err.message}). Sign in again.`;
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
