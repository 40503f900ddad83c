/**
 * IdHashSet (export/id-set.ts): membership of ids kept as 96-bit hashes — the same answers as a
 * Set<string> across growth, and far less memory an id than the strings.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { IdHashSet } from '../../worker-service/src/export/id-set';

test('answers as a Set<string> would, across several doublings; add reports new ids only', () => {
  const s = new IdHashSet(4);
  const ref = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = `AAMkAG${(i * 7919) % 15_000}`; // repeats
    expect(s.add(id)).toBe(!ref.has(id));
    ref.add(id);
  }
  expect(s.size).toBe(ref.size);
  for (let i = 0; i < 16_000; i++) expect(s.has(`AAMkAG${i}`)).toBe(ref.has(`AAMkAG${i}`));
  expect(s.has('')).toBe(false);
  expect(s.add('')).toBe(true);
  expect(s.has('')).toBe(true);
  expect(s.has('é')).toBe(false);
});

test('memory: at most 48 bytes an id (the table), not the ids', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
  const n = 100_000;
  const before = used();
  const s = new IdHashSet();
  for (let i = 0; i < n; i++) s.add(`AAMkAGI2TG93AAABBBCCC${String(i).padStart(33, '0')}`);
  const perId = (used() - before) / n;
  // eslint-disable-next-line no-console
  console.log(`IdHashSet: ${perId.toFixed(1)} bytes an id over ${n} ids (table ${s.byteLength} bytes)`);
  expect(perId).toBeLessThanOrEqual(48);
  expect(s.size).toBe(n);
});

test('clone: the same ids, then each set grows on its own (through doublings)', () => {
  const a = new IdHashSet(4);
  for (let i = 0; i < 1500; i++) a.add(`id-${i}`);
  const b = a.clone();
  expect(b.size).toBe(1500);
  for (let i = 0; i < 1500; i++) expect(b.has(`id-${i}`)).toBe(true);
  for (let i = 1500; i < 5000; i++) expect(b.add(`id-${i}`)).toBe(true);
  expect(a.add('only-in-a')).toBe(true);
  expect([a.size, b.size]).toEqual([1501, 5000]);
  expect(a.has('id-4000')).toBe(false);
  expect(b.has('only-in-a')).toBe(false);
  for (let i = 0; i < 5000; i++) expect(b.has(`id-${i}`)).toBe(true);
  expect(b.add('id-10')).toBe(false);
});
