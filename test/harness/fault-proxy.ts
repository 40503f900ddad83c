/**
 * A fault-injecting HTTP proxy for tests, in front of Azurite (or any HTTP service): a seeded fraction
 * of the matching requests fail, either with 503 and an Azure Storage error body (`ServerBusy`, as the
 * service answers when throttling: "Azure Storage error codes", learn.microsoft.com/rest/api/storageservices/
 * blob-service-error-codes) or with a destroyed socket (a connection reset); everything else is forwarded
 * unchanged. Counts what it did, so tests can assert that faults really happened.
 *
 * Usage:
 *   const proxy = await startFaultProxy(az.blobEndpoint, { rate: 0.05, kinds: ['503', 'reset'], match: isBlockPut, seed: 7 });
 *   // point the destination at proxy.url (same account path as the target)
 *   expect(proxy.stats.failed).toBeGreaterThan(0);
 *   await proxy.stop();
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from '../../worker-service/src/sandbox/ids';

/** How an injected failure looks to the client. */
export type FaultKind = '503' | 'reset';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Fraction of matching requests that fail, 0..1. */
  rate: number;
  /** Failure kinds, chosen uniformly (seeded) per failure. Default ['503', 'reset']. */
  kinds?: FaultKind[];
  /** Which requests may fail (default: all). */
  match?: (req: http.IncomingMessage) => boolean;
  /** PRNG seed (mulberry32), so a run is reproducible. Default 1. */
  seed?: number;
}

/** What the proxy did so far. */
export interface FaultProxyStats {
  /** All requests received. */
  requests: number;
  /** Requests for which `match` returned true. */
  matched: number;
  /** Injected failures (failed503 + failedReset). */
  failed: number;
  failed503: number;
  failedReset: number;
  /** Requests forwarded to the target. */
  forwarded: number;
  /** Most matching requests open at the same time (from arrival to response end or socket close). */
  maxConcurrentMatched: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** The target URL with the proxy's origin, e.g. "http://127.0.0.1:40001/devstoreaccount1". */
  url: string;
  port: number;
  readonly stats: FaultProxyStats;
  /** Changes the failure rate from now on (e.g. 0 to stop failing). */
  setRate(rate: number): void;
  /** Closes the listener and every open connection. */
  stop(): Promise<void>;
}

/** Matches "Put Block" requests (PUT …?comp=block), the block uploads of a staged blob. */
export function isBlockPut(req: http.IncomingMessage): boolean {
  if (req.method !== 'PUT' || !req.url) return false;
  return new URL(req.url, 'http://x').searchParams.get('comp') === 'block';
}

/** Matches "Put Block List" requests (PUT …?comp=blocklist), the commit of a staged blob. */
export function isBlockListPut(req: http.IncomingMessage): boolean {
  if (req.method !== 'PUT' || !req.url) return false;
  return new URL(req.url, 'http://x').searchParams.get('comp') === 'blocklist';
}

/**
 * Starts the proxy on a free port of 127.0.0.1 in front of `target` (an http URL; its path is kept
 * in {@link FaultProxy.url} so the same account path works through the proxy).
 * @throws RangeError when rate is outside 0..1 or kinds is empty */
export async function startFaultProxy(target: string, options: FaultProxyOptions): Promise<FaultProxy> {
  const targetUrl = new URL(target);
  if (targetUrl.protocol !== 'http:') throw new RangeError(`fault proxy target must be http:, got ${targetUrl.protocol}`);
  let rate = checkRate(options.rate);
  const kinds = options.kinds ?? ['503', 'reset'];
  if (kinds.length === 0) throw new RangeError('kinds must name at least one fault kind');
  const random = seededRandom(options.seed ?? 1);
  const stats: FaultProxyStats = { requests: 0, matched: 0, failed: 0, failed503: 0, failedReset: 0, forwarded: 0, maxConcurrentMatched: 0 };
  let openMatched = 0;
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    stats.requests++;
    const matched = options.match ? options.match(req) : true;
    if (matched) {
      stats.matched++;
      openMatched++;
      stats.maxConcurrentMatched = Math.max(stats.maxConcurrentMatched, openMatched);
      let counted = true;
      const done = () => { if (counted) { counted = false; openMatched--; } };
      res.once('finish', done);
      res.once('close', done);
    }
    // Draw for every matching request, so the sequence of decisions depends only on the seed and order.
    if (matched && random() < rate) {
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      stats.failed++;
      if (kind === 'reset') {
        stats.failedReset++;
        // Read part of the body first, as a connection dropped mid-upload would.
        req.once('data', () => req.socket.destroy());
        req.once('end', () => req.socket.destroy());
        return;
      }
      stats.failed503++;
      req.resume();
      req.once('end', () => {
        const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
          + '<Message>The server is busy (injected by the Outport fault proxy).</Message></Error>';
        res.writeHead(503, { 'content-type': 'application/xml', 'x-ms-error-code': 'ServerBusy', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }
    stats.forwarded++;
    const upstream = http.request({
      host: targetUrl.hostname,
      port: targetUrl.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: targetUrl.host },
      agent,
    }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const pathPart = targetUrl.pathname === '/' ? '' : targetUrl.pathname.replace(/\/$/, '');
  return {
    url: `http://127.0.0.1:${port}${pathPart}`,
    port,
    stats,
    setRate(r: number) { rate = checkRate(r); },
    stop() {
      return new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      });
    },
  };
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate must be within 0..1, got ${rate}`);
  return rate;
}
