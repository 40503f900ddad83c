/**
 * Fuzzes the PST reader with random and mutated inputs made from the sample PSTs.
 *
 *   npm run fuzz:pst -- [--count 10000] [--seed 1] [--timeout-ms 5000] [--samples DIR]
 *
 * Prints counts by outcome (ok, PstReadError code, crash, timeout); exits 1 on any crash/timeout.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runFuzz } from './fuzz-pst-lib';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const count = Number(opt('--count', '1000'));
  const seed = Number(opt('--seed', String(Date.now() & 0xffff)));
  const timeoutMs = Number(opt('--timeout-ms', '5000'));
  const dir = opt('--samples', path.resolve(__dirname, '../../shared/samples/pst'));
  const bases = readdirSync(dir).filter((f) => f.endsWith('.pst')).map((f) => new Uint8Array(readFileSync(path.join(dir, f))));
  if (!bases.length) throw new Error(`no .pst files in ${dir}`);
  const started = Date.now();
  let bad = 0;
  const counts = await runFuzz(bases, count, seed, timeoutMs, (how, err) => { bad++; console.error(`CRASH/HANG ${how}:`, err); });
  console.log(`fuzz-pst: ${count} inputs from ${bases.length} samples, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [k, v] of [...counts.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)} ${v}`);
  process.exit(bad ? 1 : 0);
}

main().catch((err) => { console.error(err); process.exit(2); });
