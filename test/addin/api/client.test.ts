/**
 * The worker API client against a tiny fake fetch: paths, methods, bodies and headers as
 * docs/api.md gives them; errors mapped to ApiError with `field` and `rows`; one retry with a fresh
 * token on 401; network failures as NetworkError; the progress stream parsed from SSE chunks
 * split at arbitrary places; WaitingForAuth re-authorization with a forced-fresh token.
 */
import { ApiClient } from '../../../addin/src/api/client';
import { ApiError, NetworkError, describeError } from '../../../addin/src/api/errors';
import type { ItemProgress } from '../../../addin/src/api/types';

interface Call { url: string; method: string; headers: Record<string, string>; body?: string }

function fakeFetch(answer: (c: Call) => Response | Promise<Response>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const f = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const c: Call = { url: String(input), method: init.method ?? 'GET', headers: (init.headers ?? {}) as Record<string, string>, body: init.body as string | undefined };
    calls.push(c);
    return answer(c);
  };
  return { fetch: f as typeof fetch, calls };
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function client(answer: (c: Call) => Response | Promise<Response>, tokens = ['t1', 't2', 't3']) {
  const f = fakeFetch(answer);
  const asked: boolean[] = [];
  const api = new ApiClient({ baseUrl: 'https://worker.example/', fetch: f.fetch, getToken: async (o) => { asked.push(!!o?.forceRefresh); return tokens[asked.length - 1]!; } });
  return { api, calls: f.calls, asked };
}

describe('ApiClient', () => {
  it('GET /config is anonymous; GET /me carries the bearer token', async () => {
    const { api, calls } = client((c) => json(200, c.url.endsWith('/config') ? { sandbox: true } : { isAdmin: false }));
    expect(await api.config()).toEqual({ sandbox: true });
    expect(calls[0].url).toBe('https://worker.example/api/v1/config');
    expect(calls[0].headers.authorization).toBeUndefined();
    await api.me();
    expect(calls[1].headers.authorization).toBe('Bearer t1');
  });

  it('sends the documented methods, paths and bodies', async () => {
    const { api, calls } = client((c) => (c.method === 'DELETE' ? new Response(null, { status: 204 }) : json(c.method === 'POST' ? 201 : 200, { value: [], deleted: true, id: 'p1' })));
    await api.searchUsers('ali', 99);
    await api.createProject({ name: 'n', destination: { sasUrl: 'https://a.blob.core.windows.net/c?sv=1&sig=s' } });
    await api.addItems('p 1', [{ source: 'a@b.c', mailbox: 'both' }]);
    await api.addItemsCsv('p1', 'a@b.c,a.pst\n');
    await api.verify('p1');
    await api.export('p1', 'prestage', ['i1'], 30);
    await api.retryErrors('p1');
    await api.cancel('p1', ['i2']);
    await api.deleteContainer('p1', 'outport');
    await api.deleteItem('p1', 'i1');
    await api.itemErrors('p1', 'i1');
    await api.parts('p1', 'i1');
    expect(calls.map((c) => `${c.method} ${c.url.replace('https://worker.example/api/v1', '')}`)).toEqual([
      'GET /users?search=ali&top=50',
      'POST /projects',
      'POST /projects/p%201/items',
      'POST /projects/p1/items/csv',
      'POST /projects/p1/actions/verify',
      'POST /projects/p1/actions/export',
      'POST /projects/p1/actions/retry-errors',
      'POST /projects/p1/actions/cancel',
      'POST /projects/p1/actions/delete-container',
      'DELETE /projects/p1/items/i1',
      'GET /projects/p1/items/i1/errors',
      'GET /projects/p1/items/i1/parts',
    ]);
    expect(JSON.parse(calls[2].body!)).toEqual({ items: [{ source: 'a@b.c', mailbox: 'both' }] });
    expect(calls[3].headers['content-type']).toBe('text/csv');
    expect(calls[3].body).toBe('a@b.c,a.pst\n');
    expect(JSON.parse(calls[5].body!)).toEqual({ itemIds: ['i1'], pass: 'prestage', olderThanDays: 30 });
    expect(JSON.parse(calls[8].body!)).toEqual({ confirm: 'outport' });
  });

  it('maps {error:{code,message,field}} to ApiError with field, and rows for CSV', async () => {
    const { api } = client((c) => (c.url.includes('/csv')
      ? json(400, { error: { code: 'InvalidRequest', message: '2 rows', rows: [{ row: 2, field: 'source', message: 'bad' }, { row: 4, field: 'destination', message: 'no .pst' }] } })
      : json(400, { error: { code: 'InvalidRequest', message: 'capital letters', field: 'destination.accountName' } })));
    const e1 = await api.createProject({ name: 'x', destination: {} }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ApiError);
    expect(e1).toMatchObject({ status: 400, code: 'InvalidRequest', field: 'destination.accountName', message: 'capital letters' });
    const e2 = await api.addItemsCsv('p', 'x').catch((e: unknown) => e) as ApiError;
    expect(e2.rows).toEqual([{ row: 2, field: 'source', message: 'bad' }, { row: 4, field: 'destination', message: 'no .pst' }]);
  });

  it('a body that is not the API\'s gives code HttpError; a 403 reads clearly', async () => {
    const { api } = client(() => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(api.me()).rejects.toMatchObject({ code: 'HttpError', status: 502 });
    const forbidden = new ApiError(403, 'NotYourMailbox', 'alex@contoso.com is not your mailbox.');
    expect(describeError(forbidden)).toBe('You can only export your own mailbox and archive. alex@contoso.com is not your mailbox.');
    expect(describeError(new ApiError(403, 'AdminOnly', 'Only administrators can search users.'))).toBe('You are not allowed to do this: Only administrators can search users.');
  });

  it('retries a 401 once with a freshly acquired token', async () => {
    let n = 0;
    const { api, calls, asked } = client(() => (++n === 1 ? json(401, { error: { code: 'InvalidToken', message: 'expired' } }) : json(200, { ok: 1 })));
    await api.me();
    expect(asked).toEqual([false, true]);
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
    n = 0;
    const again = client(() => json(401, { error: { code: 'InvalidToken', message: 'wrong audience' } }));
    await expect(again.api.me()).rejects.toMatchObject({ status: 401, code: 'InvalidToken' });
    expect(again.calls).toHaveLength(2);
  });

  it('a failed connection is a NetworkError naming the URL, never the token', async () => {
    const { api } = client(() => { throw new TypeError('fetch failed'); });
    const e = await api.me().catch((x: unknown) => x) as NetworkError;
    expect(e).toBeInstanceOf(NetworkError);
    expect(e.message).toContain('https://worker.example/api/v1/me');
    expect(e.message).not.toContain('t1');
  });

  it('reads the progress stream from chunks split anywhere, skipping comments and other events', async () => {
    const p1: ItemProgress = { itemId: 'i1', state: 'Running', itemsDone: 5, itemsTotal: 10, bytesDone: 500, bytesPerSecond: 100, itemsPerSecond: 1, partsDone: 0, updatedAt: '2026-01-01T00:00:00Z' };
    const p2 = { ...p1, itemsDone: 10, state: 'Completed' as const };
    const text = `: keep-alive\n\nevent: progress\ndata: ${JSON.stringify(p1)}\n\nevent: other\ndata: {}\n\nevent: progress\ndata: ${JSON.stringify(p2)}\n\n`;
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        for (let i = 0; i < bytes.length; i += 7) ctl.enqueue(bytes.slice(i, i + 7));
        ctl.close();
      },
    });
    const { api, calls } = client(() => new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
    const seen: ItemProgress[] = [];
    await api.streamProgress('p1', (p) => seen.push(p), new AbortController().signal);
    expect(seen).toEqual([p1, p2]);
    expect(calls[0].headers.accept).toBe('text/event-stream');
    expect(calls[0].headers.authorization).toBe('Bearer t1');
  });

  it('an aborted stream resolves quietly', async () => {
    const ctl = new AbortController();
    const abortError = (): Error => Object.assign(new Error('aborted'), { name: 'AbortError' });
    const { api } = client(() => new Promise<Response>((_, reject) => {
      if (ctl.signal.aborted) reject(abortError());
      ctl.signal.addEventListener('abort', () => reject(abortError()));
    }));
    const done = api.streamProgress('p1', () => undefined, ctl.signal);
    ctl.abort();
    await expect(done).resolves.toBeUndefined();
  }, 5000);

  it('reauthorize POSTs /auth with a forced-fresh token', async () => {
    const { api, calls, asked } = client(() => json(202, { value: [{ id: 'i1', state: 'Running' }] }));
    const items = await api.reauthorize('p1');
    expect(items).toHaveLength(1);
    expect(asked).toEqual([true]);
    expect(calls[0]).toMatchObject({ method: 'POST', url: 'https://worker.example/api/v1/projects/p1/auth', body: '{}' });
  });
});
