/**
 * Helpers of the Graph source (source.ts): an ordered, bounded queue that lets enumeration run ahead
 * of the consumer while exports are in flight, the exportItems batch planner, and the test for an
 * expired delta token.
 */
import { GraphError } from './errors';

/**
 * An ordered queue of pending results with a capacity. The producer pushes promises (requests
 * already started); the consumer takes them in push order. `push` waits while `capacity` entries
 * are unconsumed, so at most `capacity` units of work run ahead of the consumer. Pushed promises
 * must not reject (callers turn failures into values).
 */
export class OrderedQueue<T> {
  private readonly entries: Promise<T>[] = [];
  private waitingConsumer?: () => void;
  private waitingProducer?: () => void;
  private ended = false;
  private failure?: { error: unknown };
  /** Set when the consumer stopped (generator returned early); producers check it and stop. */
  cancelled = false;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('OrderedQueue capacity must be ≥ 1');
  }

  /** Adds a pending result; resolves once there is room (or at once when cancelled). */
  async push(entry: Promise<T>): Promise<void> {
    while (!this.cancelled && this.entries.length >= this.capacity) {
      await new Promise<void>((r) => { this.waitingProducer = r; });
    }
    if (this.cancelled) return;
    this.entries.push(entry);
    this.wakeConsumer();
  }

  /** No more entries (or the producer failed: the consumer rethrows `error` after the entries). */
  end(error?: unknown): void {
    this.ended = true;
    if (error !== undefined) this.failure = { error };
    this.wakeConsumer();
  }

  /** The consumer stops: producers are released and stop pushing. */
  cancel(): void {
    this.cancelled = true;
    this.wakeProducer();
  }

  /** The entries in order, each awaited. @throws the producer's error, after the entries before it */
  async *drain(): AsyncGenerator<T, void, undefined> {
    for (;;) {
      if (this.entries.length > 0) {
        const next = this.entries.shift()!;
        this.wakeProducer();
        yield await next;
        continue;
      }
      if (this.ended) {
        if (this.failure) throw this.failure.error;
        return;
      }
      await new Promise<void>((r) => { this.waitingConsumer = r; });
    }
  }

  private wakeConsumer(): void {
    const w = this.waitingConsumer;
    this.waitingConsumer = undefined;
    w?.();
  }

  private wakeProducer(): void {
    const w = this.waitingProducer;
    this.waitingProducer = undefined;
    w?.();
  }
}

/** Graph's codes for a delta token whose sync state is gone (delta-query-overview: start a full round). */
const RESYNC_CODES = /^(syncStateNotFound|syncStateInvalid|resyncRequired)$/i;

/**
 * Whether a failed delta request means "the saved deltaLink no longer works, list in full":
 * 410 Gone, or one of Graph's sync-state codes whatever the status.
 */
export function isDeltaExpired(e: unknown): e is GraphError {
  return e instanceof GraphError && (e.statusCode === 410 || RESYNC_CODES.test(e.code) || RESYNC_CODES.test(e.innerCode ?? ''));
}

/** Limits of one exportItems call. */
export interface BatchLimits {
  /** Ids per call, 1..20 (Graph refuses more than 20). */
  maxIds: number;
  /** Sum of `mailboxItem.size` per call; an item larger than this goes alone. */
  maxBytes: number;
}

/** Most ids one exportItems call takes (mailbox-exportitems.md). */
export const EXPORT_ITEMS_MAX_IDS = 20;

/**
 * Splits items (in order) into exportItems batches of ≤ `maxIds` ids whose sizes sum to ≤
 * `maxBytes`; an item alone over the budget gets a batch of its own. Items without a size count 0.
 */
export function planBatches<T extends { size?: number }>(items: readonly T[], limits: BatchLimits): T[][] {
  const maxIds = Math.max(1, Math.min(EXPORT_ITEMS_MAX_IDS, Math.floor(limits.maxIds)));
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const size = it.size ?? 0;
    if (cur.length > 0 && (cur.length >= maxIds || bytes + size > limits.maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
