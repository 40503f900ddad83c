/**
 * HttpHandler (worker-service/src/graph/middleware/HttpHandler.ts), the Graph chain's final handler
 * over node:http/https, against real local servers: bodies both ways, repeated headers, gzip and
 * deflate answers, null-body statuses, redirects left to the chain, aborts, idle timeouts, resets
 * and TLS — alone and inside GraphClient (errors become GraphError NetworkError / Aborted).
 */
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Context } from '@microsoft/microsoft-graph-client';
import { customCloud, GraphClient, GraphError, StaticTokenSource } from '../../worker-service/src/graph';
import { materializeBody, responseBytes, responseText } from '../../worker-service/src/graph/middleware/context';
import { HttpHandler } from '../../worker-service/src/graph/middleware/HttpHandler';
import { generateSandboxCertificate } from '../../worker-service/src/sandbox/tls';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;
let handler: Handler = () => { throw new Error('no handler'); };
let server: http.Server;
let base: string;
const handlers: HttpHandler[] = [];

function make(options?: ConstructorParameters<typeof HttpHandler>[0]): HttpHandler {
  const h = new HttpHandler(options);
  handlers.push(h);
  return h;
}

async function send(h: HttpHandler, url: string, options: Context['options'] = {}): Promise<Response> {
  const context: Context = { request: url, options };
  await h.execute(context);
  return context.response!;
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const h of handlers) h.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('a POST: string body with its length and the caller\'s headers; the answer\'s status, text, repeated headers and bytes', async () => {
  let seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
  handler = (req, body, res) => {
    seen = { method: req.method, headers: req.headers, body: body.toString('utf8') };
    res.writeHead(201, 'Made', [['Content-Type', 'application/json'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['request-id', 'r-1']]);
    res.end(JSON.stringify({ ok: 'é' }));
  };
  const res = await send(make(), `${base}/v1.0/x?y=1`, { method: 'post', headers: new Headers({ 'Content-Type': 'application/json', Authorization: 'Bearer t' }), body: '{"itemIds":["é"]}' });
  expect(seen.method).toBe('POST');
  expect(seen.body).toBe('{"itemIds":["é"]}');
  expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('{"itemIds":["é"]}')));
  expect(seen.headers?.authorization).toBe('Bearer t');
  expect(seen.headers?.['accept-encoding']).toBe('gzip, deflate');
  expect(res.status).toBe(201);
  expect(res.statusText).toBe('Made');
  expect(res.headers.get('request-id')).toBe('r-1');
  expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  expect(JSON.parse(await responseText(res))).toEqual({ ok: 'é' });
});

test('binary bodies (Uint8Array, ArrayBuffer) are sent byte for byte; record and array headers are accepted', async () => {
  const got: Buffer[] = [];
  handler = (req, body, res) => { got.push(body); res.end(String(req.headers['x-k'])); };
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
  const a = await send(make(), `${base}/b`, { method: 'PUT', headers: { 'X-K': 'rec' }, body: bytes });
  const b = await send(make(), `${base}/b`, { method: 'PUT', headers: [['X-K', 'arr']], body: bytes.buffer });
  expect(await responseText(a)).toBe('rec');
  expect(await responseText(b)).toBe('arr');
  expect(got.map((g) => Buffer.compare(g, Buffer.from(bytes)))).toEqual([0, 0]);
});

test('gzip and deflate answers are inflated and lose their content-encoding; an answer that does not inflate fails', async () => {
  const payload = JSON.stringify({ value: 'x'.repeat(300_000) });
  for (const coding of ['gzip', 'deflate'] as const) {
    handler = (_req, _b, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
      res.end(coding === 'gzip' ? zlib.gzipSync(payload) : zlib.deflateSync(payload));
    };
    const res = await send(make(), `${base}/z`);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await responseText(res)).toBe(payload);
  }
  handler = (_req, _b, res) => { res.writeHead(200, { 'content-encoding': 'gzip' }); res.end('not gzip'); };
  await expect(send(make(), `${base}/z`)).rejects.toThrow();
});

test('null-body statuses and HEAD give a Response without a body; a 308 is handed up, not followed', async () => {
  handler = (req, _b, res) => {
    if (req.url === '/none') { res.writeHead(204); res.end(); return; }
    if (req.url === '/moved') { res.writeHead(308, { location: `${base}/elsewhere` }); res.end(); return; }
    res.writeHead(200, { 'content-length': '5' }); res.end(req.method === 'HEAD' ? undefined : 'hello');
  };
  const h = make();
  const none = await send(h, `${base}/none`);
  expect(none.status).toBe(204);
  expect(none.body).toBeNull();
  const head = await send(h, `${base}/x`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.body).toBeNull();
  const moved = await send(h, `${base}/moved`);
  expect(moved.status).toBe(308);
  expect(moved.headers.get('location')).toBe(`${base}/elsewhere`);
});

test('through GraphClient: an abort gives GraphError Aborted; an idle answer and a reset give NetworkError after the retries', async () => {
  let hits = 0;
  handler = (req, _b, res) => {
    hits++;
    if (req.url?.includes('/reset')) { req.socket.destroy(); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"value":['); // and never more: idle
  };
  const client = new GraphClient({
    cloud: customCloud({ graphBaseUrl: base }), tokenSource: new StaticTokenSource('t'),
    finalHandler: make({ idleTimeoutMs: 300 }), retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('stop')), 100);
  const aborted = await client.get('/users/slow', { signal: ac.signal }).catch((e: unknown) => e);
  expect(aborted).toBeInstanceOf(GraphError);
  expect((aborted as GraphError).code).toBe('Aborted');

  hits = 0;
  const idle = await client.get('/users/slow').catch((e: unknown) => e);
  expect((idle as GraphError).code).toBe('NetworkError');
  expect(String((idle as GraphError).graphMessage)).toMatch(/no data from 127\.0\.0\.1:\d+ for 0\.3 s/);
  expect(hits).toBe(2);

  hits = 0;
  const reset = await client.get('/users/reset').catch((e: unknown) => e);
  expect((reset as GraphError).code).toBe('NetworkError');
  expect(hits).toBe(2);
});

test('https: trusted by the given CA; refused without it', async () => {
  const cert = await generateSandboxCertificate('127.0.0.1');
  const tls = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => { res.end('secure'); });
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/x`;
  try {
    expect(await responseText(await send(make({ ca: cert.certPem }), url))).toBe('secure');
    await expect(send(make(), url)).rejects.toThrow(/self[- ]signed|certificate/i);
  } finally {
    tls.closeAllConnections();
    await new Promise((r) => tls.close(r));
  }
});

test('an unsupported scheme is refused with a clear error', async () => {
  await expect(send(make(), 'ftp://example.test/x')).rejects.toThrow('unsupported URL scheme ftp: (http: or https: expected)');
});

test('kept bodies: read once without a copy, the same bytes for every reader; materializeBody gives other readers a real stream', async () => {
  handler = (_req, _b, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"displayName":"Megan"}'); };
  const res = await send(make(), `${base}/users/megan`);
  expect(res.body).toBeNull(); // no WHATWG stream built for it
  const a = await responseBytes(res);
  expect(await responseBytes(res)).toBe(a); // the same bytes, not a copy
  expect(await materializeBody(res).json()).toEqual({ displayName: 'Megan' });
  // a Response from elsewhere: its stream is read once and kept; materializeBody rebuilds it
  const foreign = new Response('{"n":1}', { status: 200 });
  expect(await responseText(foreign)).toBe('{"n":1}');
  expect(foreign.bodyUsed).toBe(true);
  expect(await materializeBody(foreign).json()).toEqual({ n: 1 });
  const untouched = new Response('x');
  expect(materializeBody(untouched)).toBe(untouched);
});
