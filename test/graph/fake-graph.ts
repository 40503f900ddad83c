/**
 * A fake final handler for the Graph middleware chain: answers from a queue of scripted responses
 * (or a fallback function), records every request that reached it, and counts requests in flight
 * per mailbox with its own parse of the path (independent of the gate's mailboxKeyOf).
 * No network, no sockets.
 */
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';

export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
  signal?: AbortSignal;
}

export type Answer = Response | Error | ((req: SeenRequest) => Response | Error | Promise<Response | Error>);

/** The fake's own notion of "which mailbox": lower-cased id after /users/ or /admin/exchange/mailboxes/. */
export function fakeMailboxOf(url: string): string | undefined {
  const p = new URL(url).pathname.toLowerCase();
  const m = /\/(?:users|admin\/exchange\/mailboxes)\/([^/]+)\//.exec(p + '/');
  return m ? decodeURIComponent(m[1]) : undefined;
}

export class FakeGraph implements Middleware {
  readonly seen: SeenRequest[] = [];
  readonly inFlight = new Map<string, number>();
  readonly maxInFlight = new Map<string, number>();
  private readonly queue: Answer[] = [];

  constructor(private readonly fallback?: Answer) {}

  enqueue(...answers: Answer[]): this { this.queue.push(...answers); return this; }

  get pending(): number { return this.queue.length; }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const body = context.options?.body;
    const req: SeenRequest = {
      method: (context.options?.method ?? 'GET').toUpperCase(),
      url,
      headers: new Headers(context.options?.headers as ConstructorParameters<typeof Headers>[0]),
      body: typeof body === 'string' ? body : undefined,
      signal: context.options?.signal ?? undefined,
    };
    this.seen.push(req);
    const key = fakeMailboxOf(url) ?? '-';
    const now = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, now);
    this.maxInFlight.set(key, Math.max(now, this.maxInFlight.get(key) ?? 0));
    try {
      let answer = this.queue.shift() ?? this.fallback;
      if (answer === undefined) throw new Error(`FakeGraph: no answer queued for ${req.method} ${url}`);
      if (typeof answer === 'function') answer = await answer(req);
      if (answer instanceof Error) throw answer;
      context.response = answer;
    } finally {
      this.inFlight.set(key, this.inFlight.get(key)! - 1);
    }
  }
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Graph's error body (learn.microsoft.com/graph/errors). */
export function graphError(status: number, code: string, message: string, headers: Record<string, string> = {}, requestId = 'req-1'): Response {
  return json(status, { error: { code, message, innerError: { date: '2026-11-22T10:00:00', 'request-id': requestId, 'client-request-id': 'inner-client-id' } } }, { 'request-id': requestId, ...headers });
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}
