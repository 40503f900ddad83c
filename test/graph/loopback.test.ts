/**
 * The real final handler (the SDK's HTTPMessageHandler over Node's global fetch) against a
 * loopback HTTP server: fetch must hand 308s to our RedirectHandler (redirect: "manual") instead of
 * following them itself, bodies and headers arrive intact, and aborts reach the socket.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customCloud, GraphClient, GraphError, StaticTokenSource } from '../../worker-service/src/graph';

let server: Server;
let base = '';
const seen: { method: string; url: string; auth?: string; body: string }[] = [];
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => { seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body }); handler(req, res, body); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => { await new Promise<void>((r) => server.close(() => r())); });
beforeEach(() => { seen.length = 0; });

const client = () => new GraphClient({ cloud: customCloud({ graphBaseUrl: `${base}/graph` }), tokenSource: new StaticTokenSource('loopback-token'), retry: { baseDelayMs: 5 } });

it('308 to another casing is followed by our chain, with the body and the token, and a 429 is retried', async () => {
  let n = 0;
  handler = (req, res) => {
    n++;
    if (n === 1) { res.writeHead(308, { Location: '/graph/v1.0/admin/Exchange/Mailboxes/MBX:aux@t/exportItems' }); res.end(); return; }
    if (n === 2) { res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'application/json' }); res.end('{"error":{"code":"TooManyRequests","message":"x"}}'); return; }
    res.writeHead(200, { 'Content-Type': 'application/json', 'request-id': 'r' }); res.end(JSON.stringify({ value: [{ itemId: '1' }] }));
  };
  const out = await client().post<{ value: { itemId: string }[] }>('/admin/exchange/mailboxes/MBX:p@t/exportItems', { itemIds: ['1'] });
  expect(out.value[0].itemId).toBe('1');
  expect(seen.map((s) => [s.method, s.url, s.auth, s.body])).toEqual([
    ['POST', '/graph/v1.0/admin/exchange/mailboxes/MBX:p@t/exportItems', 'Bearer loopback-token', '{"itemIds":["1"]}'],
    ['POST', '/graph/v1.0/admin/Exchange/Mailboxes/MBX:aux@t/exportItems', 'Bearer loopback-token', '{"itemIds":["1"]}'],
    ['POST', '/graph/v1.0/admin/Exchange/Mailboxes/MBX:aux@t/exportItems', 'Bearer loopback-token', '{"itemIds":["1"]}'],
  ]);
});

it('an abort while the server is slow ends the request with Aborted', async () => {
  // the server's close: whether the connection ended before the (late) answer was written; the
  // answer's timer is cleared then, so nothing of this test outlives it
  let serverClose!: Promise<{ answered: boolean }>;
  handler = (_req, res) => {
    const late = setTimeout(() => { if (!res.destroyed) { res.writeHead(200); res.end('{}'); } }, 2000);
    serverClose = new Promise((resolve) => res.on('close', () => { clearTimeout(late); resolve({ answered: res.writableEnded }); }));
  };
  const ac = new AbortController();
  const p = client().get('/users/a/messages', { signal: ac.signal }).catch((e: unknown) => e);
  setTimeout(() => ac.abort(), 50);
  const err = (await p) as GraphError;
  expect(err).toBeInstanceOf(GraphError);
  expect(err.code).toBe('Aborted');
  // the abort reached the socket: the server saw the connection close before it answered
  expect(await serverClose).toEqual({ answered: false });
});

it('a refused connection is NetworkError after the retries', async () => {
  const dead = new GraphClient({ cloud: customCloud({ graphBaseUrl: 'http://127.0.0.1:9' }), tokenSource: new StaticTokenSource('t'), retry: { maxRetries: 1, baseDelayMs: 5 } });
  const err = await dead.get('/users/a/messages').catch((e: unknown) => e) as GraphError;
  expect(err).toMatchObject({ code: 'NetworkError', statusCode: 0, attempts: 2 });
});
