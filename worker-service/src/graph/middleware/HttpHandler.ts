/**
 * The final handler of the Graph chain: one HTTP/1.1 exchange over node:http / node:https with
 * keep-alive agents, the whole body read into one Buffer, handed up as a fetch `Response`.
 *
 * Why not the SDK's HTTPMessageHandler (global fetch): Node 20's fetch (undici) runs every body
 * through WHATWG streams. Measured in `npm run bench:graph` (2026-11-22, docs/benchmarks.md), fetch
 * was 38 % of the reader's CPU at 1,300 exportItems answers of 280 KB — ~3.4 ms an exchange, more
 * than the FastTransfer decoding of the 20 items in it — and that time is spent on the event loop
 * that must also notice the next answer, so it lengthened every request the per-mailbox gate
 * counts. This handler does what the chain needs and nothing more:
 *  - no redirects followed (RedirectHandler does that, with its own rules), no cookies, no cache;
 *  - `Accept-Encoding: gzip, deflate` unless the caller set one, and gzip/deflate answers inflated
 *    (as fetch does; Graph compresses when asked);
 *  - the caller's AbortSignal aborts the exchange (ErrorHandler then reports Aborted);
 *  - no byte for `idleTimeoutMs` (default 300 s, undici's headers/body timeouts) → an error, which
 *    ErrorHandler reports as NetworkError and RetryHandler retries;
 *  - request bodies: string, Uint8Array/Buffer, ArrayBuffer, or none; anything else (streams,
 *    FormData — Outport sends none) goes to the SDK's fetch handler unchanged.
 * TLS trusts what node:https trusts (the system's CAs and NODE_EXTRA_CA_CERTS), as fetch does.
 * Sources: RFC 9112 (HTTP/1.1), RFC 9110 §8.4 (content codings); the SDK's Middleware contract
 * (msgraph-sdk-javascript, src/middleware/IMiddleware.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { HTTPMessageHandler, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { bufferedResponse, NULL_BODY_STATUSES } from './context';

/** HttpHandler settings. */
export interface HttpHandlerOptions {
  /** Sockets per host (all mailboxes of a worker share Graph's host); default 64. */
  maxSockets?: number;
  /** An exchange that receives no byte for this long fails (ms); default 300,000. */
  idleTimeoutMs?: number;
  /** PEM CA certificates trusted for https **instead of** the defaults (tests, a private Graph endpoint). */
  ca?: string | string[];
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

type Body = string | Uint8Array | undefined;

/** The request body as bytes, or `false` when this handler cannot send it (left to fetch). */
function bodyBytes(body: unknown): Body | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return false;
}

/** The caller's headers (Headers, array of pairs or a record) as a plain record for node:http. */
function headerRecord(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) h.forEach((v, k) => { out[k] = v; });
  else if (Array.isArray(h)) for (const [k, v] of h as [string, string][]) out[k.toLowerCase()] = String(v);
  else for (const [k, v] of Object.entries(h as Record<string, unknown>)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

/** node:http's response headers as a fetch `Headers` (repeated headers appended). */
function responseHeaders(raw: readonly string[]): Headers {
  const h = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) h.append(raw[i], raw[i + 1]);
  return h;
}

/**
 * Final middleware performing HTTP with node:http/https (see the file comment for what it does and
 * does not do). Sets `context.response` to a fetch Response whose body is fully received and kept
 * in memory (context.ts bufferedResponse: read it with responseBytes).
 * @throws Error on a network failure, an abort (the signal's reason), an idle timeout or a body
 *         that does not inflate; ErrorHandler turns these into GraphError NetworkError / Aborted.
 */
export class HttpHandler implements Middleware {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly idleTimeoutMs: number;
  private readonly fallback = new HTTPMessageHandler();

  constructor(options: HttpHandlerOptions = {}) {
    const maxSockets = options.maxSockets ?? 64;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo' });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets, scheduling: 'lifo', ...(options.ca ? { ca: options.ca } : {}) });
    this.idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  }

  async execute(context: Context): Promise<void> {
    if (typeof context.request !== 'string') return this.fallback.execute(context);
    const options = context.options ?? {};
    const body = bodyBytes(options.body);
    if (body === false) return this.fallback.execute(context);
    const url = new URL(context.request);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new Error(`unsupported URL scheme ${url.protocol} (http: or https: expected)`);
    const method = (options.method ?? 'GET').toUpperCase();
    const headers = headerRecord(options.headers);
    headers['accept-encoding'] ??= 'gzip, deflate';
    if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    const signal = (options.signal ?? undefined) as AbortSignal | undefined;
    signal?.throwIfAborted();

    const { status, statusText, raw, bytes } = await new Promise<{ status: number; statusText: string; raw: string[]; bytes: Buffer }>((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent, ...(signal ? { signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (c: Buffer) => { chunks.push(c); length += c.length; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', raw: res.rawHeaders, bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length) }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the connection closed before the response was complete')));
      });
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(new Error(`no data from ${url.host} for ${this.idleTimeoutMs / 1000} s`)));
      req.on('error', (err) => reject(signal?.aborted ? signal.reason ?? err : err));
      req.end(body);
    });

    const resHeaders = responseHeaders(raw);
    let payload: Buffer | null = NULL_BODY_STATUSES.has(status) || method === 'HEAD' ? null : bytes;
    const coding = resHeaders.get('content-encoding')?.trim().toLowerCase();
    if (payload && payload.length > 0 && (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate')) {
      payload = coding === 'deflate' ? await inflate(payload) : await gunzip(payload);
      resHeaders.delete('content-encoding');
      resHeaders.set('content-length', String(payload.length));
    }
    context.response = bufferedResponse(payload, { status, statusText, headers: resHeaders });
  }

  /** The final handler has no next middleware. */
  setNext(): void { /* final */ }

  /** Closes the kept-alive sockets (idle ones keep no process alive: node:http unrefs them). */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
