/**
 * JSON batching (`POST /$batch`, concepts/json-batching.md): at most 20 requests, each sent over
 * loopback HTTP through the whole server (auth, per-mailbox throttling, faults), so inner answers can be 429
 * with Retry-After like Graph's. `dependsOn` orders requests; one whose dependency failed answers
 * 424. Answers come back in request order.
 */
import type { BatchRequestItem } from '../graph/mailbox-key';
import type { FastifyInstance } from 'fastify';
import { stateOf, type SandboxContext } from './context';
import { GraphErrors } from './graph-errors';

/** Most requests in one batch. */
export const MAX_BATCH_REQUESTS = 20;

type BatchRequest = BatchRequestItem;

/** Registers `$batch` (inside a version prefix); inner requests go to the server's own URL. */
export function registerBatchRoute(app: FastifyInstance, ctx: SandboxContext): void {
  app.post('/$batch', async (req) => {
    const requests = (req.body as { requests?: BatchRequest[] } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw GraphErrors.badRequest('Invalid batch payload format.', 'BadRequest');
    if (requests.length > MAX_BATCH_REQUESTS) throw GraphErrors.badRequest(`The number of batch requests (${requests.length}) exceeds the limit of ${MAX_BATCH_REQUESTS}.`, 'BadRequest');
    const ids = new Set<string>();
    for (const r of requests) {
      if (typeof r?.id !== 'string' || typeof r.url !== 'string' || typeof r.method !== 'string') throw GraphErrors.badRequest('Each batch request needs id, method and url.', 'BadRequest');
      if (ids.has(r.id)) throw GraphErrors.badRequest(`Batch request id '${r.id}' is not unique.`, 'BadRequest');
      ids.add(r.id);
    }
    const version = stateOf(req).version;
    const done = new Map<string, { id: string; status: number; headers: Record<string, string>; body?: unknown }>();
    const run = async (r: BatchRequest) => {
      const failedDep = (r.dependsOn ?? []).find((d) => (done.get(d)?.status ?? 424) >= 400);
      if (failedDep !== undefined) {
        done.set(r.id, { id: r.id, status: 424, headers: { 'Content-Type': 'application/json' }, body: { error: { code: 'FailedDependency', message: `Dependency '${failedDep}' failed.` } } });
        return;
      }
      const headers: Record<string, string> = { ...(r.headers ?? {}), 'x-sandbox-inner': ctx.innerSecret };
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      let payload: string | undefined;
      if (r.body !== undefined) {
        payload = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${ctx.graphUrl}/${version}/${r.url.replace(/^\/+/, '')}`, { method: r.method.toUpperCase(), headers, body: payload, redirect: 'manual' })
        .catch(() => undefined);
      if (!res) {
        done.set(r.id, { id: r.id, status: 504, headers: { 'Content-Type': 'application/json' }, body: { error: { code: 'GatewayTimeout', message: 'The inner request got no answer.' } } });
        return;
      }
      const outHeaders: Record<string, string> = {};
      for (const [h, name] of [['content-type', 'Content-Type'], ['retry-after', 'Retry-After'], ['location', 'Location']] as const) {
        const v = res.headers.get(h);
        if (v !== null) outHeaders[name] = v;
      }
      const ct = res.headers.get('content-type') ?? '';
      const bytes = Buffer.from(await res.arrayBuffer());
      const body = bytes.length === 0 ? undefined : ct.includes('json') ? JSON.parse(bytes.toString('utf8')) : bytes.toString('base64');
      done.set(r.id, { id: r.id, status: res.status, headers: outHeaders, body });
    };
    // Waves: every request whose dependencies are answered runs, in parallel with the others of its wave.
    const pending = [...requests];
    while (pending.length) {
      const ready = pending.filter((r) => (r.dependsOn ?? []).every((d) => done.has(d) || !ids.has(d)));
      if (ready.length === 0) throw GraphErrors.badRequest('The dependsOn graph of the batch has a cycle.', 'BadRequest');
      await Promise.all(ready.map(run));
      for (const r of ready) pending.splice(pending.indexOf(r), 1);
    }
    return { responses: requests.map((r) => done.get(r.id)) };
  });
}
