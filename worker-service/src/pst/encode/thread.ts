/**
 * An encoder thread (node:worker_threads): turns payloads into MapiItems with the caller's decoder
 * (protocol.ts DecoderSpec), asks the pool for the part's ids of named properties it has not seen,
 * encodes the item (messaging/encode-item.ts: PC, tables, attachments, contents-table row — no
 * block ids) and transfers the result back packed (transfer.ts). Keeps a cache of the current
 * part's named property ids, so after the first items it asks for nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MapiItem } from '../../mapi/item';
import type { NamedPropertyKey } from '../../mapi/named';
import { collectNamedKeys } from '../messaging/encode-message';
import { encodeStoreItem } from '../messaging/encode-item';
import { estimateItemBytes } from '../estimate';
import type { FromThread, ThreadError, ThreadInit, ToThread } from './protocol';
import { packEncodedItem } from './transfer';

/** Decodes one payload into an item. */
export type ItemDecoder = (payload: Uint8Array, meta: unknown) => MapiItem | Promise<MapiItem>;

function keyString(k: NamedPropertyKey): string {
  return k.lid !== undefined ? `${k.guid}#${k.lid}` : `${k.guid}$${k.name}`;
}

function asThreadError(err: unknown): ThreadError {
  const e = err as { name?: string; message?: string; code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

async function run(init: ThreadInit): Promise<void> {
  const port = parentPort!;
  // messages go out in batches: one postMessage per event-loop turn (or per BATCH_MAX) instead of
  // one per item — each costs tens of microseconds whatever its size
  let outbox: FromThread[] = [];
  let outTransfer: ArrayBuffer[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (outbox.length === 0) return;
    port.postMessage(outbox, outTransfer);
    outbox = [];
    outTransfer = [];
  };
  const send = (m: FromThread, transfer?: ArrayBuffer[]) => {
    outbox.push(m);
    if (transfer) outTransfer.push(...transfer);
    if (outbox.length >= BATCH_MAX) flush();
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(flush);
    }
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(init.decoder.module) as Record<string, (o: unknown) => ItemDecoder | Promise<ItemDecoder>>;
  const factory = mod[init.decoder.exportName ?? 'createDecoder'];
  if (typeof factory !== 'function') throw new Error(`decoder module ${init.decoder.module} has no function ${init.decoder.exportName ?? 'createDecoder'}`);
  const decode = await factory(init.decoder.options);
  let cachePart = 0;
  let cache = new Map<string, number>();
  /** Items decoded and not yet done with: awaiting ids, or sent encoded ahead and not yet acknowledged. */
  const pending = new Map<number, Pending>();
  /** Buffers the pool gave back (protocol.ts `recycle`). */
  const spare: ArrayBuffer[] = [];
  const resolver = {
    idFor(k: NamedPropertyKey): number {
      const id = cache.get(keyString(k));
      if (id === undefined) throw new Error(`encoder thread: no id for named property ${keyString(k)}`);
      return id;
    },
  };

  const encodeAndSend = (id: number, p: Pending, ahead: boolean): boolean => {
    try {
      const buffer = packEncodedItem(encodeStoreItem(resolver, p.item!), spare);
      p.ahead = ahead;
      if (ahead) {
        // kept until acknowledged as payload, not as the decoded item: a MapiItem that lives
        // across event-loop turns is promoted to the old generation, which costs GC time
        p.item = undefined;
        p.keys = [];
      }
      send({ t: 'encoded', id, part: cachePart, estimate: p.estimate, ahead, buffer }, [buffer]);
      return true;
    } catch (err) {
      if (ahead) return false; // the failure is reported after admission, as a sequential writer has it
      pending.delete(id);
      send({ t: 'failed', id, error: asThreadError(err) });
      return true;
    }
  };

  /**
   * Offers an item for admission: when the thread knows every named property's id in its part, it
   * encodes at once and sends the result ahead (admitted as is if the item stays in that part);
   * otherwise it asks for the ids it lacks. What was asked is kept with the item: ids for earlier
   * items may fill the cache before the answer comes.
   */
  const offer = (id: number, p: Pending) => {
    const ask: NamedPropertyKey[] = [];
    const asked = new Set<string>();
    for (const k of p.keys) {
      const s = keyString(k);
      if (!cache.has(s) && !asked.has(s)) {
        asked.add(s);
        ask.push(k);
      }
    }
    p.asked = [...asked];
    if (ask.length === 0 && encodeAndSend(id, p, true)) return;
    send({ t: 'header', id, estimate: p.estimate, part: cachePart, keys: ask });
  };

  port.on('message', (batch: ToThread[]) => {
    for (const m of batch) receive(m);
  });

  const receive = (m: ToThread): void => {
    if (m.t === 'item') {
      Promise.resolve()
        .then(() => decode(m.payload, m.meta))
        .then((item) => {
          const p: Pending = { payload: m.payload, meta: m.meta, item, keys: collectNamedKeys(item), asked: [], estimate: estimateItemBytes(item), ahead: false };
          pending.set(m.id, p);
          offer(m.id, p);
        })
        .catch((err: unknown) => send({ t: 'failed', id: m.id, error: asThreadError(err) }));
      return;
    }
    if (m.t === 'recycle') {
      for (const b of m.buffers) if (spare.length < SPARE_MAX) spare.push(b);
      return;
    }
    if (m.t === 'ack') {
      for (const [id, p] of pending) if (id <= m.upTo && p.ahead) pending.delete(id);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    if (m.t === 'resend') {
      if (m.part !== cachePart) {
        // parts only move forward: a later resend for the same part keeps what was learnt since
        cachePart = m.part;
        cache = new Map();
      }
      if (p.item) offer(m.id, p);
      else {
        // sent ahead for an earlier part: decode again
        const id = m.id;
        Promise.resolve()
          .then(() => decode(p.payload, p.meta))
          .then((item) => {
            p.item = item;
            p.keys = collectNamedKeys(item);
            p.ahead = false;
            offer(id, p);
          })
          .catch((err: unknown) => {
            pending.delete(id);
            send({ t: 'failed', id, error: asThreadError(err) });
          });
      }
      return;
    }
    // ids: the answers to what the last header asked, in its order
    if (m.part !== cachePart) {
      pending.delete(m.id);
      send({ t: 'failed', id: m.id, error: { name: 'Error', message: `encoder thread: ids for part ${m.part} while the thread knows part ${cachePart}` } });
      return;
    }
    for (let i = 0; i < p.asked.length; i++) cache.set(p.asked[i], m.ids[i]);
    pending.delete(m.id);
    encodeAndSend(m.id, p, false);
  };
}

/** Spare buffers a thread keeps at most. */
const SPARE_MAX = 48;

/** Messages a thread sends in one postMessage at most. */
const BATCH_MAX = 16;

interface Pending {
  payload: Uint8Array;
  meta: unknown;
  /** The decoded item; dropped once sent ahead (decoded again if the pool asks again). */
  item?: MapiItem;
  keys: NamedPropertyKey[];
  asked: string[];
  estimate: number;
  /** Sent encoded ahead of admission (kept until acknowledged, in case the pool asks again). */
  ahead: boolean;
}

const init = workerData as ThreadInit | undefined;
if (parentPort && init?.outportEncoder) {
  // a failure to start (e.g. no such decoder module) is an unhandled rejection: the thread ends
  // with an 'error' event, and the pool fails what is in flight
  void run(init);
}
