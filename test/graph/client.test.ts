/**
 * The Graph client's middleware chain against a fake final handler (no network): Retry-After
 * (seconds, HTTP-date), backoff caps, inner $batch retries, 308 to another casing through the
 * target mailbox's gate, the gate under load, the request budget, aborts, error shape, secrets.
 */
import { inspect } from 'node:util';
import {
  CLOUDS, customCloud, GraphClient, GraphClientOptions, GraphError, MailboxGate, StaticTokenSource, RetryInfo,
} from '../../worker-service/src/graph';
import { deferred, FakeGraph, graphError, json } from './fake-graph';

const TOKEN = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzZWNyZXQtdXNlciJ9.c2lnbmF0dXJlLXNlY3JldA';
const ROOT = 'https://graph.microsoft.com/v1.0';

function client(fake: FakeGraph, extra: Partial<GraphClientOptions> = {}): GraphClient {
  return new GraphClient({ cloud: CLOUDS.global, tokenSource: new StaticTokenSource(TOKEN), finalHandler: fake, ...extra });
}

/** Lets promise chains settle without moving fake time. */
async function settle(): Promise<void> { await jest.advanceTimersByTimeAsync(0); }

describe('retry', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('waits Retry-After seconds (fractional too) before retrying a 429', async () => {
    const fake = new FakeGraph().enqueue(
      graphError(429, 'TooManyRequests', 'slow down', { 'Retry-After': '2.128' }),
      json(200, { ok: 1 }),
    );
    const p = client(fake).get<{ ok: number }>('/users/a/settings/exchange');
    await settle();
    expect(fake.seen).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2127);
    expect(fake.seen).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toEqual({ ok: 1 });
    expect(fake.seen).toHaveLength(2);
  });

  it('waits until a Retry-After HTTP-date (503)', async () => {
    jest.setSystemTime(new Date('2026-11-22T10:00:00Z'));
    const at = new Date('2026-11-22T10:00:05Z').toUTCString(); // IMF-fixdate
    const fake = new FakeGraph().enqueue(graphError(503, 'ServiceUnavailable', 'x', { 'Retry-After': at }), json(200, {}));
    const p = client(fake).get('/users/a/messages');
    await jest.advanceTimersByTimeAsync(4999);
    expect(fake.seen).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await p;
    expect(fake.seen).toHaveLength(2);
  });

  it('backs off exponentially with jitter, capped per step, and gives up after maxRetries', async () => {
    const fake = new FakeGraph(() => graphError(504, 'GatewayTimeout', 'gateway'));
    const retries: RetryInfo[] = [];
    const c = client(fake, { retry: { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 500, maxTotalWaitMs: 60_000, random: () => 0.999999, onRetry: (i) => retries.push(i) } });
    const p = c.get('/users/a/messages').catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(10_000);
    const err = (await p) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.code).toBe('GatewayTimeout');
    expect(err.statusCode).toBe(504);
    expect(err.attempts).toBe(6);
    expect(retries.map((r) => r.delayMs)).toEqual([100, 200, 400, 500, 500]);
    expect(retries.every((r) => !r.fromRetryAfter && r.reason === 'status')).toBe(true);
    expect(fake.seen).toHaveLength(6);
  });

  it('jitter stays within [step/2, step]', () => {
    for (const r of [0, 0.5, 0.999]) {
      const c = client(new FakeGraph(), { retry: { baseDelayMs: 1000, maxDelayMs: 8000, random: () => r } });
      const h = c.middleware[2] as unknown as { backoffMs(n: number): number };
      for (let n = 1; n <= 6; n++) {
        const step = Math.min(8000, 1000 * 2 ** (n - 1));
        expect(h.backoffMs(n)).toBeGreaterThanOrEqual(step / 2);
        expect(h.backoffMs(n)).toBeLessThanOrEqual(step);
      }
    }
  });

  it('gives up at once when Retry-After exceeds the total wait cap, and reports retryAfterMs', async () => {
    const fake = new FakeGraph().enqueue(graphError(429, 'MailboxConcurrency', 'busy', { 'Retry-After': '120' }));
    const err = await client(fake, { retry: { maxTotalWaitMs: 60_000 } }).get('/users/a/messages').catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('MailboxConcurrency');
    expect(err.retryAfterMs).toBe(120_000);
    expect(err.attempts).toBe(1);
    expect(fake.seen).toHaveLength(1);
  });

  it('retries network errors and then succeeds', async () => {
    const fake = new FakeGraph().enqueue(new TypeError('fetch failed'), json(200, { v: 2 }));
    const p = client(fake, { retry: { baseDelayMs: 50 } }).get('/users/a/messages');
    await jest.advanceTimersByTimeAsync(50);
    await expect(p).resolves.toEqual({ v: 2 });
  });

  it('does not retry other statuses (404) and keeps Graph\'s code', async () => {
    const fake = new FakeGraph().enqueue(graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'));
    const err = await client(fake).get('/users/x@contoso.com/settings/exchange').catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('MailboxNotEnabledForRESTAPI');
    expect(fake.seen).toHaveLength(1);
  });
});

describe('$batch', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('re-sends only the inner requests that failed 429 (and their 424 dependents), then merges in order', async () => {
    const requests = [
      { id: '1', method: 'GET', url: '/users/a/messages/m1' },
      { id: '2', method: 'GET', url: '/users/a/messages/m2' },
      { id: '3', method: 'GET', url: '/users/a/messages/m3', dependsOn: ['2'] },
      { id: '4', method: 'GET', url: 'users/b/messages/m4', dependsOn: ['1'] },
    ];
    const fake = new FakeGraph().enqueue(
      json(200, { responses: [
        { id: '4', status: 200, body: { id: 'm4' } },
        { id: '1', status: 200, body: { id: 'm1' } },
        { id: '2', status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests' } } },
        { id: '3', status: 424, body: { error: { code: 'FailedDependency' } } },
      ] }),
      (req) => {
        const sent = JSON.parse(req.body!) as { requests: { id: string; dependsOn?: string[] }[] };
        expect(sent.requests.map((r) => r.id)).toEqual(['2', '3']);
        expect(sent.requests[1].dependsOn).toEqual(['2']);
        return json(200, { responses: [{ id: '3', status: 200, body: { id: 'm3' } }, { id: '2', status: 200, body: { id: 'm2' } }] });
      },
    );
    const p = client(fake).post<{ responses: { id: string; status: number; body: { id: string } }[] }>('/$batch', { requests });
    await jest.advanceTimersByTimeAsync(6999);
    expect(fake.seen).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    const out = await p;
    expect(fake.seen).toHaveLength(2);
    expect(out.responses.map((r) => [r.id, r.status, r.body.id])).toEqual([['1', 200, 'm1'], ['2', 200, 'm2'], ['3', 200, 'm3'], ['4', 200, 'm4']]);
  });

  it('leaves inner failures in the merged response after the caps', async () => {
    const fake = new FakeGraph(() => json(200, { responses: [{ id: 'a', status: 503, body: {} }] }));
    const p = client(fake, { retry: { maxRetries: 2, baseDelayMs: 10 } }).post<{ responses: { status: number }[] }>('/$batch', { requests: [{ id: 'a', method: 'GET', url: '/users/a/messages' }] });
    await jest.advanceTimersByTimeAsync(1000);
    expect((await p).responses[0].status).toBe(503);
    expect(fake.seen).toHaveLength(3);
  });
});

describe('redirects', () => {
  it('follows 308 to /admin/Exchange/Mailboxes/… (other casing) through the target mailbox\'s gate', async () => {
    const gate = new MailboxGate();
    const keys: string[][] = [];
    const orig = gate.acquireAll.bind(gate);
    jest.spyOn(gate, 'acquireAll').mockImplementation((costs, signal) => { keys.push([...costs.keys()]); return orig(costs, signal); });
    const aux = `${ROOT}/admin/Exchange/Mailboxes/MBX:AUX-1@tenant/folders?$top=10`;
    const fake = new FakeGraph().enqueue(
      new Response(null, { status: 308, headers: { Location: aux } }),
      json(200, { value: [{ id: 'f1' }] }),
    );
    const res = await client(fake, { gate }).request('/admin/exchange/mailboxes/MBX:primary@tenant/folders?$top=10');
    expect(res.json()).toEqual({ value: [{ id: 'f1' }] });
    expect(res.url).toBe(aux);
    expect(res.hops).toBe(1);
    expect(res.attempts).toBe(2);
    expect(fake.seen.map((r) => r.url)).toEqual([`${ROOT}/admin/exchange/mailboxes/MBX:primary@tenant/folders?$top=10`, aux]);
    expect(keys).toEqual([['mailbox:mbx:primary@tenant'], ['mailbox:mbx:aux-1@tenant']]);
    expect(fake.seen[1].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
  });

  it('follows 301/302/307 keeping method and body; drops the token on another host', async () => {
    const fake = new FakeGraph().enqueue(
      new Response(null, { status: 307, headers: { Location: '/v1.0/users/b/exportItems' } }),
      new Response(null, { status: 302, headers: { Location: 'https://elsewhere.example/x' } }),
      json(200, {}),
    );
    await client(fake).post('/users/a/exportItems', { itemIds: ['1'] });
    expect(fake.seen.map((r) => [r.method, r.body])).toEqual([['POST', '{"itemIds":["1"]}'], ['POST', '{"itemIds":["1"]}'], ['POST', '{"itemIds":["1"]}']]);
    expect(fake.seen[1].url).toBe(`https://graph.microsoft.com/v1.0/users/b/exportItems`);
    expect(fake.seen[1].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(fake.seen[2].headers.get('authorization')).toBeNull();
  });

  it('stops after the hop limit with TooManyRedirects', async () => {
    const fake = new FakeGraph(() => new Response(null, { status: 308, headers: { Location: `${ROOT}/users/a/messages` } }));
    const err = await client(fake, { redirect: { maxHops: 3 } }).get('/users/a/messages').catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('TooManyRedirects');
    expect(err.statusCode).toBe(308);
    expect(fake.seen).toHaveLength(4);
  });

  it('a 308 without Location is InvalidRedirect', async () => {
    const err = await client(new FakeGraph().enqueue(new Response(null, { status: 308 }))).get('/users/a/messages').catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('InvalidRedirect');
  });
});

describe('the gate in the chain', () => {
  it('never has more than 4 requests in flight per mailbox under 50 concurrent requests for 3 mailboxes', async () => {
    const fake = new FakeGraph(() => new Promise<Response>((r) => setTimeout(() => r(json(200, {})), 1 + Math.floor(Math.random() * 3))));
    const c = client(fake);
    const paths = [
      (i: number) => `/users/alice@contoso.com/messages/${i}`,
      (i: number) => `/admin/exchange/mailboxes/MBX:p@t/folders/${i}/items`, // primary
      (i: number) => `/admin/Exchange/Mailboxes/mbx:A@t/folders/${i}/items`, // archive: a mailbox of its own
    ];
    await Promise.all(Array.from({ length: 50 }, (_, i) => c.get(paths[i % 3](i))));
    expect(fake.seen).toHaveLength(50);
    expect([...fake.maxInFlight.entries()].sort()).toEqual([['alice@contoso.com', 4], ['mbx:a@t', 4], ['mbx:p@t', 4]]);
  });

  it('spends the request budget per mailbox: a tiny limit holds the 4th request for the window', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const fake = new FakeGraph(() => json(200, {}));
      const c = client(fake, { gate: { maxRequestsPerWindow: 3, windowMs: 1000 } });
      const all = Promise.all([1, 2, 3, 4, 5].map((i) => c.get(`/users/a/messages/${i}`)));
      const other = c.get('/users/b/messages/1');
      await settle();
      expect(fake.seen).toHaveLength(4); // 3 for a, 1 for b
      await other;
      await jest.advanceTimersByTimeAsync(999);
      expect(fake.seen).toHaveLength(4);
      await jest.advanceTimersByTimeAsync(1);
      await all;
      expect(fake.seen).toHaveLength(6);
    } finally { jest.useRealTimers(); }
  });

  it('a 429 with Retry-After pauses the whole mailbox, not others', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const first = deferred<Response>();
      const fake = new FakeGraph().enqueue(() => first.promise);
      fake.enqueue(json(200, { n: 2 }), json(200, { n: 'b' }), json(200, { n: 1 }));
      const c = client(fake);
      const p1 = c.get('/users/a/messages/1');
      await settle();
      first.resolve(graphError(429, 'ApplicationThrottled', 'x', { 'Retry-After': '5' }));
      await settle();
      const p2 = c.get('/users/a/messages/2');
      const pb = c.get('/users/b/messages/1');
      await settle();
      expect(fake.seen.map((r) => new URL(r.url).pathname)).toEqual(['/v1.0/users/a/messages/1', '/v1.0/users/b/messages/1']);
      await jest.advanceTimersByTimeAsync(5000);
      await Promise.all([p1, p2, pb]);
      expect(fake.seen).toHaveLength(4);
    } finally { jest.useRealTimers(); }
  });
});

describe('abort', () => {
  it('cancels a request waiting in the gate; the gate keeps working', async () => {
    const hold = deferred<Response>();
    const fake = new FakeGraph().enqueue(() => hold.promise, json(200, { third: true }));
    const c = client(fake, { gate: { maxConcurrent: 1 } });
    const first = c.get('/users/a/messages/1');
    const ac = new AbortController();
    const second = c.get('/users/a/messages/2', { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    expect(c.gate.stats('user:a')).toMatchObject({ inFlight: 1, waiting: 1 });
    ac.abort();
    const err = (await second) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.code).toBe('Aborted');
    expect(c.gate.stats('user:a')).toMatchObject({ inFlight: 1, waiting: 0 });
    hold.resolve(json(200, { first: true }));
    await expect(first).resolves.toEqual({ first: true });
    await expect(c.get('/users/a/messages/3')).resolves.toEqual({ third: true });
    expect(fake.seen).toHaveLength(2);
  });

  it('cancels a request sleeping for Retry-After at once', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const fake = new FakeGraph().enqueue(graphError(429, 'TooManyRequests', 'x', { 'Retry-After': '60' }));
      const ac = new AbortController();
      const p = client(fake).get('/users/a/messages', { signal: ac.signal }).catch((e: unknown) => e);
      await settle();
      ac.abort(new Error('job cancelled'));
      const err = (await p) as GraphError;
      expect(err.code).toBe('Aborted');
      expect((err.cause as Error).message).toBe('job cancelled');
      expect(err.attempts).toBe(1);
      expect(jest.getTimerCount()).toBe(0);
      expect(fake.seen).toHaveLength(1);
    } finally { jest.useRealTimers(); }
  });

  it('an already aborted signal sends nothing', async () => {
    const fake = new FakeGraph(() => json(200, {}));
    const err = await client(fake).get('/users/a/messages', { signal: AbortSignal.abort() }).catch((e: unknown) => e) as GraphError;
    expect(err.code).toBe('Aborted');
    expect(fake.seen).toHaveLength(0);
  });
});

describe('errors', () => {
  it('carry Graph\'s code, status, request ids, retryAfterMs, method and path without query', async () => {
    const fake = new FakeGraph().enqueue(graphError(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': '3', 'client-request-id': 'cid-9' }, 'rid-7'));
    const err = await client(fake, { retry: { maxRetries: 0 } })
      .get('/admin/exchange/mailboxes/MBX:x@t/folders/f/items/delta?$skiptoken=SKIPSECRET', { headers: { 'client-request-id': 'cid-9' } })
      .catch((e: unknown) => e) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('GraphError');
    expect(err).toMatchObject({
      code: 'TooManyRequests', statusCode: 429, requestId: 'rid-7', clientRequestId: 'cid-9', retryAfterMs: 3000,
      method: 'GET', path: '/v1.0/admin/exchange/mailboxes/MBX:x@t/folders/f/items/delta', graphMessage: 'Please retry again later.', attempts: 1,
    });
    expect(err.message).toBe('Graph GET /v1.0/admin/exchange/mailboxes/MBX:x@t/folders/f/items/delta 429 TooManyRequests: Please retry again later.');
    expect(JSON.stringify(err)).not.toContain('SKIPSECRET');
  });

  it('a non-JSON error body gives HttpError with the status', async () => {
    const err = await client(new FakeGraph().enqueue(new Response('<html>bad gateway</html>', { status: 502 }))).get('/users').catch((e: unknown) => e) as GraphError;
    expect(err).toMatchObject({ code: 'HttpError', statusCode: 502 });
    expect(err.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends a client-request-id and the token only in the Authorization header', async () => {
    const fake = new FakeGraph(() => json(200, {}));
    await client(fake).get('/users/a/messages');
    expect(fake.seen[0].headers.get('client-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.seen[0].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(fake.seen[0].url).not.toContain(TOKEN);
  });

  it('never contain the token or query secrets, whatever the cause says', async () => {
    const fake = new FakeGraph().enqueue(
      graphError(401, 'InvalidAuthenticationToken', `Access token is invalid: Bearer ${TOKEN}`),
      new TypeError(`connect failed; Authorization: Bearer ${TOKEN}`),
    );
    const c = client(fake, { retry: { retryNetworkErrors: false } });
    const url = '/users/a/messages?$skiptoken=SKIPSECRET&authtoken=AUTHSECRET';
    const errs = [await c.get(url).catch((e: unknown) => e), await c.get(url).catch((e: unknown) => e)] as GraphError[];
    expect(errs.map((e) => e.code)).toEqual(['InvalidAuthenticationToken', 'NetworkError']);
    for (const e of errs) {
      const views = [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10, showHidden: true }), String((e.cause as Error | undefined)?.message ?? '')];
      for (const v of views) {
        expect(v).not.toContain(TOKEN);
        expect(v).not.toContain('c2lnbmF0dXJlLXNlY3JldA');
        expect(v).not.toContain('SKIPSECRET');
        expect(v).not.toContain('AUTHSECRET');
      }
    }
    expect(inspect(new StaticTokenSource(TOKEN), { showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(new StaticTokenSource(TOKEN))).not.toContain(TOKEN);
  });

  it('reach callers of the SDK\'s fluent API as Outport GraphErrors', async () => {
    const fake = new FakeGraph().enqueue(graphError(403, 'ErrorAccessDenied', 'Access is denied.'), json(200, { displayName: 'Megan' }));
    const c = client(fake);
    const err = await c.sdk().api('/users/megan@contoso.com/settings/exchange').get().catch((e: unknown) => e) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ code: 'ErrorAccessDenied', statusCode: 403 });
    await expect(c.sdk().api('/users/megan@contoso.com').get()).resolves.toEqual({ displayName: 'Megan' });
    expect(fake.seen[1].headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
  });
});

describe('custom cloud', () => {
  it('sends to the custom base URL (http, path prefix) and keeps absolute nextLinks intact', async () => {
    const cloud = customCloud({ graphBaseUrl: 'http://127.0.0.1:4010/graph/' });
    const next = 'http://127.0.0.1:4010/graph/v1.0/users?$search=%22displayName:wa%22&$skiptoken=m~AQ%2BZ';
    const fake = new FakeGraph().enqueue(json(200, { '@odata.nextLink': next }), json(200, {}));
    const c = new GraphClient({ cloud, tokenSource: new StaticTokenSource('t'), finalHandler: fake });
    const first = await c.get<{ '@odata.nextLink': string }>('/users');
    await c.get(first['@odata.nextLink']);
    expect(fake.seen.map((r) => r.url)).toEqual(['http://127.0.0.1:4010/graph/v1.0/users', next]);
    expect(fake.seen.every((r) => r.headers.get('authorization') === 'Bearer t')).toBe(true);
  });
});
