/**
 * A process-wide thread that seals AMap intervals (ndb/seal-blocks.ts: permute and CRC of every
 * block) while NdbWriter lays out the next one: on a machine with a spare core the writer's own
 * thread does ~10 % less work per byte. Started on first use and shared by every writer of the
 * process; it ends after IDLE_MS without work (a later writer starts it again), and it keeps the
 * process alive only while a job is out. When its script is missing or a thread cannot be created,
 * writers seal on their own thread ({@link BlockSealer.shared} gives undefined). If a running
 * thread fails, the intervals it holds are lost: their parts fail with a SealError (a part failure,
 * pst/writer.ts isPartFailure), and later intervals are sealed on the writers' own threads.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { threadScript } from '../thread-loader';
import type { SealReply, SealRequest } from './seal-thread';

/** Error of a sealing job (the thread failed or refused the list). */
export class SealError extends Error {
  readonly code = 'SealFailed';
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/** A sealed interval: the same bytes and list, as new views (the originals were transferred). */
export interface Sealed {
  buf: Uint8Array;
  list: Int32Array;
}

/** A sealing thread with nothing to do ends after this long (ms). */
const IDLE_MS = 10_000;

let shared: BlockSealer | undefined;
let broken = false;
const counters = { threadsStarted: 0, intervalsSealed: 0 };

/** See the file comment. */
export class BlockSealer {
  private readonly pending = new Map<number, { resolve: (s: Sealed) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private idle?: NodeJS.Timeout;
  private retiring = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: SealReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error) p.reject(new SealError(`sealing an interval failed: ${r.error}`));
      else {
        counters.intervalsSealed++;
        p.resolve({ buf: new Uint8Array(r.buf), list: new Int32Array(r.list) });
      }
      if (this.pending.size === 0) this.rest();
    });
    const fail = (why: string) => {
      if (this.retiring && this.pending.size === 0) return; // ended when idle: not a failure
      broken = true;
      if (shared === this) shared = undefined;
      for (const p of this.pending.values()) p.reject(new SealError(why));
      this.pending.clear();
    };
    worker.on('error', (err) => fail(`the sealing thread failed: ${err.message}`));
    worker.on('exit', (code) => fail(`the sealing thread exited (code ${code})`));
    this.rest();
  }

  /** No job out: let the process exit, and end the thread if nothing comes within IDLE_MS. */
  private rest(): void {
    this.worker.unref();
    this.idle = setTimeout(() => {
      if (this.pending.size > 0) return;
      this.retiring = true;
      if (shared === this) shared = undefined;
      void this.worker.terminate();
    }, IDLE_MS);
    this.idle.unref();
  }

  /** Sealing threads started and intervals they sealed in this process so far (diagnostics, tests). */
  static stats(): { threadsStarted: number; intervalsSealed: number } {
    return { ...counters };
  }

  /** The process's sealer, started on first call; undefined once a thread has failed to start or run. */
  static shared(): BlockSealer | undefined {
    if (shared || broken) return shared;
    try {
      const { file, execArgv } = threadScript(__filename, 'seal-thread');
      // a missing script is reported by the Worker only later, as an 'error' event: check first
      if (!existsSync(file)) throw new Error(`${file} is missing`);
      shared = new BlockSealer(new Worker(file, { execArgv }));
      counters.threadsStarted++;
    } catch {
      broken = true;
    }
    return shared;
  }

  /**
   * Seals `count` entries of `list` over `buf` in the thread. `buf` and `list` must each be the
   * whole of their ArrayBuffer: both are transferred (unusable here) until the promise gives them
   * back as new views. @throws SealError when the thread fails or refuses the list
   */
  seal(buf: Uint8Array, list: Int32Array, count: number): Promise<Sealed> {
    if (buf.byteOffset !== 0 || buf.byteLength !== buf.buffer.byteLength || list.byteOffset !== 0 || list.byteLength !== list.buffer.byteLength) {
      return Promise.reject(new SealError('seal: buffers must be whole ArrayBuffers (they are transferred)'));
    }
    const id = this.nextId++;
    return new Promise<Sealed>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) {
        clearTimeout(this.idle);
        this.worker.ref();
      }
      const req: SealRequest = { id, buf: buf.buffer as ArrayBuffer, list: list.buffer as ArrayBuffer, count };
      this.worker.postMessage(req, [req.buf, req.list]);
    });
  }
}
