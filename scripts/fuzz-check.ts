/**
 * Fuzzes the PST checker with mutated copies of the sample PSTs (bit flips in the structural
 * region or anywhere, truncations, zeroed ranges, swapped pages, random bytes). Each input must end
 * in a report within the time bound: an exception or a timeout is a failure.
 *
 *   node bin/run-ts.js scripts/fuzz-check.ts [--count 10000] [--seed 1] [--timeout-ms 10000] [--samples DIR]
 *
 * Prints the number of inputs, how many came out clean and the most frequent finding codes; exits 1
 * on any exception or timeout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkPstSource } from '../worker-service/src/pst/check';
import { prng } from './fuzz-pst-lib';

export { prng };

/** One mutated copy of `base`. */
export function mutateForCheck(base: Uint8Array, rnd: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rnd() * n);
  const b = base.slice();
  switch (int(6)) {
    case 0: { const n = 1 + int(16); const lim = rnd() < 0.6 ? Math.min(b.length, 0x12000) : b.length; for (let i = 0; i < n; i++) b[int(lim)] ^= 1 << int(8); return { bytes: b, how: `flip ${n}` }; }
    case 1: { const len = int(b.length); return { bytes: b.slice(0, len), how: `truncate ${len}` }; }
    case 2: { const at = int(b.length), len = 1 + int(4096); b.fill(0, at, Math.min(b.length, at + len)); return { bytes: b, how: `zero ${at}+${len}` }; }
    case 3: { const pages = Math.floor(b.length / 512), p = int(pages), q = int(pages); const t = b.slice(p * 512, p * 512 + 512); b.copyWithin(p * 512, q * 512, q * 512 + 512); b.set(t, q * 512); return { bytes: b, how: `swap pages ${p} ${q}` }; }
    case 4: { const at = int(b.length), n = 1 + int(8); for (let i = 0; i < n && at + i < b.length; i++) b[at + i] = int(256); return { bytes: b, how: `random bytes at ${at}` }; }
    default: { const r = new Uint8Array(int(70000)); for (let i = 0; i < r.length; i++) r[i] = int(256); if (r.length > 4) r.set([0x21, 0x42, 0x44, 0x4e]); return { bytes: r, how: 'random file' }; }
  }
}

/** Runs `count` inputs; returns counts by outcome and the failures. */
export async function runCheckFuzz(bases: Uint8Array[], count: number, seed: number, timeoutMs: number): Promise<{ clean: number; codes: Map<string, number>; failures: string[] }> {
  const rnd = prng(seed);
  const codes = new Map<string, number>();
  const failures: string[] = [];
  let clean = 0;
  for (let i = 0; i < count; i++) {
    const { bytes, how } = mutateForCheck(bases[Math.floor(rnd() * bases.length)], rnd);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('timeout')), timeoutMs);
    try {
      const r = await checkPstSource(bytes, how, { signal: ac.signal, maxFindings: 200 });
      if (r.findings.length === 0) clean++;
      for (const c of new Set(r.findings.map((f) => f.code))) codes.set(c, (codes.get(c) ?? 0) + 1);
    } catch (err) {
      failures.push(`#${i} ${how}: ${(err as Error).stack ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { clean, codes, failures };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const count = Number(opt('--count', '1000'));
  const seed = Number(opt('--seed', String(Date.now() & 0xffff)));
  const timeoutMs = Number(opt('--timeout-ms', '10000'));
  const dir = opt('--samples', path.resolve(__dirname, '../../shared/samples/pst'));
  const bases = readdirSync(dir).filter((f) => f.endsWith('.pst')).map((f) => new Uint8Array(readFileSync(path.join(dir, f))));
  const started = Date.now();
  const { clean, codes, failures } = await runCheckFuzz(bases, count, seed, timeoutMs);
  console.log(`fuzz-check: ${count} inputs, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s, ${clean} clean, ${failures.length} failures`);
  for (const [k, v] of [...codes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${k.padEnd(32)} ${v}`);
  for (const f of failures.slice(0, 10)) console.error(f);
  process.exit(failures.length ? 1 : 0);
}

if (/fuzz-check\.ts$/.test(process.argv[1] ?? '')) main().catch((err) => { console.error(err); process.exit(2); });
