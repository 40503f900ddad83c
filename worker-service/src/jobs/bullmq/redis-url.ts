/**
 * `--queue redis://[user:password@]HOST[:PORT][/DB]` (or `rediss://` for TLS) → ioredis options.
 * The URL form is Redis's own (https://www.iana.org/assignments/uri-schemes/prov/redis); the
 * password, when present, is kept out of {@link RedisTarget.display} and every error message.
 */
import type { RedisOptions } from 'ioredis';

/** Where the BullMQ backend connects. */
export interface RedisTarget {
  /** ioredis options (host, port, db, credentials, TLS). */
  options: RedisOptions;
  /** `redis://HOST:PORT/DB` without credentials, for logs and messages. */
  display: string;
}

/** A bad `--queue` value: the message names the option and the form it wants. */
export class RedisUrlError extends Error {
  readonly code = 'InvalidQueueUrl';
  constructor(message: string) {
    super(message);
    this.name = 'RedisUrlError';
  }
}

/**
 * Parses a Redis URL.
 * @param field the option or setting named in errors (default `--queue`)
 * @throws RedisUrlError for another scheme, a missing host, a port outside 1..65535, a database
 *         that is not an integer 0..15 — never echoing a password
 */
export function parseRedisUrl(text: string, field = '--queue'): RedisTarget {
  const want = `${field} wants redis://HOST:PORT (e.g. redis://127.0.0.1:6379, or rediss:// for TLS)`;
  let url: URL;
  try {
    url = new URL(String(text).trim());
  } catch {
    throw new RedisUrlError(`${field}: not a URL; ${want}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RedisUrlError(`${field}: scheme "${url.protocol.replace(/:$/, '')}" is not redis; ${want}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new RedisUrlError(`${field}: no host; ${want}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RedisUrlError(`${field}: port must be 1..65535; ${want}`);
  const path = url.pathname.replace(/^\/+|\/+$/g, '');
  let db = 0;
  if (path !== '') {
    db = Number(path);
    if (!/^\d+$/.test(path) || db > 15) throw new RedisUrlError(`${field}: the path must be a database number 0..15 (got "/${path}")`);
  }
  const options: RedisOptions = { host, port, db };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') options.tls = { servername: host };
  return { options, display: `${url.protocol}//${host.includes(':') ? `[${host}]` : host}:${port}/${db}` };
}
