/**
 * Follows 301/302/307/308 itself (fetch is told `redirect: "manual"`), so that every hop goes back
 * down the chain: through the retry handler, the token check for the new host, and the gate of the
 * target mailbox. Auto-expanding archives answer 308 with a Location to an auxiliary mailbox, whose
 * path casing may differ (`/admin/Exchange/Mailboxes/…`). Method and body are kept on every
 * status listed (as the SDK's RedirectHandler does; 303 is not followed: Graph does not send it).
 */
import type { Context } from '@microsoft/microsoft-graph-client';
import { GraphClientCodes, GraphError, safePath } from '../errors';
import { ChainedMiddleware, methodOf, stateOf, urlOf } from './context';

/** RedirectHandler settings. */
export interface RedirectHandlerOptions {
  /** Hops followed before failing with TooManyRedirects; default 5. */
  maxHops?: number;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 307, 308]);
export const DEFAULT_MAX_REDIRECT_HOPS = 5;

export class RedirectHandler extends ChainedMiddleware {
  private readonly maxHops: number;

  constructor(options: RedirectHandlerOptions = {}) {
    super();
    this.maxHops = options.maxHops ?? DEFAULT_MAX_REDIRECT_HOPS;
  }

  async execute(context: Context): Promise<void> {
    context.options ??= {};
    context.options.redirect = 'manual';
    const state = stateOf(context);
    for (;;) {
      await this.runNext(context);
      const res = context.response;
      if (!res || !REDIRECT_STATUSES.has(res.status)) return;
      const location = res.headers.get('location');
      const from = urlOf(context);
      const fail = (code: string): GraphError => new GraphError({
        code, statusCode: res.status, method: methodOf(context), path: safePath(from),
        requestId: res.headers.get('request-id') ?? undefined,
        clientRequestId: res.headers.get('client-request-id') ?? state.clientRequestId,
        attempts: state.attempts,
      });
      if (!location) throw fail(GraphClientCodes.InvalidRedirect);
      let next: URL;
      try { next = new URL(location, from); } catch { throw fail(GraphClientCodes.InvalidRedirect); }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw fail(GraphClientCodes.InvalidRedirect);
      if (state.hops >= this.maxHops) throw fail(GraphClientCodes.TooManyRedirects);
      state.hops++;
      context.request = next.toString();
    }
  }
}
