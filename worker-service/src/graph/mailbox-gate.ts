/**
 * The per-mailbox gate: at most N requests in flight and at most M request starts in any window of
 * W ms, per mailbox key, with fair FIFO waiting. Graph's Outlook limits per app and mailbox are 4
 * concurrent requests and 10,000 requests per 10 minutes (learn.microsoft.com/graph/throttling-limits,
 * "Outlook service limits"); a 5th concurrent request is answered 429 (MailboxConcurrency).
 *
 * The request budget is a token bucket of M tokens in which each spent token comes back exactly W ms
 * after it was spent (a sliding window). A classic bucket with continuous refill at M/W would let up
 * to 2M requests start inside one window (a full bucket, then the refill), which is what Graph
 * counts; this one never lets more than M start in any W ms and still allows the full M.
 */
import { abortReason } from './abort';

/** Gate settings; every field has Graph's default. */
export interface MailboxGateOptions {
  /** Requests in flight per mailbox; default 4. */
  maxConcurrent?: number;
  /** Request starts per window per mailbox; default 10,000. */
  maxRequestsPerWindow?: number;
  /** The window in ms; default 600,000 (10 min). */
  windowMs?: number;
  /** Clock (epoch ms); default Date.now (jest fake timers replace it). */
  now?: () => number;
}

/** A held place in the gate. `release()` is idempotent; call it when the response is complete. */
export interface GateLease {
  release(): void;
}

/** Counters of one mailbox key, for tests, logs and progress. */
export interface GateStats {
  inFlight: number;
  waiting: number;
  /** Tokens spent inside the current window. */
  usedInWindow: number;
  /** Epoch ms until which the key is paused (Retry-After learned from Graph), or 0. */
  pausedUntilMs: number;
}

interface Waiter {
  cost: number;
  resolve: (lease: GateLease) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface KeyState {
  inFlight: number;
  queue: Waiter[];
  /** Spend times (epoch ms), ascending, from index `head`. */
  spent: number[];
  head: number;
  pausedUntilMs: number;
  timer?: ReturnType<typeof setTimeout>;
  timerAtMs: number;
}

/** Graph's per-mailbox defaults (throttling-limits, Outlook service limits). */
export const DEFAULT_MAX_CONCURRENT = 4;
export const DEFAULT_MAX_REQUESTS_PER_WINDOW = 10_000;
export const DEFAULT_WINDOW_MS = 10 * 60 * 1000;

/** Per-mailbox concurrency and request-budget gate. One instance is shared by every request of a
 *  worker process so that all calls for one mailbox (listing, export, retries, redirect hops) share it. */
export class MailboxGate {
  readonly maxConcurrent: number;
  readonly maxRequestsPerWindow: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, KeyState>();
  private readonly aliases = new Map<string, string>();

  /** @throws RangeError when a setting is not a positive integer */
  constructor(options: MailboxGateOptions = {}) {
    this.maxConcurrent = positiveInt(options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT, 'maxConcurrent');
    this.maxRequestsPerWindow = positiveInt(options.maxRequestsPerWindow ?? DEFAULT_MAX_REQUESTS_PER_WINDOW, 'maxRequestsPerWindow');
    this.windowMs = positiveInt(options.windowMs ?? DEFAULT_WINDOW_MS, 'windowMs');
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Waits for a place for `key` behind everyone already waiting for it (FIFO), then holds one
   * in-flight slot and spends `cost` tokens.
   * @param cost  request starts this place stands for (a `$batch` with n inner requests: n); 1..maxRequestsPerWindow
   * @throws the signal's reason when aborted while waiting (the place is given up; nothing is spent)
   * @throws RangeError when cost is out of range
   */
  acquire(key: string, cost = 1, signal?: AbortSignal | null): Promise<GateLease> {
    key = this.canonicalKey(key);
    if (!Number.isInteger(cost) || cost < 1 || cost > this.maxRequestsPerWindow) {
      return Promise.reject(new RangeError(`gate cost ${cost} outside 1..${this.maxRequestsPerWindow}`));
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const state = this.state(key);
    return new Promise<GateLease>((resolve, reject) => {
      const waiter: Waiter = { cost, resolve, reject, signal: signal ?? undefined };
      if (signal) {
        waiter.onAbort = () => {
          const i = state.queue.indexOf(waiter);
          if (i < 0) return;
          state.queue.splice(i, 1);
          reject(abortReason(signal));
          if (i === 0) this.pump(key, state);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      state.queue.push(waiter);
      this.pump(key, state);
    });
  }

  /**
   * Acquires several keys (a `$batch` touching several mailboxes), in sorted key order so that two
   * such requests never hold one key each while waiting for the other's.
   * @param costs  key → cost; an empty map gives a lease that holds nothing
   * @throws as acquire; places already taken are released first
   */
  async acquireAll(costs: ReadonlyMap<string, number>, signal?: AbortSignal | null): Promise<GateLease> {
    // Aliased keys are merged first (a batch touching a user's REST API and its primary mailbox takes one place).
    const merged = new Map<string, number>();
    for (const [k, n] of costs) {
      const c = this.canonicalKey(k);
      merged.set(c, Math.min(this.maxRequestsPerWindow, (merged.get(c) ?? 0) + n));
    }
    const leases: GateLease[] = [];
    try {
      for (const key of [...merged.keys()].sort()) leases.push(await this.acquire(key, merged.get(key)!, signal));
    } catch (err) {
      for (const l of leases) l.release();
      throw err;
    }
    return { release: () => { for (const l of leases) l.release(); } };
  }

  /**
   * Holds every new start for `key` until `untilMs` (epoch ms): Graph answered 429 with Retry-After
   * for this mailbox, so other requests for it would be throttled too. Requests already in flight
   * are unaffected; a later pause never shortens an earlier one.
   */
  pause(key: string, untilMs: number): void {
    key = this.canonicalKey(key);
    const state = this.state(key);
    if (untilMs > state.pausedUntilMs) state.pausedUntilMs = untilMs;
    this.pump(key, state);
  }

  /**
   * Makes `key` share the gate of `canonical`: Graph throttles a mailbox once, whichever API
   * names it, so a user's REST calls (`user:<upn>`) and the mailbox API on the same primary
   * (`mailbox:<MBX id>`) must share the 4 places. Aliases are not chained (`canonical` is used as
   * given) and stay for the gate's life; re-aliasing a key to another canonical replaces it.
   * Call before requests for `key` are in flight (a place held under the old key counts there).
   * @throws RangeError when key === canonical
   */
  alias(key: string, canonical: string): void {
    if (key === canonical) throw new RangeError(`gate alias of ${key} to itself`);
    this.aliases.set(key, canonical);
  }

  /** The key whose places `key` uses (itself unless aliased). */
  canonicalKey(key: string): string {
    return this.aliases.get(key) ?? key;
  }

  /** The gate's clock (epoch ms). */
  nowMs(): number { return this.now(); }

  /** Current counters of `key` (zeros for an unknown key). */
  stats(key: string): GateStats {
    const state = this.keys.get(this.canonicalKey(key));
    if (!state) return { inFlight: 0, waiting: 0, usedInWindow: 0, pausedUntilMs: 0 };
    this.expire(state, this.now());
    return {
      inFlight: state.inFlight,
      waiting: state.queue.length,
      usedInWindow: state.spent.length - state.head,
      pausedUntilMs: state.pausedUntilMs > this.now() ? state.pausedUntilMs : 0,
    };
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) { s = { inFlight: 0, queue: [], spent: [], head: 0, pausedUntilMs: 0, timerAtMs: 0 }; this.keys.set(key, s); }
    return s;
  }

  private expire(state: KeyState, now: number): void {
    const cutoff = now - this.windowMs;
    while (state.head < state.spent.length && state.spent[state.head] <= cutoff) state.head++;
    if (state.head > 1024 && state.head * 2 > state.spent.length) { state.spent = state.spent.slice(state.head); state.head = 0; }
  }

  /** Grants places from the head of the queue while limits allow; otherwise arms one timer for the
   *  moment the head could go (tokens coming back or a pause ending). */
  private pump(key: string, state: KeyState): void {
    const now = this.now();
    this.expire(state, now);
    while (state.queue.length > 0) {
      const head = state.queue[0];
      if (state.inFlight >= this.maxConcurrent) break; // a release will pump again
      let readyAtMs = state.pausedUntilMs > now ? state.pausedUntilMs : 0;
      const used = state.spent.length - state.head;
      const lacking = used + head.cost - this.maxRequestsPerWindow;
      if (lacking > 0) readyAtMs = Math.max(readyAtMs, state.spent[state.head + lacking - 1] + this.windowMs);
      if (readyAtMs > now) { this.arm(key, state, readyAtMs, now); return; }
      state.queue.shift();
      if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
      for (let i = 0; i < head.cost; i++) state.spent.push(now);
      state.inFlight++;
      let released = false;
      head.resolve({
        release: () => {
          if (released) return;
          released = true;
          state.inFlight--;
          this.pump(key, state);
        },
      });
    }
    if (state.queue.length === 0 && state.inFlight === 0 && state.head === state.spent.length && state.pausedUntilMs <= now) {
      if (state.timer) clearTimeout(state.timer);
      this.keys.delete(key);
    }
  }

  private arm(key: string, state: KeyState, atMs: number, now: number): void {
    if (state.timer && state.timerAtMs <= atMs && state.timerAtMs > now) return;
    if (state.timer) clearTimeout(state.timer);
    state.timerAtMs = atMs;
    state.timer = setTimeout(() => { state.timer = undefined; state.timerAtMs = 0; this.pump(key, state); }, atMs - now);
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}
