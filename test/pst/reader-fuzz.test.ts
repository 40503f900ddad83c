/**
 * Fuzz smoke test of the PST reader: a few hundred mutated samples must each end in success or a
 * PstReadError (no other exception, no timeout). The full run is `npm run fuzz:pst -- --count 10000`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runFuzz } from '../../scripts/fuzz-pst-lib';
import { describeWithShared, SAMPLES_DIR } from './shared-samples';

describeWithShared('PST reader fuzz (mutated ../shared samples)', () => {
  it('300 mutated inputs give only successes and PstReadErrors', async () => {
    const bases = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.pst')).map((f) => new Uint8Array(readFileSync(path.join(SAMPLES_DIR, f))));
    const crashes: string[] = [];
    const counts = await runFuzz(bases, 300, 20261122, 5000, (how, err) => crashes.push(`${how}: ${String(err)}`));
    expect(crashes).toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(300);
  });
});
