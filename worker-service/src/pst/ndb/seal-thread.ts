/**
 * The sealing thread (ndb/sealer.ts): receives AMap intervals with their seal lists, seals them
 * (ndb/seal-blocks.ts) and sends them back, transferring the buffers both ways (no copy).
 */
import { parentPort } from 'node:worker_threads';
import { sealBlocks } from './seal-blocks';

/** A job: the interval's bytes, its seal list and the number of entries. */
export interface SealRequest { id: number; buf: ArrayBuffer; list: ArrayBuffer; count: number }
/** The answer: the same buffers, sealed, or the error. */
export interface SealReply { id: number; buf: ArrayBuffer; list: ArrayBuffer; error?: string }

parentPort?.on('message', (m: SealRequest) => {
  let error: string | undefined;
  try {
    sealBlocks(new Uint8Array(m.buf), new Int32Array(m.list), m.count);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const reply: SealReply = { id: m.id, buf: m.buf, list: m.list, ...(error ? { error } : {}) };
  parentPort!.postMessage(reply, [m.buf, m.list]);
});
