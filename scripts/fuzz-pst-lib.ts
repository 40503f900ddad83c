/**
 * Fuzzing the PST reader: random and mutated inputs (bit flips, truncations, zeroed ranges,
 * swapped pages) through open + walk every folder and item, each with a time bound. A run passes
 * when every input ends in success or a PstReadError: no other exception, no timeout.
 */
import { seededRandom } from '../worker-service/src/sandbox/ids';
import { PstReader, PstReadError } from '../worker-service/src/pst/reader';

/** Outcome counts: "ok", PstReadError codes, "crash:<name>", "timeout". */
export type FuzzCounts = Map<string, number>;

/** A small deterministic PRNG (mulberry32) so runs can be replayed from a seed. */
export const prng = seededRandom;

/** One mutated copy of `base` (or random bytes). Returns the bytes and a description. */
export function mutate(base: Uint8Array, rnd: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rnd() * n);
  const kind = int(7);
  const b = base.slice();
  switch (kind) {
    case 0: { // random flips in the structural region (header, pages) or anywhere
      const n = 1 + int(16);
      const limit = rnd() < 0.5 ? Math.min(b.length, 0x10000) : b.length;
      for (let i = 0; i < n; i++) b[int(limit)] ^= 1 << int(8);
      return { bytes: b, how: `flip ${n}` };
    }
    case 1: { const len = int(b.length); return { bytes: b.slice(0, len), how: `truncate ${len}` }; }
    case 2: { const at = int(b.length), len = 1 + int(4096); b.fill(0, at, Math.min(b.length, at + len)); return { bytes: b, how: `zero ${at}+${len}` }; }
    case 3: { // swap two 512-byte pages
      const pages = Math.floor(b.length / 512);
      const p = int(pages), q = int(pages);
      const tmp = b.slice(p * 512, p * 512 + 512);
      b.copyWithin(p * 512, q * 512, q * 512 + 512);
      b.set(tmp, q * 512);
      return { bytes: b, how: `swap pages ${p},${q}` };
    }
    case 4: { // random byte values at random places
      const n = 1 + int(64);
      for (let i = 0; i < n; i++) b[int(b.length)] = int(256);
      return { bytes: b, how: `set ${n}` };
    }
    case 5: { // 64-byte block copied over another (duplicated structures)
      const blocks = Math.floor(b.length / 64);
      const p = int(blocks), q = int(blocks);
      b.copyWithin(p * 64, q * 64, q * 64 + 64);
      return { bytes: b, how: `copy block ${q}->${p}` };
    }
    default: { // random bytes behind a valid-looking header
      const len = 512 + int(65536);
      const r = new Uint8Array(len);
      for (let i = 0; i < len; i++) r[i] = int(256);
      r.set(base.subarray(0, Math.min(564, len)));
      return { bytes: r, how: `random ${len}` };
    }
  }
}

/** Opens and walks one input: every folder, every item (with recipients, attachments, embedded). */
export async function walkAll(bytes: Uint8Array, verifyCrc: boolean): Promise<void> {
  const reader = await PstReader.openBytes(bytes, { verifyCrc });
  try {
    for await (const f of reader.folders()) for await (const _ of reader.items(f)) { /* read */ }
  } finally {
    await reader.close();
  }
}

/** Runs one input with a time bound; returns the outcome label. */
export async function fuzzOne(bytes: Uint8Array, verifyCrc: boolean, timeoutMs: number): Promise<{ outcome: string; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  try {
    const r = await Promise.race([walkAll(bytes, verifyCrc).then(() => 'ok' as const), timeout]);
    return { outcome: r };
  } catch (err) {
    if (err instanceof PstReadError) return { outcome: err.code };
    return { outcome: `crash:${(err as Error)?.name ?? typeof err}`, error: err };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `count` inputs built from `bases`; half with CRC checks off to reach deeper structures. */
export async function runFuzz(bases: Uint8Array[], count: number, seed: number, timeoutMs: number, onCrash?: (how: string, err: unknown) => void): Promise<FuzzCounts> {
  const rnd = prng(seed);
  const counts: FuzzCounts = new Map();
  for (let i = 0; i < count; i++) {
    const base = bases[Math.floor(rnd() * bases.length)];
    const { bytes, how } = mutate(base, rnd);
    const verifyCrc = rnd() < 0.5;
    const { outcome, error } = await fuzzOne(bytes, verifyCrc, timeoutMs);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    if ((outcome.startsWith('crash') || outcome === 'timeout') && onCrash) onCrash(`#${i} ${how} verifyCrc=${verifyCrc}`, error ?? outcome);
  }
  return counts;
}
