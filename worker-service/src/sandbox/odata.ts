/**
 * OData paging as Graph does it: `Prefer: odata.maxpagesize=N` (echoed in `Preference-Applied`),
 * `$top`, opaque `$skiptoken` / `$deltatoken` in absolute `@odata.nextLink` / `@odata.deltaLink`
 * URLs, and `$select`. Tokens are base64url JSON: opaque to clients, readable by the sandbox.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GraphErrors } from './graph-errors';

/** Page-size knobs. */
export interface PagingOptions {
  /** Page size without `Prefer: odata.maxpagesize` or `$top` (Graph: 10 for the mailbox API). */
  defaultPageSize: number;
  /** Largest page the server gives, whatever the client asks. */
  maxPageSize: number;
}

/** What a skip or delta token carries. */
export interface PageToken {
  /** Offset into the (stable) listing. */
  offset: number;
  /** For delta rounds: the change sequence the round started from (0 = a full round). */
  since?: number;
  /** For delta rounds: the change sequence the round lists up to (the next deltaLink's `since`). */
  upTo?: number;
  /** Page size chosen on the first page (kept along the round). */
  size?: number;
  /** What the token belongs to (a token from another listing is refused). */
  scope: string;
}

/** Encodes a token. */
export function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

/** Decodes a token. @throws SandboxGraphError 400 when it is not ours or belongs to another listing */
export function decodeToken(text: string, scope: string): PageToken {
  let t: PageToken;
  try { t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as PageToken; } catch { throw GraphErrors.badRequest('Invalid skip or delta token.', 'ErrorInvalidUrlQuery'); }
  if (!t || typeof t.offset !== 'number' || t.scope !== scope) throw GraphErrors.badRequest('The skip or delta token does not belong to this request.', 'ErrorInvalidUrlQuery');
  return t;
}

/** The query parameters of a request (fastify parses them; `$` names kept). */
export function queryOf(req: FastifyRequest): Record<string, string> {
  const q = req.query as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The page size for a request: `$top`, else `Prefer: odata.maxpagesize`, else the default; capped. Sets Preference-Applied. */
export function pageSizeOf(req: FastifyRequest, reply: FastifyReply, paging: PagingOptions): number {
  const q = queryOf(req);
  if (q.$top !== undefined) {
    const top = Number(q.$top);
    if (!Number.isInteger(top) || top < 1) throw GraphErrors.badRequest(`Invalid value '${q.$top}' for $top.`, 'ErrorInvalidUrlQuery');
    return Math.min(top, paging.maxPageSize);
  }
  const prefer = String(req.headers.prefer ?? '');
  const m = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer);
  if (m) {
    const n = Math.max(1, Math.min(Number(m[1]), paging.maxPageSize));
    reply.header('Preference-Applied', `odata.maxpagesize=${n}`);
    return n;
  }
  return Math.min(paging.defaultPageSize, paging.maxPageSize);
}

/** Keeps the `$select`ed members (and `@odata.*` and `id`) of an entity; all members without `$select`. */
export function applySelect<T extends Record<string, unknown>>(entity: T, select: string | undefined): Record<string, unknown> {
  if (!select) return entity;
  const keep = new Set(select.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entity)) if (k.startsWith('@odata.') || k === 'id' || keep.has(k.toLowerCase())) out[k] = v;
  return out;
}

/** The absolute URL of the current request's path with a new query. */
export function linkTo(baseUrl: string, req: FastifyRequest, query: Record<string, string>): string {
  const path = req.url.split('?')[0];
  const qs = Object.entries(query).map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`).join('&');
  return `${baseUrl}${path}${qs ? '?' + qs : ''}`;
}
