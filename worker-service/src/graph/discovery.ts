/**
 * Discovery: paged lists as async generators (consumed with `for await`), users and their mailbox
 * ids, the folder tree of a mailbox, and item lists through delta. Every call goes through the
 * GraphClient (gate, retries, redirects). Shapes follow the Graph reference pages named on each
 * function; only the fields Outport reads are typed, the rest is kept as `unknown` members.
 */
import type { GraphCallOptions, GraphClient, GraphVersion } from './client';
import { GraphClientCodes, GraphError, safePath } from './errors';

/** One page of an OData collection (learn.microsoft.com/graph/paging, delta-query-overview). */
export interface ODataPage<T> {
  value: T[];
  /** `@odata.count`, when asked for with `$count=true` (usually on the first page only). */
  count?: number;
  /** `@odata.nextLink`: absolute URL of the next page; absent on the last page. */
  nextLink?: string;
  /** `@odata.deltaLink`: on the last page of a delta round; keep it for the next round. */
  deltaLink?: string;
}

/** Options of paged calls. */
export interface PageOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
  version?: GraphVersion;
  /** `Prefer: odata.maxpagesize=N` (Graph may answer with fewer). */
  maxPageSize?: number;
}

/**
 * The pages of a collection: GET `first`, then each `@odata.nextLink` as given (never rebuilt:
 * skip tokens are opaque). Headers (e.g. ConsistencyLevel) are sent on every page.
 * @throws GraphError from any page; InvalidResponse when a page has no `value` array or a
 *         nextLink repeats (a server loop)
 */
export async function* pages<T>(client: GraphClient, first: string, options: PageOptions = {}): AsyncGenerator<ODataPage<T>, void, undefined> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.maxPageSize) headers.Prefer = `odata.maxpagesize=${options.maxPageSize}`;
  const call: GraphCallOptions = { headers, signal: options.signal, version: options.version };
  const seen = new Set<string>();
  let url: string | undefined = first;
  while (url !== undefined) {
    const res = await client.request(url, call);
    const body = res.json<Record<string, unknown>>();
    if (!body || !Array.isArray(body.value)) {
      throw new GraphError({ code: GraphClientCodes.InvalidResponse, statusCode: res.status, method: 'GET', path: safePath(res.url), graphMessage: 'collection page without a value array', attempts: res.attempts });
    }
    const page: ODataPage<T> = { value: body.value as T[] };
    if (typeof body['@odata.count'] === 'number') page.count = body['@odata.count'];
    if (typeof body['@odata.nextLink'] === 'string') page.nextLink = body['@odata.nextLink'];
    if (typeof body['@odata.deltaLink'] === 'string') page.deltaLink = body['@odata.deltaLink'];
    yield page;
    url = page.nextLink;
    if (url !== undefined) {
      if (seen.has(url)) throw new GraphError({ code: GraphClientCodes.InvalidResponse, statusCode: res.status, method: 'GET', path: safePath(url), graphMessage: 'nextLink repeats', attempts: res.attempts });
      seen.add(url);
    }
  }
}

/** The items of every page of a collection. @throws as pages */
export async function* values<T>(client: GraphClient, first: string, options: PageOptions = {}): AsyncGenerator<T, void, undefined> {
  for await (const page of pages<T>(client, first, options)) yield* page.value;
}

/** A path segment for an id: percent-encoded (so `/`, `+`, `?`, `#` in base64 ids stay inside the
 *  segment), but `:`, `@` and `=` kept as Graph's docs write them (`/admin/exchange/mailboxes/MBX:e0643f21@a7809c93`,
 *  `/users/megan@contoso.com`, `/folders/NJWt2LeVEAAAIBDAAAAA==`); all three are legal in a path segment (RFC 3986 pchar). */
export function idSegment(id: string): string {
  return encodeURIComponent(id).replace(/%3A/gi, ':').replace(/%40/g, '@').replace(/%3D/gi, '=');
}

/** A user as listed (user resource; only the fields Outport reads). */
export interface GraphUser {
  id?: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string;
  [member: string]: unknown;
}

/** Options of listUsers. */
export interface ListUsersOptions extends Omit<PageOptions, 'headers'> {
  /** `$search` on displayName (e.g. "ali"); sent as `"displayName:ali"` with `ConsistencyLevel: eventual`. */
  search?: string;
  /** `$select` fields; default id, displayName, mail, userPrincipalName. */
  select?: readonly string[];
  /** `$top` per page (1..999). */
  top?: number;
}

/**
 * Users of the tenant (GET /users, api-reference/v1.0/api/user-list.md). With `search`, uses
 * `$search="displayName:…"` and `$count=true`, which need the `ConsistencyLevel: eventual` header
 * (advanced queries). Yields pages so callers see `count`.
 */
export function listUserPages(client: GraphClient, options: ListUsersOptions = {}): AsyncGenerator<ODataPage<GraphUser>, void, undefined> {
  const q: string[] = [`$select=${(options.select ?? ['id', 'displayName', 'mail', 'userPrincipalName']).join(',')}`];
  const headers: Record<string, string> = {};
  if (options.search !== undefined) {
    // Inside the quoted term, " and \ are escaped with \ (advanced queries: $search).
    const term = `"displayName:${options.search.replace(/["\\]/g, (c) => `\\${c}`)}"`;
    q.push(`$search=${encodeURIComponent(term)}`, '$count=true');
    headers.ConsistencyLevel = 'eventual';
  }
  if (options.top) q.push(`$top=${options.top}`);
  return pages<GraphUser>(client, `/users?${q.join('&')}`, { ...options, headers });
}

/** The users of listUserPages, one by one. */
export async function* listUsers(client: GraphClient, options: ListUsersOptions = {}): AsyncGenerator<GraphUser, void, undefined> {
  for await (const page of listUserPages(client, options)) yield* page.value;
}

/** A user's mailbox ids for the mailbox API (`MBX:<guid>@<tenantId>`). */
export interface MailboxIds {
  primaryMailboxId: string;
  /** Present when the user has an in-place archive (and it was asked for). */
  inPlaceArchiveMailboxId?: string;
}

/**
 * The mailbox ids of a user: `GET /users/{id}/settings/exchange` (v1.0: primaryMailboxId;
 * api-reference/v1.0/api/usersettings-list-exchange.md), and, for the archive, the same on beta,
 * the only version with `inPlaceArchiveMailboxId` (api-reference/beta/api/usersettings-list-exchange.md).
 * @param user  object id or UPN
 * @throws GraphError (404 MailboxNotEnabledForRESTAPI for inactive or on-premises mailboxes);
 *         InvalidResponse when v1.0 gives no primaryMailboxId
 */
export async function getMailboxIds(client: GraphClient, user: string, options: { includeArchive?: boolean; signal?: AbortSignal } = {}): Promise<MailboxIds> {
  const path = `/users/${idSegment(user)}/settings/exchange`;
  const v1 = await client.get<{ primaryMailboxId?: string }>(path, { signal: options.signal, version: 'v1.0' });
  if (typeof v1?.primaryMailboxId !== 'string' || v1.primaryMailboxId === '') {
    throw new GraphError({ code: GraphClientCodes.InvalidResponse, statusCode: 200, method: 'GET', path: safePath(client.resolveUrl(path, 'v1.0')), graphMessage: 'exchangeSettings without primaryMailboxId' });
  }
  const ids: MailboxIds = { primaryMailboxId: v1.primaryMailboxId };
  if (options.includeArchive === false) return ids;
  const beta = await client.get<{ inPlaceArchiveMailboxId?: string | null }>(path, { signal: options.signal, version: 'beta' });
  if (typeof beta?.inPlaceArchiveMailboxId === 'string' && beta.inPlaceArchiveMailboxId !== '') ids.inPlaceArchiveMailboxId = beta.inPlaceArchiveMailboxId;
  return ids;
}

/** mailboxFolder (api-reference/v1.0/resources/mailboxfolder.md). */
export interface MailboxFolder {
  id: string;
  displayName: string;
  parentFolderId?: string;
  /** Absent in `$select`ed answers. */
  childFolderCount?: number;
  totalItemCount?: number;
  /** Container class, e.g. `IPF.Note`, `IPF.Appointment`. */
  type?: string;
  /** e.g. `inbox`, `archive`; null for user folders; absent on beta. */
  wellKnownName?: string | null;
  parentMailboxUrl?: string;
  [member: string]: unknown;
}

/** A folder in the walk, with where it sits. */
export interface FolderInTree extends MailboxFolder {
  /** Display names from the top-level folder down to this one. */
  path: string[];
  /** 0 for a top-level folder. */
  depth: number;
}

/** Deepest folder nesting walked; Exchange allows 300 levels, the cap guards against cycles. */
export const MAX_FOLDER_DEPTH = 300;

/**
 * The folder tree of a mailbox, parents before children (depth first, in Graph's order):
 * `GET /admin/exchange/mailboxes/{id}/folders` (mailbox-list-folders.md), then
 * `…/folders/{id}/childFolders` (mailboxfolder-list-childfolders.md) for each folder whose
 * childFolderCount is not 0 (or unknown). Search folders are included, as Graph lists them.
 * @throws GraphError; InvalidResponse past MAX_FOLDER_DEPTH or when a folder id repeats (a cycle)
 */
export async function* walkFolders(client: GraphClient, mailboxId: string, options: PageOptions = {}): AsyncGenerator<FolderInTree, void, undefined> {
  const root = `/admin/exchange/mailboxes/${idSegment(mailboxId)}/folders`;
  const seen = new Set<string>();
  async function* walk(url: string, parentPath: string[]): AsyncGenerator<FolderInTree, void, undefined> {
    for await (const folder of values<MailboxFolder>(client, url, options)) {
      if (seen.has(folder.id) || parentPath.length >= MAX_FOLDER_DEPTH) {
        throw new GraphError({ code: GraphClientCodes.InvalidResponse, statusCode: 200, method: 'GET', path: safePath(client.resolveUrl(url)), graphMessage: seen.has(folder.id) ? 'folder id repeats' : 'folder tree too deep' });
      }
      seen.add(folder.id);
      const path = [...parentPath, folder.displayName];
      yield { ...folder, path, depth: parentPath.length };
      if (folder.childFolderCount !== 0) yield* walk(`${root}/${idSegment(folder.id)}/childFolders`, path);
    }
  }
  yield* walk(root, []);
}

/** mailboxItem (api-reference/v1.0/resources/mailboxitem.md): metadata only; content comes from exportItems. */
export interface MailboxItem {
  id: string;
  /** Message class, e.g. `IPM.Note`. */
  type?: string;
  /** Bytes, as Exchange counts them (the exportItems batch budget uses it). */
  size?: number;
  createdDateTime?: string;
  lastModifiedDateTime?: string;
  changeKey?: string;
  categories?: string[];
  /** Present on delta rounds after the first for items deleted since (delta-query-overview). */
  '@removed'?: { reason: string };
  [member: string]: unknown;
}

/** Options of itemDeltaPages. */
export interface ItemDeltaOptions extends PageOptions {
  /** The deltaLink saved from the previous round: only changes since then are listed. */
  deltaLink?: string;
}

/**
 * One delta round of a folder's items: `GET /admin/exchange/mailboxes/{id}/folders/{id}/items/delta`
 * (mailboxitem-delta.md), or the saved deltaLink; follows nextLinks; the last page carries the new
 * deltaLink, which the caller stores for the next incremental pass.
 * @throws GraphError (a 410 Gone on an expired deltaLink means: start a full round)
 */
export function itemDeltaPages(client: GraphClient, mailboxId: string, folderId: string, options: ItemDeltaOptions = {}): AsyncGenerator<ODataPage<MailboxItem>, void, undefined> {
  const first = options.deltaLink ?? `/admin/exchange/mailboxes/${idSegment(mailboxId)}/folders/${idSegment(folderId)}/items/delta`;
  return pages<MailboxItem>(client, first, options);
}
