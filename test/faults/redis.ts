/**
 * Redis for the tests: whether the machine's Redis (127.0.0.1:6379, as on CI) answers, a unique key
 * prefix per run with its cleanup, and private redis-server processes on free ports (for restarts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';

/** The shared Redis of this machine and CI. */
export const REDIS_URL = process.env.OUTPORT_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** [] when `url`'s Redis accepts a TCP connection within 2 s, else a one-element list naming it (for describeWhenAvailable). */
export function redisMissing(url = REDIS_URL): string[] {
  const u = new URL(url);
  const probe = spawnSync(process.execPath, ['-e',
    `const s=require('net').connect(${Number(u.port || 6379)},${JSON.stringify(u.hostname)});s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),2000)`],
  { timeout: 5000 });
  return probe.status === 0 ? [] : [`Redis at ${url}`];
}

/** [] when the redis-server binary runs, else a one-element list naming it. */
export function redisServerMissing(): string[] {
  const r = spawnSync('redis-server', ['--version'], { timeout: 5000 });
  return r.status === 0 ? [] : ['redis-server (apt-get install redis-server)'];
}

/** A key prefix unique to this run. */
export function testPrefix(what: string): string {
  return `outport-test-${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new IORedis(url, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Every value under `prefix`, read by type (strings, hashes, sets, sorted sets, lists, streams) into one buffer. */
export async function prefixBytes(url: string, prefix: string): Promise<Buffer> {
  const r = new IORedis(url, { maxRetriesPerRequest: 3 });
  const out: Buffer[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) {
        out.push(Buffer.from(k));
        const type = await r.type(k);
        if (type === 'string') out.push((await r.getBuffer(k)) ?? Buffer.alloc(0));
        else if (type === 'hash') out.push(...Object.entries(await r.hgetallBuffer(k)).flatMap(([f, v]) => [Buffer.from(f), v]));
        else if (type === 'set') out.push(...(await r.smembersBuffer(k)));
        else if (type === 'zset') out.push(...(await r.zrangeBuffer(k, 0, -1)));
        else if (type === 'list') out.push(...(await r.lrangeBuffer(k, 0, -1)));
        else if (type === 'stream') out.push(Buffer.from(JSON.stringify(await r.xrange(k, '-', '+'))));
      }
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return Buffer.concat(out);
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A private redis-server (append-only file in a temp dir, so a restart keeps the data). */
export interface RedisServer {
  url: string;
  port: number;
  /** The running redis-server's process id (a new one after restart). */
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM: the AOF is flushed) and starts it again on the same port and data. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port with `appendonly yes`, `appendfsync always`, no RDB snapshots. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'outport-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', dir, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(true); });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stopChild = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGTERM'); });
  };
  await start();
  const onExit = () => { try { child?.kill('SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() { return child?.pid; },
    async restart(downMs = 1000) {
      await stopChild();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    async stop() {
      await stopChild();
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
