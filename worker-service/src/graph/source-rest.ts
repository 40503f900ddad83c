/**
 * The Graph source's REST path (clouds without exportItems, `mode: 'rest'`, and the re-read of mail
 * whose FastTransfer data could not be decoded): mail as MIME (`$value`) through convertMime plus the
 * message JSON merged on (isRead, flag, categories, importance, received time); contacts, events and
 * To Do tasks through the graph-json converters. Every item is marked fidelity `rest`.
 */
import { createHash } from 'node:crypto';
import { convertContact, convertEvent, convertTodoTask, mergeMessageMetadata } from '../convert/graph-json';
import { convertMime } from '../convert/mime';
import type { MapiFolder } from '../mapi/item';
import { TAG } from '../mapi/tags';
import type { GraphClient } from './client';
import { idSegment, pages, values } from './discovery';
import { GraphError } from './errors';
import { dateAccepted, folderFilter, typeAccepted, type IdFilter } from './source-filters';
import { isDeltaExpired, type OrderedQueue } from './source-pipeline';
import type { SourceErrorEvent, SourceEvent, SourceItemEvent, SourceOptions } from './source-types';

type Json = Record<string, unknown>;

const done = <T>(v: T): Promise<T> => Promise.resolve(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** A REST message as a MapiItem: `$value` → convertMime, then the JSON's metadata merged on. */
export async function restMessageItem(client: GraphClient, user: string, json: Json, options: SourceOptions): Promise<Omit<SourceItemEvent, 'path'>> {
  const id = String(json.id);
  const raw = (await client.request(`/users/${idSegment(user)}/messages/${idSegment(id)}/$value`, { signal: options.signal })).bytes();
  const { item } = await convertMime(raw);
  mergeMessageMetadata(item, json, { timeZone: options.timeZone });
  return { kind: 'item', item, fidelity: 'rest', sourceId: id, changeKey: str(json.changeKey), sizeBytes: raw.length, sourceSha256: sha256Hex(raw) };
}

/**
 * Re-reads one message through REST (JSON, then `$value`). The mailbox API's item id is used as the
 * REST message id (true in the sandbox; see docs/graph-source.md for real tenants).
 * @throws GraphError
 */
export async function readRestMessage(client: GraphClient, user: string, id: string, options: SourceOptions): Promise<Omit<SourceItemEvent, 'path'>> {
  const json = await client.get<Json>(`/users/${idSegment(user)}/messages/${idSegment(id)}`, { signal: options.signal });
  return restMessageItem(client, user, json, options);
}

function errorOf(e: unknown, sourceId: string, path: MapiFolder[]): SourceErrorEvent {
  return { kind: 'error', code: e instanceof GraphError ? e.code : 'Unexpected', sourceId, message: e instanceof Error ? e.message : String(e), path };
}

/** Whether a kind of item (its message class) can pass the itemTypes filter. */
function kindWanted(cls: string, itemTypes: readonly string[] | undefined): boolean {
  return typeAccepted(cls, itemTypes) || (itemTypes ?? []).some((t) => t.toLowerCase().startsWith(`${cls.toLowerCase()}.`));
}

/**
 * The REST producer: mail folders (tree), contact folders, the calendar, To Do lists, in that order;
 * pushes events into the queue. Listing failures are error events for the folder. With `ids`
 * (`onlyItemIds`; `options` already stripped of filters and `since` by the caller) only those ids are
 * read, a folder's events appear only when it holds one, and listing stops once all are found.
 */
export async function restItems(client: GraphClient, user: string, options: SourceOptions, queue: OrderedQueue<SourceEvent[]>, ids?: IdFilter): Promise<void> {
  const u = `/users/${idSegment(user)}`;
  const filter = folderFilter(options);
  const page = options.pageSize ?? 100;
  const listing = { signal: options.signal, maxPageSize: page };
  const skip = options.skipItemIds && options.skipItemIds.size > 0 ? options.skipItemIds : undefined;

  /** One folder: its event, its items (each a pushed promise), its end. */
  const folder = async (id: string, path: MapiFolder[], wellKnownName: string | null, totalItemCount: number | undefined, list: string, delta: boolean,
    convert: (json: Json) => Promise<Omit<SourceItemEvent, 'path'>>, cls: string): Promise<void> => {
    const names = path.map((p) => p.displayName);
    if (!filter.accepts(names) || queue.cancelled || ids?.complete()) return;
    if (ids && totalItemCount === 0) return;
    let opened = false;
    const open = async (): Promise<void> => {
      if (opened) return;
      opened = true;
      await queue.push(done([{ kind: 'folder', path, folder: { id, displayName: names[names.length - 1], wellKnownName, type: path[path.length - 1].containerClass ?? 'IPF.Note', totalItemCount } }]));
    };
    if (!ids) await open();
    let deltaLink: string | undefined;
    const removedIds: string[] = [];
    let listed = 0;
    let skipped = 0;
    let link = (delta && options.since?.[id]) || undefined;
    let fullResync = false;
    const seen = new Set<string>();
    for (;;) {
      try {
        for await (const p of pages<Json>(client, link ?? list, listing)) {
          if (queue.cancelled) return;
          for (const json of p.value) {
            const jid = String(json.id);
            if (json['@removed']) { removedIds.push(jid); continue; }
            if (ids ? !ids.take(jid) : !dateAccepted(json, options.dateRange)) continue;
            if (fullResync && seen.has(jid)) continue;
            if (link) seen.add(jid);
            if (skip?.has(jid)) { skipped++; continue; }
            listed++;
            await open();
            await queue.push(convert(json).then(
              (ev): SourceEvent[] => (typeAccepted(String(ev.item.properties.get(TAG.PidTagMessageClass.id) ?? cls), options.itemTypes) ? [{ ...ev, path }] : []),
              (e: unknown): SourceEvent[] => [errorOf(e, jid, path)]));
          }
          if (p.deltaLink) deltaLink = p.deltaLink;
          if (ids?.complete()) break;
        }
      } catch (e) {
        if (options.signal?.aborted) throw e;
        if (link && isDeltaExpired(e)) {
          await open();
          await queue.push(done([{ kind: 'notice', code: 'DeltaResync', folderId: id, path, graphCode: e.code, statusCode: e.statusCode, message: `the saved deltaLink of folder "${names.join('/')}" was refused (${e.statusCode} ${e.code}); listing the folder in full` }]));
          link = undefined;
          fullResync = true;
          continue;
        }
        await open();
        await queue.push(done([errorOf(e, id, path)]));
      }
      break;
    }
    if (opened) await queue.push(done([{ kind: 'folderEnd', path, folderId: id, deltaLink: ids ? undefined : deltaLink, removedIds: ids ? [] : removedIds, listed, ...(skipped > 0 ? { skipped } : {}), ...(fullResync ? { fullResync } : {}) }]));
  };
  const pim = (convert: (json: unknown) => { item: SourceItemEvent['item'] }) => async (json: Json): Promise<Omit<SourceItemEvent, 'path'>> => {
    const text = JSON.stringify(json);
    return { kind: 'item', item: convert(json).item, fidelity: 'rest', sourceId: String(json.id), changeKey: str(json.changeKey), sizeBytes: Buffer.byteLength(text), sourceSha256: sha256Hex(text) };
  };
  const tz = { timeZone: options.timeZone };

  if (kindWanted('IPM.Note', options.itemTypes)) {
    const walk = async (url: string, parent: MapiFolder[]): Promise<void> => {
      for await (const f of values<Json>(client, url, listing)) {
        const path = [...parent, { displayName: String(f.displayName), containerClass: 'IPF.Note' }];
        if (!filter.mayDescend(path.map((p) => p.displayName))) continue;
        const id = String(f.id);
        await folder(id, path, str(f.wellKnownName) ?? null, typeof f.totalItemCount === 'number' ? f.totalItemCount : undefined,
          `${u}/mailFolders/${idSegment(id)}/messages/delta`, true, (json) => restMessageItem(client, user, json, options), 'IPM.Note');
        if (f.childFolderCount !== 0) await walk(`${u}/mailFolders/${idSegment(id)}/childFolders`, path);
      }
    };
    await walk(`${u}/mailFolders`, []);
  }
  if (kindWanted('IPM.Contact', options.itemTypes)) {
    for await (const f of values<Json>(client, `${u}/contactFolders`, listing)) {
      const id = String(f.id);
      await folder(id, [{ displayName: String(f.displayName), containerClass: 'IPF.Contact' }], null, undefined,
        `${u}/contactFolders/${idSegment(id)}/contacts/delta`, true, pim((j) => convertContact(j, tz)), 'IPM.Contact');
    }
  }
  if (kindWanted('IPM.Appointment', options.itemTypes)) {
    // Series masters with cancelledOccurrences / exceptionOccurrences (beta); no delta without a time window.
    await folder('calendar', [{ displayName: 'Calendar', containerClass: 'IPF.Appointment' }], 'calendar', undefined,
      client.resolveUrl(`${u}/events`, 'beta'), false, pim((j) => convertEvent(j, tz)), 'IPM.Appointment');
  }
  if (kindWanted('IPM.Task', options.itemTypes)) {
    for await (const l of values<Json>(client, `${u}/todo/lists`, listing)) {
      const id = String(l.id);
      await folder(id, [{ displayName: String(l.displayName), containerClass: 'IPF.Task' }], l.wellknownListName === 'defaultList' ? 'tasks' : null, undefined,
        `${u}/todo/lists/${idSegment(id)}/tasks/delta`, true, pim((j) => convertTodoTask(j, tz)), 'IPM.Task');
    }
  }
}
