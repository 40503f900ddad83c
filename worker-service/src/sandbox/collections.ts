/**
 * Sending OData collections: a page of a stable list with `@odata.nextLink` (skip token), and delta
 * rounds (`@odata.deltaLink`, `@removed` entries for deletions since the token's sequence number;
 * 410 SyncStateNotFound for a token older than `tenant.expireDeltaTokens()`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxContext } from './context';
import { stateOf } from './context';
import { SandboxGraphError } from './graph-errors';
import { applySelect, decodeToken, encodeToken, linkTo, pageSizeOf, queryOf } from './odata';

/** `@odata.context` for a path (`$metadata#…`). */
export function contextUrl(ctx: SandboxContext, req: FastifyRequest, fragment: string): string {
  return `${ctx.graphUrl}/${stateOf(req).version}/$metadata#${fragment}`;
}

/**
 * One page of `all` (in order): `$skiptoken` (or `$skip`) gives the offset; the next page's link keeps
 * the other query parameters. `count` adds `@odata.count` when `$count=true`.
 */
export function sendPage(ctx: SandboxContext, req: FastifyRequest, reply: FastifyReply, scope: string, all: readonly Record<string, unknown>[], contextFragment: string, options: { skipParam?: '$skip' | '$skiptoken' } = {}): unknown {
  const q = queryOf(req);
  const size = pageSizeOf(req, reply, ctx.paging);
  let offset = 0;
  if (q.$skiptoken) offset = decodeToken(q.$skiptoken, scope).offset;
  else if (q.$skip) offset = Math.max(0, Number(q.$skip) || 0);
  const value = all.slice(offset, offset + size).map((e) => applySelect(e, q.$select));
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, req, contextFragment) };
  if (q.$count === 'true') body['@odata.count'] = all.length;
  body.value = value;
  if (offset + size < all.length) {
    const next = { ...q };
    delete next.$skip;
    delete next.$skiptoken;
    delete next.$top;
    if (options.skipParam === '$skip') next.$skip = String(offset + size);
    else next.$skiptoken = encodeToken({ offset: offset + size, scope, size });
    if (q.$top) next.$top = q.$top;
    body['@odata.nextLink'] = linkTo(ctx.graphUrl, req, next);
  }
  return reply.header('content-type', 'application/json; odata.metadata=minimal; charset=utf-8').send(body);
}

/** An entity with its change sequence number (for delta). */
export interface DeltaEntry {
  readonly id: string;
  readonly modSeq: number;
  json(): Record<string, unknown>;
}

/**
 * One page of a delta round. First round (no token): every entry. With `$deltatoken`: entries changed
 * after its sequence number, then `@removed` entries. The last page carries `@odata.deltaLink`.
 */
export function sendDelta(ctx: SandboxContext, req: FastifyRequest, reply: FastifyReply, scope: string, entries: readonly DeltaEntry[], removed: readonly { id: string; seq: number }[], contextFragment: string): unknown {
  const q = queryOf(req);
  let since = 0;
  let upTo = ctx.tenant.seq;
  let offset = 0;
  let size: number;
  if (q.$skiptoken) {
    const t = decodeToken(q.$skiptoken, scope);
    since = t.since ?? 0;
    upTo = t.upTo ?? upTo;
    offset = t.offset;
    size = t.size ?? pageSizeOf(req, reply, ctx.paging);
  } else {
    if (q.$deltatoken) {
      since = decodeToken(q.$deltatoken, scope).since ?? 0;
      if (since < ctx.tenant.deltaValidFromSeq) {
        throw new SandboxGraphError(410, 'SyncStateNotFound', 'The sync state for this delta token was not found (it expired). Resync required: start a full delta round without the token.');
      }
    }
    size = pageSizeOf(req, reply, ctx.paging);
  }
  const changed: (() => Record<string, unknown>)[] = [
    ...entries.filter((e) => e.modSeq > since && e.modSeq <= upTo).map((e) => () => applySelect(e.json(), q.$select)),
    ...(since > 0 ? removed.filter((r) => r.seq > since && r.seq <= upTo).map((r) => () => ({ id: r.id, '@removed': { reason: 'deleted' } })) : []),
  ];
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, req, contextFragment) };
  const keep: Record<string, string> = {};
  if (q.$select) keep.$select = q.$select;
  if (offset + size < changed.length) {
    body['@odata.nextLink'] = linkTo(ctx.graphUrl, req, { ...keep, $skiptoken: encodeToken({ offset: offset + size, since, upTo, size, scope }) });
  } else {
    body['@odata.deltaLink'] = linkTo(ctx.graphUrl, req, { ...keep, $deltatoken: encodeToken({ offset: 0, since: upTo, scope }) });
  }
  body.value = changed.slice(offset, offset + size).map((f) => f());
  return reply.header('content-type', 'application/json; odata.metadata=minimal; charset=utf-8').send(body);
}
