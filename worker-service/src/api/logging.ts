/**
 * The worker's log (pino, JSON lines) with secrets kept out, twice over:
 *
 * 1. pino `redact` paths drop the known places: the `Authorization` and `Cookie` headers, any
 *    `accountKey`, `sasUrl`, `connectionString`, `clientSecret`, `token`, `assertion`, `password`
 *    field of a logged object.
 * 2. Every line is scrubbed by {@link scrubSecrets} before it reaches the output, so a secret inside a
 *    message or an error's text is masked too: SAS signatures (`sig=…`), connection-string keys
 *    (`AccountKey=…`, `SharedAccessSignature=…`), bearer tokens and bare JWTs, and any JSON
 *    property named like a secret.
 *
 * Nothing here knows a particular secret: the patterns describe their shapes, so a key the worker
 * never saw (a caller's typo) is masked as well.
 */
import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** What a masked value becomes. */
export const REDACTED = '[REDACTED]';

/** pino redact paths (fast-redact syntax): the structured places a secret can sit. */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-ms-copy-source-authorization"]',
  'headers.authorization', 'authorization',
  '*.accountKey', '*.sasUrl', '*.connectionString', '*.clientSecret', '*.token', '*.accessToken', '*.assertion', '*.password',
  '*.*.accountKey', '*.*.sasUrl', '*.*.connectionString', '*.*.clientSecret',
  'accountKey', 'sasUrl', 'connectionString', 'clientSecret', 'token', 'accessToken', 'assertion', 'password',
];

const SCRUBBERS: readonly [RegExp, string][] = [
  // SAS signatures in URLs and query strings (Azure "Create a service SAS": sig is the HMAC).
  [/([?&;\s"']sig=)[^&\s"'\\]+/gi, `$1${REDACTED}`],
  // Connection-string secrets.
  [/(AccountKey=)[^;\s"'\\]+/gi, `$1${REDACTED}`],
  [/(SharedAccessSignature=)[^;\s"'\\]+/gi, `$1${REDACTED}`],
  // Bearer tokens of any kind, then bare JWTs (three base64url segments, the first a JSON header).
  [/(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${REDACTED}`],
  [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // JSON properties whose names say "secret" (also inside escaped JSON in a message).
  [/(\\?"(?:accountKey|sasUrl|connectionString|clientSecret|client_secret|access_token|refresh_token|assertion|password|token|accessToken)\\?"\s*:\s*\\?")(?:[^"\\]|\\.)*?(\\?")/gi, `$1${REDACTED}$2`],
  // Form-encoded secrets (token requests).
  [/((?:client_secret|assertion|client_assertion|password|access_token|refresh_token)=)[^&\s"'\\]+/gi, `$1${REDACTED}`],
];

/** Masks the secret shapes listed in the module comment in `text`. */
export function scrubSecrets(text: string): string {
  let out = text;
  for (const [re, to] of SCRUBBERS) out = out.replace(re, to);
  return out;
}

/** A stream that scrubs each written chunk (pino writes one JSON line per call) then forwards it. */
export function scrubbingStream(target: { write(chunk: string): unknown }): DestinationStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, done) {
      try { target.write(scrubSecrets(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))); } catch { /* a log must not fail a request */ }
      done();
    },
  }) as unknown as DestinationStream;
}

/** Options of {@link createApiLogger}. */
export interface ApiLoggerOptions {
  /** pino level; default `info` (`OUTPORT_LOG_LEVEL` overrides). */
  level?: string;
  /** Where lines go; default stdout. Tests pass a collector. */
  destination?: { write(chunk: string): unknown };
}

/** The pino options shared by the API and the runner: redact paths, request serializers without query secrets. */
export function loggerOptions(level?: string): LoggerOptions {
  return {
    level: level ?? process.env.OUTPORT_LOG_LEVEL ?? 'info',
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: {
      req(req: { method?: string; url?: string; hostname?: string; ip?: string; id?: string }) {
        return { method: req.method, url: req.url ? scrubSecrets(req.url) : req.url, id: req.id, remoteAddress: req.ip };
      },
      err: pino.stdSerializers.err,
    },
  };
}

/** A pino logger whose output passes {@link scrubSecrets}. */
export function createApiLogger(options: ApiLoggerOptions = {}): Logger {
  const target = options.destination ?? process.stdout;
  return pino(loggerOptions(options.level), scrubbingStream(target));
}
