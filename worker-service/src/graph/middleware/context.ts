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
