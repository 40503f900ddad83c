/**
 * Retries throttled and unavailable requests (learn.microsoft.com/graph/throttling, "Best practices
 * to handle throttling"): on 429, 503 and 504 wait `Retry-After` (seconds or HTTP-date) when given,
 * otherwise back off exponentially with jitter; give up after `maxRetries` retries or when the next
 * wait would take the total past `maxTotalWaitMs` (the GraphError then carries `retryAfterMs` so
 * the runner can reschedule). Network errors (no response) are retried the same way.
 *
 * JSON batches (`POST …/$batch`, learn.microsoft.com/graph/json-batching): the outer response is
 * usually 200 while inner responses are 429/503/504; those inner requests (and requests that failed
 * 424 because they depend on one) are sent again in a smaller batch, and the answers are merged into
 * one batch response in the original request order. Inner failures left after the caps stay in the
 * merged response for the caller to read: a batch response is never an error as a whole.
 *
 * Counterpart of the SDK's RetryHandler, which retries 429/503/504 but sees only a batch's outer status.
 */
import type { Context } from '@microsoft/microsoft-graph-client';
import { sleep, throwIfAborted } from '../abort';
import { GraphError, TokenAcquisitionError } from '../errors';
import { BatchRequestItem, isBatchUrl, parseBatchRequests } from '../mailbox-key';
import { parseRetryAfterMs } from '../retry-after';
import { bufferedResponse, ChainedMiddleware, methodOf, responseText, signalOf, urlOf } from './context';

/** RetryHandler settings (all optional). */
export interface RetryHandlerOptions {
  /** Retries after the first attempt; default 6. */
  maxRetries?: number;
  /** First backoff step in ms (doubles each retry); default 1,000. */
  baseDelayMs?: number;
  /** Cap of one backoff step (not of a Retry-After, which is honoured as given); default 60,000. */
  maxDelayMs?: number;
  /** Cap of all waits of one request in ms; default 300,000 (5 min). */
  maxTotalWaitMs?: number;
  /** Statuses retried; default 429, 503, 504. */
  retryStatuses?: readonly number[];
  /** Retry when fetch fails without a response; default true. */
  retryNetworkErrors?: boolean;
  /** Retry inner `$batch` failures; default true. */
  retryBatchInner?: boolean;
  /** Uniform [0,1) for jitter; default Math.random. */
  random?: () => number;
  /** Clock for HTTP-date Retry-After; default Date.now. */
  now?: () => number;
  /** Called before each wait (logs, tests). */
  onRetry?: (info: RetryInfo) => void;
}

/** What a retry is about to do. */
export interface RetryInfo {
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  /** 'status' (outer HTTP status), 'network' or 'batch' (inner batch failures). */
  reason: 'status' | 'network' | 'batch';
  status?: number;
  /** Whether delayMs came from a Retry-After. */
  fromRetryAfter: boolean;
  /** For 'batch': the inner ids re-sent. */
  batchIds?: string[];
}

export const DEFAULT_RETRY_STATUSES: readonly number[] = [429, 503, 504];

/** A batch inner response (json-batching "Response format"). */
interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export class RetryHandler extends ChainedMiddleware {
  private readonly o: Required<Omit<RetryHandlerOptions, 'onRetry'>> & Pick<RetryHandlerOptions, 'onRetry'>;

  constructor(options: RetryHandlerOptions = {}) {
    super();
    this.o = {
      maxRetries: options.maxRetries ?? 6,
      baseDelayMs: options.baseDelayMs ?? 1_000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      maxTotalWaitMs: options.maxTotalWaitMs ?? 300_000,
      retryStatuses: options.retryStatuses ?? DEFAULT_RETRY_STATUSES,
      retryNetworkErrors: options.retryNetworkErrors ?? true,
      retryBatchInner: options.retryBatchInner ?? true,
      random: options.random ?? Math.random,
      now: options.now ?? (() => Date.now()),
      onRetry: options.onRetry,
    };
  }

  /** Jittered exponential backoff for retry n (1-based): uniform in [step/2, step], step = min(max, base·2^(n-1)). */
  backoffMs(retry: number): number {
    const step = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.max(0, retry - 1));
    return Math.round(step / 2 + this.o.random() * (step / 2));
  }

  async execute(context: Context): Promise<void> {
    const signal = signalOf(context);
    const body = context.options?.body;
    const resendable = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
    const batchRequests = this.o.retryBatchInner && methodOf(context) === 'POST' && isBatchUrl(urlOf(context)) ? parseBatchRequests(body) : undefined;
    const merged = new Map<string, BatchResponseItem>();
    let retries = 0;
    let waitedMs = 0;

    /** Decides a wait; undefined = give up. */
    const plan = (retryAfterMs: number | undefined): { delayMs: number; fromRetryAfter: boolean } | undefined => {
      if (!resendable || retries >= this.o.maxRetries) return undefined;
      const fromRetryAfter = retryAfterMs !== undefined;
      const delayMs = fromRetryAfter ? retryAfterMs : this.backoffMs(retries + 1);
      if (waitedMs + delayMs > this.o.maxTotalWaitMs) return undefined;
      return { delayMs, fromRetryAfter };
    };
    const wait = async (delayMs: number, info: Omit<RetryInfo, 'retry' | 'delayMs'>): Promise<void> => {
      retries++;
      waitedMs += delayMs;
      this.o.onRetry?.({ retry: retries, delayMs, ...info });
      await sleep(delayMs, signal);
    };

    for (;;) {
      throwIfAborted(signal);
      try {
        await this.runNext(context);
      } catch (err) {
        if (signal?.aborted || err instanceof GraphError || !this.o.retryNetworkErrors || (err instanceof TokenAcquisitionError && !err.retryable)) throw err;
        const p = plan(undefined);
        if (!p) throw err;
        await wait(p.delayMs, { reason: 'network', fromRetryAfter: false });
        continue;
      }
      const res = context.response;
      if (!res) return;
      if (this.o.retryStatuses.includes(res.status)) {
        const p = plan(parseRetryAfterMs(res.headers.get('retry-after'), this.o.now()));
        if (!p) { if (merged.size) await this.mergeInto(context, batchRequests!, merged, undefined); return; }
        await wait(p.delayMs, { reason: 'status', status: res.status, fromRetryAfter: p.fromRetryAfter });
        continue;
      }
      if (!batchRequests || res.status !== 200) return;
      const answered = await readBatchResponses(res);
      if (!answered) return;
      for (const r of answered) merged.set(String(r.id), r);
      const failed = this.failedInner(batchRequests, merged);
      const retryAfters = failed.map((id) => innerRetryAfterMs(merged.get(id)!, this.o.now())).filter((v): v is number => v !== undefined);
      const p = failed.length ? plan(retryAfters.length ? Math.max(...retryAfters) : undefined) : undefined;
      if (!p) { await this.mergeInto(context, batchRequests, merged, res); return; }
      const resend = new Set(failed);
      const subset = batchRequests.filter((r) => resend.has(String(r.id))).map((r) => {
        const deps = r.dependsOn?.filter((d) => resend.has(String(d)));
        const copy: BatchRequestItem = { ...r };
        if (deps && deps.length) copy.dependsOn = deps; else delete copy.dependsOn;
        return copy;
      });
      context.options = { ...context.options, body: JSON.stringify({ requests: subset }) };
      await wait(p.delayMs, { reason: 'batch', fromRetryAfter: p.fromRetryAfter, batchIds: failed });
    }
  }

  /** Inner ids to send again: retryable statuses, plus 424s that depend (transitively) on one of them. */
  private failedInner(requests: BatchRequestItem[], merged: Map<string, BatchResponseItem>): string[] {
    const out = new Set<string>();
    for (const r of requests) {
      const m = merged.get(String(r.id));
      if (m && this.o.retryStatuses.includes(Number(m.status))) out.add(String(r.id));
    }
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of requests) {
        const id = String(r.id);
        if (out.has(id) || merged.get(id)?.status !== 424) continue;
        if (r.dependsOn?.some((d) => out.has(String(d)))) { out.add(id); grew = true; }
      }
    }
    return requests.map((r) => String(r.id)).filter((id) => out.has(id));
  }

  /** Replaces the response with one batch response holding every answer, in request order. */
  private async mergeInto(context: Context, requests: BatchRequestItem[], merged: Map<string, BatchResponseItem>, last: Response | undefined): Promise<void> {
    const ordered = requests.map((r) => merged.get(String(r.id))).filter((r): r is BatchResponseItem => r !== undefined);
    const headers = new Headers(last?.headers ?? context.response?.headers);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    context.response = bufferedResponse(Buffer.from(JSON.stringify({ responses: ordered }), 'utf8'), { status: 200, headers });
  }
}

async function readBatchResponses(res: Response): Promise<BatchResponseItem[] | undefined> {
  try {
    const json = JSON.parse(await responseText(res)) as { responses?: unknown };
    return Array.isArray(json?.responses) ? (json.responses as BatchResponseItem[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After of an inner response: its `headers` (any casing), else Graph's throttling body hint. */
function innerRetryAfterMs(r: BatchResponseItem, nowMs: number): number | undefined {
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (k.toLowerCase() === 'retry-after') return parseRetryAfterMs(String(v), nowMs);
  }
  return undefined;
}
