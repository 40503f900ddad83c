/**
 * Which mailbox a Graph request touches, for the per-mailbox gate. Outlook throttling counts per
 * app and mailbox (learn.microsoft.com/graph/throttling-limits, "Outlook service limits"), and a
 * primary mailbox and its in-place archive count separately.
 */

/** `/users/{id}/…` or `/users('{id}')/…` (Graph accepts both key forms). */
const USERS_PATH = /\/users(?:\/([^/?#]+)|\('([^']+)'\))\//i;
/** `/admin/exchange/mailboxes/{id}/…`, any casing (auxiliary archives answer 308 to `/admin/Exchange/Mailboxes/…`). */
const MAILBOXES_PATH = /\/admin\/exchange\/mailboxes(?:\/([^/?#]+)|\('([^']+)'\))(?:[/?#]|$)/i;

/**
 * The gate key of a request URL (absolute or a path), or undefined when it addresses no mailbox
 * (e.g. `/users?$search=…`, `/$batch`, `/me/…`: the signed-in user's mailbox is unknown by id here).
 * Keys are `user:<id>` and `mailbox:<id>`, percent-decoded and lower-cased: Graph ids and UPNs
 * compare case-insensitively. `/users/{upn}/messages` and `/admin/exchange/mailboxes/MBX:…` get
 * different keys although they may be the same mailbox; Graph throttles the mailbox once for both,
 * so the source joins them with `MailboxGate.alias(user key, primary mailbox key)` once it knows
 * the owner's primary mailbox id (source.ts `shareOwnerGate`).
 */
export function mailboxKeyOf(urlOrPath: string): string | undefined {
  const path = pathOf(urlOrPath);
  const mbx = MAILBOXES_PATH.exec(path);
  if (mbx) return `mailbox:${decode(mbx[1] ?? mbx[2]).toLowerCase()}`;
  const usr = USERS_PATH.exec(path);
  if (usr) return `user:${decode(usr[1] ?? usr[2]).toLowerCase()}`;
  return undefined;
}

/** One inner request of a JSON batch (learn.microsoft.com/graph/json-batching). */
export interface BatchRequestItem {
  id: string;
  method: string;
  /** Relative to the version root, with or without a leading slash. */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/**
 * The gate costs of a `$batch` body: for each mailbox its inner requests touch, how many requests
 * (each inner request counts against the 10,000/10 min budget; Graph throttles them individually).
 * Returns an empty map when the body is not a JSON batch.
 */
export function batchMailboxCosts(body: unknown): Map<string, number> {
  const costs = new Map<string, number>();
  const requests = parseBatchRequests(body);
  for (const r of requests ?? []) {
    const key = mailboxKeyOf('/' + String(r.url ?? '').replace(/^\/+/, ''));
    if (key) costs.set(key, (costs.get(key) ?? 0) + 1);
  }
  return costs;
}

/** The `requests` of a batch body given as a JSON string or object; undefined when not a batch. */
export function parseBatchRequests(body: unknown): BatchRequestItem[] | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') { try { parsed = JSON.parse(body); } catch { return undefined; } }
  else if (body instanceof Uint8Array) { try { parsed = JSON.parse(Buffer.from(body).toString('utf8')); } catch { return undefined; } }
  const requests = (parsed as { requests?: unknown } | null)?.requests;
  return Array.isArray(requests) ? (requests as BatchRequestItem[]) : undefined;
}

/** True when the URL is a JSON batch endpoint (`…/$batch`). */
export function isBatchUrl(urlOrPath: string): boolean {
  return /\/\$batch$/i.test(pathOf(urlOrPath));
}

function pathOf(urlOrPath: string): string {
  let p = urlOrPath;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(p);
  if (scheme) p = p.slice(scheme[0].length);
  const q = p.search(/[?#]/);
  return q < 0 ? p : p.slice(0, q);
}

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
