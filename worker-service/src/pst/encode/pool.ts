/**
 * Encoder pool: a PST writer fed by worker threads (node:worker_threads). Each thread turns its
 * payloads into MapiItems (the caller's decoder: MIME, FastTransfer, a benchmark's item file) and
 * encodes them — PC, recipient and attachment tables, attachment PCs, contents-table row — which
 * involves no block id (messaging/encode-item.ts). The writer's thread keeps what must be in item
 * order: admission (the part, by the split rule; named property ids, protocol.ts) and layout
 * (block ids, AMap intervals, B-trees). So the parts are byte for byte those of
 * `PstWriter.addItem` on the same items, with more than one core doing the work.
 *
 * Items are laid out, and their `onDone` called, in the order they were added.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { MapiFolder, PropertyBag } from '../../mapi/item';
import type { NamedPropertyKey } from '../../mapi/named';
import type { Admission, PartPlan, PstItemPlacement, PstWriter } from '../writer';
import type { DecoderSpec, FromThread, ThreadError, ThreadInit, ToThread } from './protocol';
import { RECYCLE_MAX_BYTES, unpackEncodedItem } from './transfer';
import { threadScript } from '../thread-loader';

export type { DecoderSpec } from './protocol';
// the thread's module is loaded by path, not imported: this re-export keeps it in every compile
export type { ItemDecoder } from './thread';

/** Options of {@link EncoderPool.start}. */
export interface EncoderPoolOptions {
  /** Encoder threads (default: the machine's cores, at least 1). */
  threads?: number;
  /** How each thread makes MapiItems from payloads. */
  decoder: DecoderSpec;
  /** Items added but not yet laid out, at most (default 16 a thread); `add` waits beyond it. */
  maxInFlight?: number;
}

/** Called once per added item, in the order added: the placement, or why the item was not written. */
export type ItemDone = (err: Error | undefined, placement: PstItemPlacement | undefined) => void;

/** Error of the pool, or an item's error from its thread (name, code and message kept). */
export class EncoderPoolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly originalName?: string,
  ) {
    super(message);
    this.name = 'EncoderPoolError';
  }
}

type ItemEntry = {
  kind: 'item';
  id: number;
  path: readonly MapiFolder[];
  thread: number;
  onDone?: ItemDone;
  state: 'decoding' | 'header' | 'ahead' | 'resend' | 'encoding' | 'encoded' | 'failed';
  header?: { estimate: number; part: number; keys: NamedPropertyKey[] };
  adm?: Admission;
  enc?: ArrayBuffer;
  error?: Error;
};
type OpEntry = { kind: 'op'; admit: () => unknown; layout: () => Promise<void>; done: (err?: Error) => void; error?: Error };
type Entry = ItemEntry | OpEntry;

/** Items admitted per thread between two `ack` messages. */
const ACK_EVERY = 32;
/** Messages sent to a thread in one postMessage at most. */
const BATCH_MAX = 16;
/** Laid-out buffers returned to a thread in one message. */
const RECYCLE_BATCH = 8;

function fromThreadError(e: ThreadError): Error {
  return new EncoderPoolError(e.code ?? 'ItemFailed', e.message, e.name);
}

/** See the file comment. Use: `start`, then `add` for each item (awaiting each), then `close`. */
export class EncoderPool {
  private readonly threads: Worker[] = [];
  private readonly load: number[] = [];
  private readonly unacked: number[] = [];
  private readonly entries: Entry[] = [];
  private readonly byId = new Map<number, ItemEntry>();
  private nextId = 0;
  private headerIdx = 0;
  private layoutIdx = 0;
  private inFlight = 0;
  private pumping = false;
  private fatal?: Error;
  private waiters: (() => void)[] = [];
  private readonly maxInFlight: number;
  private closed = false;

  private constructor(private readonly writer: PstWriter, options: EncoderPoolOptions) {
    const n = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
    this.maxInFlight = Math.max(2, options.maxInFlight ?? 16 * n);
    const { file, execArgv } = threadScript(__filename, 'thread');
    const init: ThreadInit = { outportEncoder: true, decoder: options.decoder };
    for (let i = 0; i < n; i++) {
      const w = new Worker(file, { workerData: init, execArgv });
      w.on('message', (batch: FromThread[]) => {
        for (const m of batch) this.onMessage(m);
      });
      w.on('error', (err) => this.fail(new EncoderPoolError('ThreadFailed', `encoder thread ${i} failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new EncoderPoolError('ThreadFailed', `encoder thread ${i} exited (code ${code}) while the pool was open`));
      });
      this.threads.push(w);
      this.load.push(0);
      this.unacked.push(0);
      this.outbox.push({ msgs: [], transfer: [] });
      this.recycled.push([]);
    }
  }

  /**
   * Starts `threads` encoder threads feeding `writer` (which the caller still closes).
   * @throws EncoderPoolError "BadOptions" without a decoder module
   */
  static start(writer: PstWriter, options: EncoderPoolOptions): EncoderPool {
    if (!options.decoder?.module || !path.isAbsolute(options.decoder.module)) {
      throw new EncoderPoolError('BadOptions', 'decoder.module must be the absolute path of a module exporting createDecoder(options)');
    }
    return new EncoderPool(writer, options);
  }

  /** Messages to each thread, sent in one postMessage per event-loop turn (or per BATCH_MAX). */
  private readonly outbox: { msgs: ToThread[]; transfer: ArrayBuffer[] }[] = [];
  private flushQueued = false;

  private post(thread: number, m: ToThread, transfer?: ArrayBuffer[]): void {
    const box = this.outbox[thread];
    box.msgs.push(m);
    // the same buffer twice in one transfer list is a DataCloneError
    if (transfer) for (const b of transfer) if (!box.transfer.includes(b)) box.transfer.push(b);
    if (box.msgs.length >= BATCH_MAX) this.flushThread(thread);
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  private readonly recycled: ArrayBuffer[][] = [];

  private recycle(thread: number, buffer: ArrayBuffer): void {
    const list = this.recycled[thread];
    list.push(buffer);
    if (list.length >= RECYCLE_BATCH) {
      this.recycled[thread] = [];
      this.post(thread, { t: 'recycle', buffers: list }, list);
    }
  }

  private flushThread(thread: number): void {
    const box = this.outbox[thread];
    if (box.msgs.length === 0 || this.closed) return;
    this.threads[thread].postMessage(box.msgs, box.transfer);
    this.outbox[thread] = { msgs: [], transfer: [] };
  }

  private flush(): void {
    this.flushQueued = false;
    for (let i = 0; i < this.threads.length; i++) this.flushThread(i);
  }

  /**
   * Adds an item: `payload` (transferred to the thread when it owns its whole ArrayBuffer — the
   * caller's view is detached then; a view into a larger buffer, e.g. a Buffer from Node's pool, is copied) and `meta` (structured clone) go to a thread's decoder. Resolves once the
   * item is queued — waiting while `maxInFlight` items are in flight; `onDone` reports its outcome.
   * @throws the pool's fatal error (a thread died, the writer's sink failed), EncoderPoolError "Closed"
   */
  async add(folderPath: readonly MapiFolder[], payload: Uint8Array, meta: unknown, onDone?: ItemDone): Promise<void> {
    while (!this.fatal && this.inFlight >= this.maxInFlight) await new Promise<void>((r) => this.waiters.push(r));
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new EncoderPoolError('Closed', 'the encoder pool is closed');
    let thread = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[thread]) thread = i;
    const id = this.nextId++;
    const e: ItemEntry = { kind: 'item', id, path: folderPath, thread, onDone, state: 'decoding' };
    this.entries.push(e);
    this.byId.set(id, e);
    this.inFlight++;
    this.load[thread]++;
    // transferred when the payload owns its whole ArrayBuffer; a view into a larger one (a Buffer
    // from Node's pool) or an empty one (often shared) is copied
    const own = payload.byteLength > 0 && payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength && payload.buffer instanceof ArrayBuffer;
    const data = own ? payload : new Uint8Array(payload);
    this.post(thread, { t: 'item', id, payload: data, meta }, data.byteLength > 0 ? [data.buffer as ArrayBuffer] : undefined);
  }

  /** Queues `writer.ensureFolder(folderPath)` in order with the items; resolves when done. */
  ensureFolder(folderPath: readonly MapiFolder[]): Promise<void> {
    let plan: PartPlan | undefined;
    return this.op(
      () => (plan = this.writer.admitFolder(folderPath)),
      () => this.writer.layoutFolder(plan!, folderPath),
    );
  }

  /** Queues `writer.setTopFolderProperties(properties)` in order with the items. */
  setTopFolderProperties(properties: PropertyBag): Promise<void> {
    return this.op(
      () => this.writer.setTopFolderProperties(properties),
      async () => undefined,
    );
  }

  private op(admit: () => unknown, layout: () => Promise<void>): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<void>((resolve, reject) => {
      this.entries.push({ kind: 'op', admit, layout, done: (err) => (err ? reject(err) : resolve()) });
      this.kick();
    });
  }

  /** Resolves when every item added so far is laid out (or failed). @throws the pool's fatal error */
  async drain(): Promise<void> {
    while (!this.fatal && this.layoutIdx < this.entries.length) await new Promise<void>((r) => this.waiters.push(r));
    if (this.fatal) throw this.fatal;
  }

  /** Drains and stops the threads. The writer stays open. @throws the pool's fatal error */
  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.closed = true;
      await Promise.all(this.threads.map((w) => w.terminate()));
    }
  }

  /** Stops the threads at once; items in flight fail with `reason`. */
  async abort(reason = new EncoderPoolError('Aborted', 'the encoder pool was aborted')): Promise<void> {
    this.closed = true;
    this.fail(reason);
    await Promise.all(this.threads.map((w) => w.terminate()));
  }

  private fail(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    for (let i = this.layoutIdx; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (e.kind === 'op') e.done(err);
      else e.onDone?.(err, undefined);
    }
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private onMessage(m: FromThread): void {
    const e = this.byId.get(m.id);
    if (!e || this.fatal) return;
    if (m.t === 'header') {
      e.header = { estimate: m.estimate, part: m.part, keys: m.keys };
      e.state = 'header';
    } else if (m.t === 'encoded') {
      e.enc = m.buffer;
      if (m.ahead) {
        e.header = { estimate: m.estimate, part: m.part, keys: [] };
        e.state = 'ahead';
      } else e.state = 'encoded';
    } else {
      e.error = fromThreadError(m.error);
      e.state = 'failed';
    }
    this.kick();
  }

  private kick(): void {
    if (!this.pumping && !this.fatal) void this.pump();
  }

  /** Admits headers in order, then lays out what is ready in order; again until nothing moves. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (;;) {
        let moved = this.admitReady();
        while (this.layoutIdx < this.headerIdx && !this.fatal) {
          const e = this.entries[this.layoutIdx];
          if (e.kind === 'op') {
            try {
              if (e.error) throw e.error;
              await e.layout();
              e.done();
            } catch (err) {
              e.done(err as Error);
            }
          } else if (e.state === 'failed') {
            if (e.adm) this.writer.skipItem(e.adm);
            this.finish(e, e.error, undefined);
          } else if (e.state === 'encoded') {
            const buffer = e.enc!;
            e.enc = undefined;
            const placement = await this.writer.layoutItem(e.adm!, e.path, unpackEncodedItem(buffer));
            // the NDB writer copied every payload into its interval and the row was copied: give the buffer back
            if (buffer.byteLength <= RECYCLE_MAX_BYTES) this.recycle(e.thread, buffer);
            this.finish(e, undefined, placement);
          } else break;
          this.layoutIdx++;
          moved = true;
          moved = this.admitReady() || moved; // a layout may let the next admission go
        }
        this.compact();
        if (!moved) break;
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.pumping = false;
    }
  }

  private finish(e: ItemEntry, err: Error | undefined, placement: PstItemPlacement | undefined): void {
    if (this.fatal) return; // fail() has reported every item from layoutIdx on
    this.byId.delete(e.id);
    this.inFlight--;
    this.load[e.thread]--;
    e.onDone?.(err, placement);
    this.wake();
  }

  /** Admission, in order, of every entry whose header is in. @returns whether any moved */
  private admitReady(): boolean {
    let moved = false;
    while (this.headerIdx < this.entries.length) {
      const e = this.entries[this.headerIdx];
      if (e.kind === 'op') {
        try {
          e.admit();
        } catch (err) {
          e.error = err as Error;
        }
        this.headerIdx++;
        moved = true;
        continue;
      }
      if (e.state === 'failed' && !e.adm) {
        this.headerIdx++; // failed before admission: nothing to record
        moved = true;
        continue;
      }
      if (e.state !== 'header' && e.state !== 'ahead') break;
      if (!e.adm) {
        if (!this.writer.admissionReady) break;
        e.adm = this.writer.admit(e.path, e.header!.estimate);
      }
      if (e.header!.part !== e.adm.plan.index) {
        // the thread asked for the names it had no id for in an earlier part: ask again for this one
        e.state = 'resend';
        e.enc = undefined;
        this.post(e.thread, { t: 'resend', id: e.id, part: e.adm.plan.index });
        break;
      }
      try {
        const ids = this.writer.admitNames(e.adm, e.path, e.header!.keys);
        if (e.state === 'ahead') {
          e.state = 'encoded';
          if (++this.unacked[e.thread] >= ACK_EVERY) {
            this.unacked[e.thread] = 0;
            this.post(e.thread, { t: 'ack', upTo: e.id });
          }
        } else {
          e.state = 'encoding';
          this.post(e.thread, { t: 'ids', id: e.id, part: e.adm.plan.index, ids });
        }
      } catch (err) {
        e.error = err as Error;
        e.state = 'failed';
      }
      e.header = undefined;
      this.headerIdx++;
      moved = true;
    }
    return moved;
  }

  private compact(): void {
    if (this.layoutIdx < 1024) return;
    this.entries.splice(0, this.layoutIdx);
    this.headerIdx -= this.layoutIdx;
    this.layoutIdx = 0;
  }
}
