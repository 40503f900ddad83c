/**
 * What the Graph middleware share about one request: the SDK's `Context` (msgraph-sdk-javascript
 * IContext: request URL, fetch options, response) plus Outport's per-request state, kept in a
 * WeakMap so that contexts built by the SDK's own GraphRequest work too.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

/** Per-request bookkeeping shared along the chain. */
export interface RequestState {
  /** HTTP attempts that reached the final handler (retries and redirect hops included). */
  attempts: number;
  /** Redirect hops followed. */
  hops: number;
  /** The `client-request-id` header sent. */
  clientRequestId?: string;
}

const states = new WeakMap<Context, RequestState>();

/** The state of `ctx`, created on first use. */
export function stateOf(ctx: Context): RequestState {
  let s = states.get(ctx);
  if (!s) { s = { attempts: 0, hops: 0 }; states.set(ctx, s); }
  return s;
}

/** The request URL (the SDK allows a Request object; Outport passes strings). */
export function urlOf(ctx: Context): string {
  return typeof ctx.request === 'string' ? ctx.request : (ctx.request as Request).url;
}

/** Upper-case HTTP method; GET when unset. */
export function methodOf(ctx: Context): string {
  return (ctx.options?.method ?? (typeof ctx.request === 'string' ? 'GET' : (ctx.request as Request).method)).toUpperCase();
}

/** The request headers as a `Headers` object, stored back into `ctx.options` so edits stick. */
export function headersOf(ctx: Context): Headers {
  ctx.options ??= {};
  const h = ctx.options.headers;
  if (h instanceof Headers) return h;
  const headers = new Headers(h as ConstructorParameters<typeof Headers>[0]);
  ctx.options.headers = headers;
  return headers;
}

/** The caller's AbortSignal, if any. */
export function signalOf(ctx: Context): AbortSignal | undefined {
  return ctx.options?.signal ?? undefined;
}

/** Base of the chain's handlers: keeps the next handler (the SDK links them with `setNext`). */
export abstract class ChainedMiddleware implements Middleware {
  private nextHandler?: Middleware;

  setNext(next: Middleware): void { this.nextHandler = next; }

  abstract execute(context: Context): Promise<void>;

  /** Runs the rest of the chain. @throws Error when this handler is last (a wiring bug) */
  protected runNext(context: Context): Promise<void> {
    if (!this.nextHandler) throw new Error(`${this.constructor.name} has no next middleware`);
    return this.nextHandler.execute(context);
  }
}

/** Statuses whose Response may not carry a body (fetch spec "null body status"). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Bodies already in memory, by the Response they belong to. */
const fullBodies = new WeakMap<Response, Uint8Array>();
const EMPTY = new Uint8Array(0);

/**
 * A Response whose body is already in memory, built **without** a body stream: undici's Response
 * copies the bytes and wraps them in a WHATWG stream (~0.1 ms and a copy of the whole body per
 * exportItems answer of ~280 KB; every copy is external memory that drives the GC). The chain and
 * GraphClient read the bytes with {@link responseBytes}; `res.body` itself is null, so anything
 * else that reads the Response (the SDK's response handler) must go through
 * {@link materializeBody} first (GraphClient.sdk() does).
 */
export function bufferedResponse(bytes: Uint8Array | null, init: ResponseInit): Response {
  const res = new Response(null, init);
  fullBodies.set(res, bytes ?? EMPTY);
  return res;
}

/**
 * The whole body of `res` as bytes: kept ones (bufferedResponse, or an earlier call) without a
 * copy, else read from its stream once and kept, so that every later reader in the chain gets the
 * same bytes (the stream itself is then consumed: read bodies only through this function).
 * @throws what reading the stream throws (a connection that broke mid-body)
 */
export async function responseBytes(res: Response): Promise<Uint8Array> {
  const kept = fullBodies.get(res);
  if (kept) return kept;
  const bytes = NULL_BODY_STATUSES.has(res.status) || res.body === null ? EMPTY : new Uint8Array(await res.arrayBuffer());
  fullBodies.set(res, bytes);
  return bytes;
}

/** The body as UTF-8 text (responseBytes). */
export async function responseText(res: Response): Promise<string> {
  const b = await responseBytes(res);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/**
 * A Response carrying its kept body as a real stream again (for code outside the chain that reads
 * `res.json()` etc., e.g. the SDK's GraphResponseHandler); other Responses unchanged.
 */
export function materializeBody(res: Response): Response {
  const kept = fullBodies.get(res);
  if (!kept || NULL_BODY_STATUSES.has(res.status) || (res.body !== null && !res.bodyUsed)) return res;
  return new Response(kept, { status: res.status, statusText: res.statusText, headers: res.headers });
}
