/**
 * Fault injection (the knobs a test turns to see the client cope): per Graph request, with seeded
 * randomness so a run can be repeated, a 429 TooManyRequests, 503, 504, a connection reset, and per
 * exportItems item, malformed data (the FastTransfer stream cut short).
 */
import { seededRandom } from './ids';

/** Fault rates in [0, 1] and the seed. */
export interface FaultOptions {
  rate429?: number;
  rate503?: number;
  rate504?: number;
  /** The socket is destroyed without an answer. */
  rateReset?: number;
  /** Per exportItems item: `data` holds a truncated stream. */
  rateMalformed?: number;
  /** Retry-After of injected 429/503, seconds. Default 1. */
  retryAfterSeconds?: number;
  /** PRNG seed; default 1. */
  seed?: number;
}

/** A fault chosen for a request. */
export type Fault = '429' | '503' | '504' | 'reset';

/** Draws faults. */
export class FaultInjector {
  private readonly random: () => number;
  /** Counts of injected faults by kind ('429', '503', '504', 'reset', 'malformed'). */
  readonly counts: Record<string, number> = {};

  constructor(readonly options: FaultOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
  }

  /** The fault for one request, or undefined. */
  requestFault(): Fault | undefined {
    const o = this.options;
    const r = this.random();
    let acc = 0;
    for (const [kind, rate] of [['429', o.rate429], ['503', o.rate503], ['504', o.rate504], ['reset', o.rateReset]] as const) {
      acc += rate ?? 0;
      if (r < acc) {
        this.counts[kind] = (this.counts[kind] ?? 0) + 1;
        return kind;
      }
    }
    return undefined;
  }

  /** Whether one exported item's data is to be malformed. */
  malformItem(): boolean {
    if (!this.options.rateMalformed) return false;
    const hit = this.random() < this.options.rateMalformed;
    if (hit) this.counts.malformed = (this.counts.malformed ?? 0) + 1;
    return hit;
  }
}
