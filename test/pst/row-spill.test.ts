/**
 * messaging/row-spill.ts: contents-table rows kept in bounded memory and read back per table, in
 * insertion order, from memory and from the spill file (through its read-ahead window, and on their
 * own when a row is larger than the window).
 */
import { RowSpill, SpilledRows } from '../../worker-service/src/pst/messaging/row-spill';

/** Row `n` of table `t`: deterministic bytes of a length that varies (a few bytes up to ~1.2 MiB for some). */
function rowBytes(t: number, n: number): Uint8Array {
  const len = n % 400 === 5 ? 1_200_000 + n : 3 + ((n * 37 + t * 11) % 700);
  return Buffer.alloc(len, Buffer.from([t, n & 0xff, n >> 8, len & 0xff, 0x5a]));
}

describe('RowSpill', () => {
  it.each([
    ['all in memory', 64 << 20],
    ['mostly spilled (64 KiB in memory)', 64 << 10],
  ])('gives every table its rows back in order: %s', (_name, limit) => {
    const spill = new RowSpill(limit);
    const tables = [new SpilledRows(), new SpilledRows(), new SpilledRows()];
    const counts = [0, 0, 0];
    try {
      // tables interleaved unevenly, as folders receive items
      for (let k = 0; k < 6000; k++) {
        const t = k % 7 === 0 ? 2 : k % 3 === 0 ? 1 : 0;
        const n = counts[t]++;
        spill.add(tables[t], { rowId: t * 100000 + n, rowVersion: n, packed: rowBytes(t, n) });
      }
      tables.forEach((table, t) => {
        let n = 0;
        for (const row of spill.rows(table)) {
          expect(row.rowId).toBe(t * 100000 + n);
          expect(row.rowVersion).toBe(n);
          const want = rowBytes(t, n);
          if (row.packed.length !== want.length || !Buffer.from(row.packed).equals(Buffer.from(want))) throw new Error(`table ${t} row ${n}: bytes differ`);
          n++;
        }
        expect(n).toBe(counts[t]);
      });
    } finally {
      spill.dispose();
    }
  });
});
