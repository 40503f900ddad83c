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
  const send = (m: FromThread, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(init.decoder.module) as Record<string, (o: unknown) => ItemDecoder | Promise<ItemDecoder>>;
  const factory = mod[init.decoder.exportName ?? 'createDecoder'];
  if (typeof factory !== 'function') throw new Error(`decoder module ${init.decoder.module} has no function ${init.decoder.exportName ?? 'createDecoder'}`);
  const decode = await factory(init.decoder.options);
  let cachePart = 0;
  let cache = new Map<string, number>();
  const pending = new Map<number, { item: MapiItem; keys: NamedPropertyKey[]; asked: string[] }>();

  // what a header asked is kept with the item: ids for earlier items may fill the cache meanwhile
  const header = (id: number, estimate: number, p: { keys: NamedPropertyKey[]; asked: string[] }) => {
    const keys = p.keys;
    const ask: NamedPropertyKey[] = [];
    const asked = new Set<string>();
    for (const k of keys) {
      const s = keyString(k);
      if (!cache.has(s) && !asked.has(s)) {
        asked.add(s);
        ask.push(k);
      }
    }
    p.asked = [...asked];
    send({ t: 'header', id, estimate, part: cachePart, keys: ask });
  };

  port.on('message', (m: ToThread) => {
    if (m.t === 'item') {
      Promise.resolve()
        .then(() => decode(m.payload, m.meta))
        .then((item) => {
          const p = { item, keys: collectNamedKeys(item), asked: [] as string[] };
          pending.set(m.id, p);
          header(m.id, estimateItemBytes(item), p);
        })
        .catch((err: unknown) => send({ t: 'failed', id: m.id, error: asThreadError(err) }));
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
      header(m.id, estimateItemBytes(p.item), p);
      return;
    }
    // ids: the answers to what the last header asked, in its order
    pending.delete(m.id);
    try {
      if (m.part !== cachePart) throw new Error(`encoder thread: ids for part ${m.part} while the thread knows part ${cachePart}`);
      for (let i = 0; i < p.asked.length; i++) cache.set(p.asked[i], m.ids[i]);
      const resolver = {
        idFor(k: NamedPropertyKey): number {
          const id = cache.get(keyString(k));
          if (id === undefined) throw new Error(`encoder thread: no id for named property ${keyString(k)}`);
          return id;
        },
      };
      const { desc, buffer } = packEncodedItem(encodeStoreItem(resolver, p.item));
      send({ t: 'encoded', id: m.id, desc, buffer }, [buffer]);
    } catch (err) {
      send({ t: 'failed', id: m.id, error: asThreadError(err) });
    }
  });
}

const init = workerData as ThreadInit | undefined;
if (parentPort && init?.outportEncoder) {
  run(init).catch((err: unknown) => {
    // the pool sees the thread's 'error' event and fails what is in flight
    throw err;
  });
}
