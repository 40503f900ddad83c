/**
 * The worker API's error shape (docs/api.md "Errors"): every 4xx/5xx body is
 * `{"error": {"code", "message", "field"?, "rows"?}}`. This module turns what the layers below throw
 * (JSON-schema validation failures, JobsError, AuthError, StorageError, fastify's body errors) into
 * that shape, and never lets a secret through: messages are the layers' own (which carry none), and
 * anything unexpected becomes a generic 500 whose detail goes only to the (redacted) log.
 */
import { AuthError } from './auth';
import { JobsError, type RowError } from '../jobs/contract';
import { StorageError } from '../storage/destination';
import { TokenSourceConfigError, TokenSourceError, redactTokens } from '../graph/msal-token-sources';
import { GraphError } from '../graph/errors';

/** The body of every error answer. */
export interface ApiErrorBody {
  error: {
    code: string;
    message: string;
    /** JSON path of the offending field: dots and brackets, e.g. `items[3].pstName`. */
    field?: string;
    /** Bad rows of a bulk add (CSV line numbers, or 1-based `items[]` indexes). */
    rows?: RowError[];
    /** AuthError's specific cause (MissingToken, TokenExpired, …). */
    reason?: string;
  };
}

/** An error the API answers as is: status, code (docs/api.md), message, and the field to blame. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field?: string; rows?: RowError[]; headers?: Record<string, string>; reason?: string } = {},
  ) {
    super(message);
  }

  /** The docs/api.md body. */
  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code, message: this.message,
        ...(this.details.field !== undefined ? { field: this.details.field } : {}),
        ...(this.details.rows !== undefined ? { rows: this.details.rows } : {}),
        ...(this.details.reason !== undefined ? { reason: this.details.reason } : {}),
      },
    };
  }
}

/** 400 InvalidRequest naming `field`. */
export function invalid(field: string, message: string, rows?: RowError[]): ApiError {
  return new ApiError(400, 'InvalidRequest', message.startsWith(field) ? message : `${field}: ${message}`, { field, ...(rows ? { rows } : {}) });
}

/** One Ajv error (the subset fastify passes in `error.validation`). */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * The JSON path (docs/api.md `field`) of an Ajv instance path: `/items/3/pstName` → `items[3].pstName`.
 * Segments are JSON-pointer-unescaped (`~1` → `/`, `~0` → `~`).
 */
export function jsonPathOf(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/**
 * Maps the first JSON-schema failure of a request part to a 400 InvalidRequest naming the field.
 * `required` names the missing property, `additionalProperties` the unknown one; the message says
 * what the schema wanted (type, allowed values, range, pattern).
 * @param part fastify's `validationContext`: body, querystring, params, headers
 */
export function schemaErrorToApi(issues: readonly SchemaIssue[], part: string): ApiError {
  const issue = issues[0];
  if (!issue) return invalid(part, 'the request is not valid');
  const base = jsonPathOf(issue.instancePath);
  const join = (name: string): string => (base ? `${base}.${name}` : name);
  const p = issue.params;
  let field = base;
  let message: string;
  switch (issue.keyword) {
    case 'required':
      field = join(String(p.missingProperty));
      message = 'is required';
      break;
    case 'additionalProperties':
      field = join(String(p.additionalProperty));
      message = 'is not a known field: remove it (see docs/api.md for the shape)';
      break;
    case 'type':
      message = `must be ${String(p.type).replace(/,/g, ' or ')}`;
      break;
    case 'enum':
      message = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      message = `must be ${String(p.comparison)} ${String(p.limit)}`;
      break;
    case 'minLength':
      message = Number(p.limit) === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} characters`;
      break;
    case 'maxLength':
      message = `must have at most ${String(p.limit)} characters`;
      break;
    case 'minItems':
      message = `must have at least ${String(p.limit)} entr${Number(p.limit) === 1 ? 'y' : 'ies'}`;
      break;
    case 'maxItems':
      message = `must have at most ${String(p.limit)} entries`;
      break;
    case 'pattern': case 'format':
      message = issue.message ?? 'has the wrong format';
      break;
    default:
      message = issue.message ?? 'is not valid';
  }
  if (!field) field = part === 'body' ? 'body' : part;
  return invalid(field, `${field} ${message}`);
}

/** Statuses of the jobs layer's codes (docs/api.md "Errors"). */
const JOBS_STATUS: Record<string, { status: number; code: string }> = {
  InvalidInput: { status: 400, code: 'InvalidRequest' },
  NotFound: { status: 404, code: 'NotFound' },
  Conflict: { status: 409, code: 'Conflict' },
  RetryNotAllowed: { status: 409, code: 'RetryNotAllowed' },
};

/**
 * Any thrown value → the status and body to answer. Unknown errors are 500 `InternalError` with a
 * fixed message (their detail is logged, redacted, by the caller).
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof AuthError) {
    return new ApiError(err.status, err.code, err.message, { reason: err.reason, ...(err.wwwAuthenticate ? { headers: { 'www-authenticate': err.wwwAuthenticate } } : {}) });
  }
  if (err instanceof JobsError) {
    const m = JOBS_STATUS[err.code];
    if (m) return new ApiError(m.status, m.code, err.message, { ...(err.field ? { field: err.field } : {}), ...(err.rows ? { rows: err.rows } : {}) });
    return new ApiError(500, err.code === 'SecretKey' ? 'SecretKey' : 'JobsBackendFailed', err.message);
  }
  if (err instanceof StorageError) {
    if (err.code === 'ContainerNotOurs') return new ApiError(409, 'ContainerNotOurs', err.message);
    if (err.code === 'ContainerNotFound' || err.code === 'NotFound') return new ApiError(404, 'NotFound', err.message);
    if (err.code === 'AuthenticationFailed') return new ApiError(502, 'StorageAuthenticationFailed', err.message);
    return new ApiError(502, 'StorageFailed', err.message);
  }
  if (err instanceof TokenSourceConfigError) {
    // e.g. an http authority (MSAL needs https: start the sandbox with --https) or a missing credential.
    return new ApiError(500, 'GraphTokenConfig', `the worker's Graph token settings are unusable: ${redactTokens(err.message)}`);
  }
  if (err instanceof TokenSourceError) {
    return new ApiError(502, 'GraphTokenFailed', `Graph token: ${err.message}`);
  }
  if (err instanceof GraphError) {
    const status = err.statusCode === 403 ? 403 : err.statusCode === 404 ? 404 : 502;
    return new ApiError(status, status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : 'GraphFailed', `Graph: ${err.code}`);
  }
  const fe = err as { statusCode?: number; code?: string; validation?: SchemaIssue[]; validationContext?: string };
  if (fe && Array.isArray(fe.validation)) return schemaErrorToApi(fe.validation, fe.validationContext ?? 'body');
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'PayloadTooLarge', 'the request body is too large: JSON bodies up to 1 MiB, CSV up to 8 MiB (split the CSV into several uploads)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'UnsupportedMediaType', 'unsupported Content-Type: send application/json (text/csv for …/items/csv)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalid('body', 'body: the JSON body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalid('body', 'body: is not valid JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError && fe?.statusCode === 400) return invalid('body', 'body: is not valid JSON');
  if (fe?.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, fe.statusCode === 404 ? 'NotFound' : 'InvalidRequest', 'the request was refused');
  }
  return new ApiError(500, 'InternalError', 'the worker failed to answer this request; see its log');
}
