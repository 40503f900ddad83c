/**
 * Passes every HTTP attempt (first tries, retries, redirect hops) through the per-mailbox gate of
 * the mailbox its URL names (mailboxKeyOf; a `$batch` takes the mailboxes of its inner requests),
 * holds the place until the response body has been read in full, and pauses the mailbox when Graph
 * answers 429 with Retry-After. Sits just above the final handler so that nothing else (token
 * fetches, Retry-After sleeps) holds a place.
 */
import type { Context } from '@microsoft/microsoft-graph-client';
import type { MailboxGate } from '../mailbox-gate';
import { batchMailboxCosts, isBatchUrl, mailboxKeyOf } from '../mailbox-key';
import { parseRetryAfterMs } from '../retry-after';
import { ChainedMiddleware, methodOf, responseBytes, signalOf, stateOf, urlOf } from './context';

/** MailboxGateHandler settings. */
export interface MailboxGateHandlerOptions {
  gate: MailboxGate;
  /** The key of a URL; default mailboxKeyOf. undefined = not gated. */
  keyOf?: (url: string) => string | undefined;
  /** Pause the mailbox for Retry-After on a 429 of a single-mailbox request; default true. */
  pauseOn429?: boolean;
}


export class MailboxGateHandler extends ChainedMiddleware {
  constructor(private readonly options: MailboxGateHandlerOptions) { super(); }

  async execute(context: Context): Promise<void> {
    const url = urlOf(context);
    const keyOf = this.options.keyOf ?? mailboxKeyOf;
    const costs = new Map<string, number>();
    if (methodOf(context) === 'POST' && isBatchUrl(url)) {
      for (const [k, n] of batchMailboxCosts(context.options?.body)) costs.set(k, Math.min(n, this.options.gate.maxRequestsPerWindow));
    } else {
      const key = keyOf(url);
      if (key) costs.set(key, 1);
    }
    const lease = await this.options.gate.acquireAll(costs, signalOf(context));
    try {
      stateOf(context).attempts++;
      await this.runNext(context);
      const res = context.response;
      if (res) {
        // Graph counts a request in flight until its response is complete: read it before releasing.
        await responseBytes(res);
        if (res.status === 429 && costs.size === 1 && this.options.pauseOn429 !== false) {
          const now = this.options.gate.nowMs();
          const waitMs = parseRetryAfterMs(res.headers.get('retry-after'), now);
          if (waitMs !== undefined && waitMs > 0) this.options.gate.pause([...costs.keys()][0], now + waitMs);
        }
      }
    } finally {
      lease.release();
    }
  }
}
