/**
 * Graph's per-mailbox limits for Outlook resources (concepts/throttling-limits.md): 4 concurrent
 * requests and 10,000 requests per 10 minutes per app and mailbox; primary, archive and auxiliary
 * archive count separately. A request over the limit is refused with 429 and Retry-After. The
 * record of requests in flight per mailbox (including refused ones) is what tests assert on.
 */

/** Limits (the knobs). */
export interface ThrottleOptions {
  /** Concurrent requests per mailbox; the next one gets 429 MailboxConcurrency. Default 4. */
  maxConcurrent?: number;
  /** Requests per window per mailbox; default 10,000. */
  requestsPerWindow?: number;
  /** Window length; default 600,000 ms (10 min). */
  windowMs?: number;
  /** Retry-After sent with these 429s, seconds (fractions allowed). Default 1. */
  retryAfterSeconds?: number;
}

/** Per-mailbox counters. */
export interface MailboxStats {
  /** Requests that reached this mailbox (admitted or refused). */
  requests: number;
  /** Requests open right now (admitted or being refused). */
  inFlight: number;
  /** The most requests ever open at once, refused ones included: a client that keeps Graph's rule keeps it ≤ 4. */
  maxInFlight: number;
  /** 429 MailboxConcurrency answers. */
  rejectedConcurrency: number;
  /** 429 ApplicationThrottled answers (over the request budget). */
  rejectedBudget: number;
}

/** The outcome of {@link MailboxThrottle.enter}. */
export type Admission =
  | { readonly ok: true; release(): void }
  | { readonly ok: false; readonly code: 'MailboxConcurrency' | 'ApplicationThrottled'; readonly message: string; readonly retryAfterSeconds: number; release(): void };

/** Concurrency and request budget per mailbox key. */
export class MailboxThrottle {
  private readonly admitted = new Map<string, number>();
  private readonly windows = new Map<string, number[]>();
  private readonly stats_ = new Map<string, MailboxStats>();
  readonly maxConcurrent: number;
  readonly requestsPerWindow: number;
  readonly windowMs: number;
  readonly retryAfterSeconds: number;

  constructor(options: ThrottleOptions = {}, private readonly now: () => number = Date.now) {
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.requestsPerWindow = options.requestsPerWindow ?? 10_000;
    this.windowMs = options.windowMs ?? 600_000;
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }

  private statsOf(key: string): MailboxStats {
    let s = this.stats_.get(key);
    if (!s) this.stats_.set(key, (s = { requests: 0, inFlight: 0, maxInFlight: 0, rejectedConcurrency: 0, rejectedBudget: 0 }));
    return s;
  }

  /** A request for mailbox `key` arrives. Call `release()` once its response is on its way. */
  enter(key: string): Admission {
    const s = this.statsOf(key);
    s.requests++;
    s.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
    let open = true;
    const leave = (admitted: boolean) => () => {
      if (!open) return;
      open = false;
      s.inFlight--;
      if (admitted) this.admitted.set(key, (this.admitted.get(key) ?? 1) - 1);
    };
    const busy = this.admitted.get(key) ?? 0;
    if (busy >= this.maxConcurrent) {
      s.rejectedConcurrency++;
      return { ok: false, code: 'MailboxConcurrency', message: 'Application is over its MailboxConcurrency limit.', retryAfterSeconds: this.retryAfterSeconds, release: leave(false) };
    }
    const t = this.now();
    const w = (this.windows.get(key) ?? []).filter((x) => x > t - this.windowMs);
    this.windows.set(key, w);
    if (w.length >= this.requestsPerWindow) {
      s.rejectedBudget++;
      const retry = Math.max(1, Math.ceil((w[0] + this.windowMs - t) / 1000));
      return { ok: false, code: 'ApplicationThrottled', message: 'Application is over its request limit for this mailbox.', retryAfterSeconds: retry, release: leave(false) };
    }
    w.push(t);
    this.admitted.set(key, busy + 1);
    return { ok: true, release: leave(true) };
  }

  /** Counters per mailbox key. */
  stats(): Record<string, MailboxStats> {
    return Object.fromEntries([...this.stats_].map(([k, v]) => [k, { ...v }]));
  }

  /** Forgets the counters (not the requests in flight or the windows). */
  resetStats(): void {
    for (const s of this.stats_.values()) Object.assign(s, { requests: 0, maxInFlight: s.inFlight, rejectedConcurrency: 0, rejectedBudget: 0 });
  }
}
