/**
 * The mailbox import/export API (`/admin/exchange/mailboxes/{id}`): folders, childFolders,
 * folders/delta, a folder's items and items/delta, one item, and `exportItems` (≤ 20 ids → base64
 * FastTransfer data of each item, from the FTS encoder). Requests for folders and items held by an
 * auto-expanding archive's auxiliary part answer 308 with `Location` under
 * `/admin/Exchange/Mailboxes/<auxiliary id>` (the casing Graph uses there).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { encodeExportItem } from '../convert/fts/encode';
import type { MapiItem } from '../mapi/item';
import { authorize, PERMISSIONS, stateOf, type SandboxContext } from './context';
import { contextUrl, sendDelta, sendPage } from './collections';
import { GraphErrors, SandboxGraphError } from './graph-errors';
import { etag } from './graph-json';
import { applySelect, queryOf } from './odata';
import { EXPORT_ENCODE_OPTIONS } from './seed';
import { walkTree, type SandboxFolder, type SandboxItem, type SandboxMailbox } from './tenant';

/**
 * The base64 exportItems data of items already exported, so that repeated reads (benchmarks, tests
 * reading a mailbox twice) measure the reader rather than the sandbox's encoder. Keyed by the
 * MapiItem object (replacing `item.item` drops the entry); bounded to EXPORT_CACHE_MAX_CHARS, the
 * oldest entries going first.
 */
const exportCache = new Map<MapiItem, string>();
let exportCacheChars = 0;
/** Default upper bound of the cache, in base64 characters (~64 MiB: the test tenants need ~6 MB). */
export const EXPORT_CACHE_MAX_CHARS = 64 * 1024 * 1024;
let exportCacheMaxChars = EXPORT_CACHE_MAX_CHARS;

/** Sets the cache's bound in base64 characters (a benchmark holding larger mailboxes raises it). */
export function setExportCacheLimit(maxChars: number): void {
  exportCacheMaxChars = Math.max(0, maxChars);
}

/** An item's exportItems data as base64 (the FTS encoder's output, cached). */
export function exportDataBase64(item: MapiItem): string {
  let data = exportCache.get(item);
  if (data !== undefined) return data;
  data = Buffer.from(encodeExportItem(item, EXPORT_ENCODE_OPTIONS)).toString('base64');
  exportCache.set(item, data);
  exportCacheChars += data.length;
  for (const [k, v] of exportCache) {
    if (exportCacheChars <= exportCacheMaxChars) break;
    exportCache.delete(k);
    exportCacheChars -= v.length;
  }
  return data;
}

/** Most ids one exportItems call takes (mailbox-exportitems.md). */
export const MAX_EXPORT_ITEM_IDS = 20;

/** Thrown by handlers to answer 308 with a Location (the error handler sends it). */
export class SandboxRedirect extends Error {
  constructor(readonly location: string) {
    super(`308 → ${location}`);
    this.name = 'SandboxRedirect';
  }
}

/** The URL of the same request addressed to another mailbox, with Graph's mixed-case path. */
function redirectTo(ctx: SandboxContext, req: FastifyRequest, target: SandboxMailbox): SandboxRedirect {
  const url = req.url.replace(/\/admin\/exchange\/mailboxes\/[^/?]+/i, `/admin/Exchange/Mailboxes/${target.id}`);
  return new SandboxRedirect(`${ctx.graphUrl}${url}`);
}

/** mailboxFolder JSON (beta has no wellKnownName). */
export function mailboxFolderJson(ctx: SandboxContext, f: SandboxFolder, version: string): Record<string, unknown> {
  const overflow = f.home !== f.mailbox;
  const out: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.mailboxFolder', id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId,
    parentMailboxUrl: `${ctx.graphUrl}/${version}/admin/${overflow ? 'Exchange/Mailboxes' : 'exchange/mailboxes'}/${f.home.id}`,
    childFolderCount: f.children.length, totalItemCount: f.items.length,
  };
  if (version === 'v1.0') out.wellKnownName = f.wellKnownName;
  out.type = f.type;
  return out;
}

/** mailboxItem JSON. */
export function mailboxItemJson(it: SandboxItem): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.mailboxItem', '@odata.etag': etag(it.changeKey), id: it.id,
    createdDateTime: it.createdDateTime, lastModifiedDateTime: it.lastModifiedDateTime, changeKey: it.changeKey,
    categories: it.categories, type: it.messageClass, size: it.size,
  };
}

/** Registers the mailbox API routes (inside a version prefix). */
export function registerMailboxRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  const base = '/admin/exchange/mailboxes/:mbx';

  const mailboxOf = (req: FastifyRequest, perm: (typeof PERMISSIONS)[keyof typeof PERMISSIONS]): SandboxMailbox => {
    const id = (req.params as { mbx: string }).mbx;
    const mb = ctx.tenant.mailbox(id);
    if (!mb) {
      authorize(req, perm);
      throw new SandboxGraphError(404, 'ErrorInvalidMailboxId', `The mailbox id '${id}' is not valid or the mailbox does not exist.`);
    }
    authorize(req, perm, mb.owner);
    return mb;
  };
  /** The mailbox's top-level folders (an auxiliary's: its overflow folders). */
  const topFolders = (mb: SandboxMailbox): SandboxFolder[] => mb.folders;
  /** A folder the mailbox lists; 308 when the mailbox is an archive and the folder lives in its auxiliary part. */
  const folderOf = (req: FastifyRequest, mb: SandboxMailbox, redirectItems: boolean): SandboxFolder => {
    const fid = (req.params as { fid: string }).fid;
    const f = ctx.tenant.folder(fid);
    const listed = f && (mb.kind === 'auxiliary' ? f.home === mb : f.mailbox === mb);
    if (!f || !listed) throw GraphErrors.notFound(`folder ${fid}`);
    if (redirectItems && f.home !== mb) throw redirectTo(ctx, req, f.home);
    return f;
  };
  const version = (req: FastifyRequest): string => stateOf(req).version;

  app.get(`${base}/folders`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxFolders);
    let list = topFolders(mb);
    const filter = /^type eq '([^']+)'$/.exec(queryOf(req).$filter ?? '');
    if (filter) list = walkTree(list).filter((f) => f.type === filter[1]);
    return sendPage(ctx, req, reply, `folders:${mb.id}`, list.map((f) => mailboxFolderJson(ctx, f, version(req))), `admin/exchange/mailboxes/${mb.id}/folders`);
  });
  app.get(`${base}/folders/delta`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxFolders);
    const entries = walkTree(topFolders(mb)).map((f) => ({ id: f.id, modSeq: f.createdSeq, json: () => mailboxFolderJson(ctx, f, version(req)) }));
    return sendDelta(ctx, req, reply, `folderdelta:${mb.id}`, entries, [], 'Collection(mailboxFolder)');
  });
  app.get(`${base}/folders/:fid`, async (req) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxFolders);
    const f = folderOf(req, mb, true);
    return { '@odata.context': contextUrl(ctx, req, `admin/exchange/mailboxes/${mb.id}/folders$entity`), ...mailboxFolderJson(ctx, f, version(req)) };
  });
  app.get(`${base}/folders/:fid/childFolders`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxFolders);
    const f = folderOf(req, mb, true);
    return sendPage(ctx, req, reply, `children:${f.id}`, f.children.map((c) => mailboxFolderJson(ctx, c, version(req))), `admin/exchange/mailboxes/${mb.id}/folders('${f.id}')/childFolders`);
  });
  app.get(`${base}/folders/:fid/items`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxItems);
    const f = folderOf(req, mb, true);
    return sendPage(ctx, req, reply, `items:${f.id}`, f.items.map(mailboxItemJson), `admin/exchange/mailboxes/${mb.id}/folders('${f.id}')/items`, { skipParam: '$skip' });
  });
  app.get(`${base}/folders/:fid/items/delta`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxItems);
    const f = folderOf(req, mb, true);
    const entries = f.items.map((it) => ({ id: it.id, modSeq: it.modSeq, json: () => mailboxItemJson(it) }));
    return sendDelta(ctx, req, reply, `itemdelta:${f.id}`, entries, f.removed, 'Collection(mailboxItem)');
  });
  app.get(`${base}/folders/:fid/items/:iid`, async (req) => {
    const mb = mailboxOf(req, PERMISSIONS.mailboxItems);
    const f = folderOf(req, mb, true);
    const it = f.items.find((x) => x.id === (req.params as { iid: string }).iid);
    if (!it) throw GraphErrors.notFound('item');
    return { '@odata.context': contextUrl(ctx, req, `admin/exchange/mailboxes/${mb.id}/folders('${f.id}')/items/$entity`), ...applySelect(mailboxItemJson(it), queryOf(req).$select) };
  });

  app.post(`${base}/exportItems`, async (req, reply) => {
    const mb = mailboxOf(req, PERMISSIONS.exportItems);
    const ids = (req.body as { itemIds?: unknown } | undefined)?.itemIds;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) {
      throw GraphErrors.badRequest("The request body must contain 'itemIds', an array of 1 to 20 item ids.", 'invalidRequest');
    }
    if (ids.length > MAX_EXPORT_ITEM_IDS) throw GraphErrors.badRequest(`The number of item ids (${ids.length}) exceeds the limit of ${MAX_EXPORT_ITEM_IDS}.`, 'invalidRequest');
    const found = (ids as string[]).map((id) => {
      const it = ctx.tenant.item(id);
      const listed = it && (mb.kind === 'auxiliary' ? it.folder.home === mb : it.folder.mailbox === mb);
      return { id, it: listed ? it : undefined };
    });
    const present = found.filter((f) => f.it);
    // An archive asked only for items of its auxiliary part redirects there, body and all (308 keeps POST).
    if (present.length > 0 && mb.auxiliary && present.every((f) => f.it!.folder.home === mb.auxiliary)) throw redirectTo(ctx, req, mb.auxiliary);
    const value = found.map(({ id, it }) => {
      if (!it) return { itemId: id, error: { '@odata.type': '#microsoft.graph.mailTipsError', code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' } };
      if (it.folder.home !== mb) return { itemId: id, error: { '@odata.type': '#microsoft.graph.mailTipsError', code: 'ErrorItemNotFound', message: 'The item is held by the auxiliary archive mailbox; export it there.' } };
      let data = exportDataBase64(it.item);
      if (ctx.faults.malformItem()) {
        const bytes = Buffer.from(data, 'base64');
        data = bytes.subarray(0, Math.max(16, Math.floor(bytes.length / 2))).toString('base64');
      }
      return { itemId: id, changeKey: it.changeKey, data };
    });
    // The JSON written out by hand around `data` — always Buffer.toString('base64') output above,
    // which needs no escaping — so the answer's ~20 × 16 KB of data is not scanned again by
    // JSON.stringify on every call (~0.45 ms of the sandbox's CPU a call): the same bytes
    // JSON.stringify gives (key order itemId, changeKey, data).
    const rows = value.map((v) => ('data' in v
      ? `{"itemId":${JSON.stringify(v.itemId)},"changeKey":${JSON.stringify(v.changeKey)},"data":"${v.data}"}`
      : JSON.stringify(v)));
    reply.type('application/json; charset=utf-8');
    return `{"@odata.context":${JSON.stringify(contextUrl(ctx, req, 'Collection(microsoft.graph.exportItemResponse)'))},"value":[${rows.join(',')}]}`;
  });
}
