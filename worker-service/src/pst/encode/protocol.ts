/**
 * Messages between the encoder pool (pool.ts, the writer's thread) and its encoder threads
 * (thread.ts). Per item, in order: `item` → `header` (estimate, named properties the thread has no
 * id for in the part it knows) → `ids` (the part and the ids, in the order asked) or `resend` (the
 * item went to a later part: ask again for that part) → `encoded` (transferred buffer) — or
 * `failed` at any step. When the thread knows every id already (the usual case after the first
 * items), it skips the header and sends `encoded` with `ahead`: the pool admits it as is when the
 * item stays in that part, else answers `resend`; `ack` lets the thread forget admitted items.
 */
import type { NamedPropertyKey } from '../../mapi/named';

/**
 * Where a thread gets its items from: a module (absolute path, .js or .ts) whose export
 * `exportName` (default "createDecoder") is called once per thread with `options` (structured
 * clone) and returns the function that turns each payload into a MapiItem.
 */
export interface DecoderSpec {
  module: string;
  exportName?: string;
  options?: unknown;
}

/** workerData of an encoder thread. */
export interface ThreadInit {
  outportEncoder: true;
  decoder: DecoderSpec;
}

/** An error as it crosses threads. */
export interface ThreadError {
  name: string;
  message: string;
  code?: string;
}

/** Pool → thread. */
export type ToThread =
  | { t: 'item'; id: number; payload: Uint8Array; meta: unknown }
  | { t: 'ids'; id: number; part: number; ids: number[] }
  | { t: 'resend'; id: number; part: number }
  /** Items up to `upTo` are admitted: a thread forgets what it encoded ahead for them. */
  | { t: 'ack'; upTo: number }
  /** Buffers of laid-out items, back for the thread to pack later items into (no allocation, no GC churn). */
  | { t: 'recycle'; buffers: ArrayBuffer[] };

/** Thread → pool. */
export type FromThread =
  | { t: 'header'; id: number; estimate: number; part: number; keys: NamedPropertyKey[] }
  /** `ahead`: encoded before admission with the ids the thread knew for `part` (no header was sent). */
  | { t: 'encoded'; id: number; part: number; estimate: number; ahead: boolean; buffer: ArrayBuffer }
  | { t: 'failed'; id: number; error: ThreadError };
