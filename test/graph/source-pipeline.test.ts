/**
 * The Graph source's pipeline pieces on their own: `prefetch` (the listing running ahead of the
 * export batches), `isDeltaExpired` (which failures mean "list the folder in full"), `idFilter`.
 */
import { GraphError } from '../../worker-service/src/graph';
import { idFilter, isDeltaExpired, prefetch } from '../../worker-service/src/graph/source';

async function* counted(n: number, pulled: number[], failAt?: number): AsyncGenerator<number, void, undefined> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`boom at ${i}`);
    pulled.push(i);
    await new Promise((r) => setTimeout(r, 1));
    yield i;
  }
}

test('prefetch: values in order, up to `ahead` pulled before the consumer asks, errors in place, early exit returns the source', async () => {
  const pulled: number[] = [];
  const it = prefetch(counted(10, pulled), 3)[Symbol.asyncIterator]();
  expect(await it.next()).toEqual({ value: 0, done: false });
  // The consumer took 1 and waits; the source runs ahead to 3 values pulled, and no further.
  for (let t = 0; pulled.length < 3 && t < 200; t++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  expect(pulled).toEqual([0, 1, 2]);
  const rest: number[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
  expect(rest).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);

  const got: number[] = [];
  await expect((async () => { for await (const v of prefetch(counted(10, [], 4), 3)) got.push(v); })()).rejects.toThrow('boom at 4');
  expect(got).toEqual([0, 1, 2, 3]);

  const pulled2: number[] = [];
  let finalized = false;
  async function* source(): AsyncGenerator<number, void, undefined> {
    try { yield* counted(100, pulled2); } finally { finalized = true; }
  }
  for await (const v of prefetch(source(), 2)) if (v === 1) break;
  expect(finalized).toBe(true);
  expect(pulled2.length).toBeLessThan(6);
});

test('isDeltaExpired: 410, or Graph\'s sync-state codes; other failures are not', () => {
  const e = (statusCode: number, code: string, innerCode?: string) => new GraphError({ code, statusCode, method: 'GET', path: '/x', innerCode });
  expect(isDeltaExpired(e(410, 'SyncStateNotFound'))).toBe(true);
  expect(isDeltaExpired(e(410, 'HttpError'))).toBe(true);
  expect(isDeltaExpired(e(400, 'syncStateInvalid'))).toBe(true);
  expect(isDeltaExpired(e(400, 'BadRequest', 'resyncRequired'))).toBe(true);
  expect(isDeltaExpired(e(404, 'ErrorItemNotFound'))).toBe(false);
  expect(isDeltaExpired(e(429, 'TooManyRequests'))).toBe(false);
  expect(isDeltaExpired(new Error('410'))).toBe(false);
});

test('idFilter: takes wanted ids once, knows when complete, lists the missing in the order given', () => {
  expect(idFilter({})).toBeUndefined();
  const f = idFilter({ onlyItemIds: ['c', 'a', 'b'] })!;
  expect([f.take('a'), f.take('x'), f.complete()]).toEqual([true, false, false]);
  expect(f.missing()).toEqual(['c', 'b']);
  f.take('b');
  f.take('c');
  expect([f.complete(), f.missing()]).toEqual([true, []]);
});
