/**
 * The per-mailbox gate on its own: concurrency, the sliding request budget, FIFO fairness,
 * pauses, aborts, multi-key acquisition; then a property-based run of random operations (fast-check)
 * checking the invariants after every step.
 */
import fc from 'fast-check';
import { GateLease, mailboxKeyOf, MailboxGate, batchMailboxCosts } from '../../worker-service/src/graph';

const FAKE = { doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] } as const;
beforeEach(() => jest.useFakeTimers({ doNotFake: [...FAKE.doNotFake] }));
afterEach(() => jest.useRealTimers());
const flush = () => jest.advanceTimersByTimeAsync(0);

describe('mailboxKeyOf', () => {
  it.each([
    ['https://graph.microsoft.com/v1.0/users/Alice@Contoso.com/messages?$top=5', 'user:alice@contoso.com'],
    ["/v1.0/users('Alice%40contoso.com')/mailFolders", 'user:alice@contoso.com'],
    ['/v1.0/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/settings/exchange', 'user:87d349ed-44d7-43e1-9a83-5f2406dee5bd'],
    ['https://graph.microsoft.com/beta/admin/exchange/mailboxes/MBX:e0643f21@a7809c93/folders', 'mailbox:mbx:e0643f21@a7809c93'],
    ['https://graph.microsoft.com/beta/admin/Exchange/Mailboxes/MBX:E0643F21@A7809C93/folders/x/items', 'mailbox:mbx:e0643f21@a7809c93'],
    ['/v1.0/admin/exchange/mailboxes/MBX:x@t/exportItems', 'mailbox:mbx:x@t'],
    ['http://127.0.0.1:4010/graph/v1.0/users/u1/messages', 'user:u1'],
  ])('%s → %s', (url, key) => expect(mailboxKeyOf(url)).toBe(key));

  it.each(['/v1.0/users', '/v1.0/users?$search="displayName:wa"', '/v1.0/users/u1', '/v1.0/me/messages', '/v1.0/$batch', 'https://graph.microsoft.com/v1.0/groups/g/members'])('%s → none', (url) => {
    expect(mailboxKeyOf(url)).toBeUndefined();
  });

  it('batch costs count inner requests per mailbox', () => {
    const body = JSON.stringify({ requests: [
      { id: '1', method: 'GET', url: '/users/a/messages' }, { id: '2', method: 'GET', url: 'users/A/events' },
      { id: '3', method: 'GET', url: '/admin/exchange/mailboxes/MBX:x@t/folders' }, { id: '4', method: 'GET', url: '/users' },
    ] });
    expect([...batchMailboxCosts(body)]).toEqual([['user:a', 2], ['mailbox:mbx:x@t', 1]]);
    expect(batchMailboxCosts('not json').size).toBe(0);
  });
});

describe('MailboxGate', () => {
  it('holds the 5th request for a mailbox until one of 4 is released; other mailboxes go', async () => {
    const gate = new MailboxGate();
    const leases = await Promise.all([1, 2, 3, 4].map(() => gate.acquire('a')));
    let fifth: GateLease | undefined;
    void gate.acquire('a').then((l) => { fifth = l; });
    await expect(gate.acquire('b')).resolves.toBeDefined();
    await flush();
    expect(fifth).toBeUndefined();
    expect(gate.stats('a')).toMatchObject({ inFlight: 4, waiting: 1 });
    leases[0].release();
    leases[0].release(); // idempotent
    await flush();
    expect(fifth).toBeDefined();
    expect(gate.stats('a')).toMatchObject({ inFlight: 4, waiting: 0 });
  });

  it('serves waiters first come, first served (a costly head is not overtaken)', async () => {
    const gate = new MailboxGate({ maxConcurrent: 10, maxRequestsPerWindow: 5, windowMs: 1000 });
    const order: string[] = [];
    await gate.acquire('a', 4);
    void gate.acquire('a', 3).then(() => order.push('big'));
    void gate.acquire('a', 1).then(() => order.push('small')); // fits the budget, but waits its turn
    await flush();
    expect(order).toEqual([]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(order).toEqual(['big', 'small']);
  });

  it('never lets more than the budget start in any window (tokens come back one window after use)', async () => {
    const gate = new MailboxGate({ maxConcurrent: 100, maxRequestsPerWindow: 3, windowMs: 1000 });
    const starts: number[] = [];
    const t0 = Date.now();
    await gate.acquire('a'); starts.push(Date.now() - t0);
    await jest.advanceTimersByTimeAsync(400);
    await gate.acquire('a'); await gate.acquire('a'); starts.push(Date.now() - t0, Date.now() - t0);
    const more = [gate.acquire('a'), gate.acquire('a'), gate.acquire('a')].map((p) => p.then(() => starts.push(Date.now() - t0)));
    await jest.advanceTimersByTimeAsync(3000);
    await Promise.all(more);
    expect(starts).toEqual([0, 400, 400, 1000, 1400, 1400]);
    expect(gate.stats('a').usedInWindow).toBe(0);
  });

  it('a cost above the budget is refused', async () => {
    await expect(new MailboxGate({ maxRequestsPerWindow: 2 }).acquire('a', 3)).rejects.toThrow(RangeError);
  });

  it('abort while waiting rejects with the reason and lets the next waiter go', async () => {
    const gate = new MailboxGate({ maxConcurrent: 1 });
    const held = await gate.acquire('a');
    const ac = new AbortController();
    const aborted = gate.acquire('a', 1, ac.signal).catch((e: unknown) => e);
    let third = false;
    void gate.acquire('a').then(() => { third = true; });
    ac.abort(new Error('stop'));
    expect(((await aborted) as Error).message).toBe('stop');
    held.release();
    await flush();
    expect(third).toBe(true);
  });

  it('pause holds new starts for a mailbox until the time given', async () => {
    const gate = new MailboxGate();
    gate.pause('a', Date.now() + 5000);
    let got = false;
    void gate.acquire('a').then(() => { got = true; });
    await expect(gate.acquire('b')).resolves.toBeDefined();
    await jest.advanceTimersByTimeAsync(4999);
    expect(got).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(got).toBe(true);
  });

  it('acquireAll takes keys in sorted order and releases all; aborting gives back what it held', async () => {
    const gate = new MailboxGate({ maxConcurrent: 1 });
    const both = await gate.acquireAll(new Map([['b', 1], ['a', 1]]));
    expect([gate.stats('a').inFlight, gate.stats('b').inFlight]).toEqual([1, 1]);
    both.release();
    const hold = await gate.acquire('b');
    const ac = new AbortController();
    const p = gate.acquireAll(new Map([['a', 1], ['b', 1]]), ac.signal).catch((e: unknown) => e);
    await flush();
    expect(gate.stats('a').inFlight).toBe(1); // 'a' taken, waiting for 'b'
    ac.abort();
    await p;
    expect(gate.stats('a').inFlight).toBe(0);
    hold.release();
  });

  it('forgets idle mailboxes once their window has passed', async () => {
    const gate = new MailboxGate({ windowMs: 1000 });
    (await gate.acquire('a')).release();
    expect(gate.stats('a').usedInWindow).toBe(1);
    await jest.advanceTimersByTimeAsync(1000);
    (await gate.acquire('b')).release();
    (await gate.acquire('a')).release();
    expect(gate.stats('a').usedInWindow).toBe(1);
    expect((gate as unknown as { keys: Map<string, unknown> }).keys.size).toBe(2);
  });
});

type Op =
  | { kind: 'acquire'; key: number; cost: number }
  | { kind: 'release'; pick: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'advance'; ms: number };

describe('MailboxGate aliases', () => {
  it('a user\'s REST key aliased to its primary mailbox shares the 4 places, pauses and batch costs', async () => {
    const gate = new MailboxGate({ maxConcurrent: 4 });
    const u = mailboxKeyOf('/v1.0/users/megan@contoso.com/messages')!;
    const m = mailboxKeyOf('/v1.0/admin/exchange/mailboxes/MBX:p1@t/exportItems')!;
    gate.alias(u, m);
    expect(gate.canonicalKey(u)).toBe(m);
    const held: GateLease[] = [];
    for (const k of [u, m, u, m]) held.push(await gate.acquire(k));
    let fifth = false;
    const p = gate.acquire(u).then((l) => { fifth = true; return l; });
    await flush();
    expect(fifth).toBe(false);
    expect(gate.stats(u)).toMatchObject({ inFlight: 4, waiting: 1 });
    held[1].release();
    held.push(await p);
    expect(fifth).toBe(true);
    for (const l of held) l.release();
    // A batch touching both keys takes one place with both costs summed.
    const lease = await gate.acquireAll(new Map([[u, 2], [m, 3]]));
    expect(gate.stats(m)).toMatchObject({ inFlight: 1, usedInWindow: 5 + 5 });
    lease.release();
    gate.pause(u, gate.nowMs() + 1000);
    expect(gate.stats(m).pausedUntilMs).toBeGreaterThan(0);
    expect(() => gate.alias(m, m)).toThrow(RangeError);
  });
});

describe('MailboxGate properties', () => {
  it('in flight ≤ max, FIFO per key, ≤ budget per window, and every live waiter is served in the end', async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), key: fc.nat(2), cost: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 400 }) }),
    );
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 3, max: 8 }), fc.integer({ min: 50, max: 500 }), fc.array(op, { maxLength: 60 }),
      async (maxConcurrent, budget, windowMs, ops) => {
        const gate = new MailboxGate({ maxConcurrent, maxRequestsPerWindow: budget, windowMs });
        interface Req { id: number; key: string; cost: number; ac: AbortController; lease?: GateLease; grantedAt?: number; aborted?: boolean; released?: boolean }
        const reqs: Req[] = [];
        const grants: Req[] = [];
        const check = (): void => {
          for (const k of ['k0', 'k1', 'k2']) {
            const held = reqs.filter((r) => r.key === k && r.lease && !r.released).length;
            expect(held).toBeLessThanOrEqual(maxConcurrent);
            expect(gate.stats(k).inFlight).toBe(held);
            const g = grants.filter((r) => r.key === k);
            // FIFO: grants in request order
            expect(g.map((r) => r.id)).toEqual([...g].sort((a, b) => a.id - b.id).map((r) => r.id));
            // budget: sum of costs starting within any window ≤ budget
            for (const r of g) {
              const sum = g.filter((x) => x.grantedAt! > r.grantedAt! - windowMs && x.grantedAt! <= r.grantedAt!).reduce((s, x) => s + x.cost, 0);
              expect(sum).toBeLessThanOrEqual(budget);
            }
          }
        };
        for (const o of ops) {
          if (o.kind === 'acquire') {
            const r: Req = { id: reqs.length, key: `k${o.key}`, cost: o.cost, ac: new AbortController() };
            reqs.push(r);
            gate.acquire(r.key, r.cost, r.ac.signal).then(
              (l) => { r.lease = l; r.grantedAt = Date.now(); grants.push(r); },
              () => { r.aborted = true; },
            );
          } else if (o.kind === 'release') {
            const held = reqs.filter((r) => r.lease && !r.released);
            if (held.length) { const r = held[o.pick % held.length]; r.released = true; r.lease!.release(); }
          } else if (o.kind === 'abort') {
            const waiting = reqs.filter((r) => !r.lease && !r.aborted);
            if (waiting.length) waiting[o.pick % waiting.length].ac.abort();
          } else {
            await jest.advanceTimersByTimeAsync(o.ms);
          }
          await flush();
          check();
        }
        // Liveness: release as things are granted until everyone not aborted has been served.
        for (let i = 0; i < reqs.length * 2 + 2; i++) {
          for (const r of reqs) if (r.lease && !r.released) { r.released = true; r.lease.release(); }
          await jest.advanceTimersByTimeAsync(windowMs);
          check();
        }
        expect(reqs.every((r) => r.aborted || r.lease)).toBe(true);
      },
    ), { numRuns: 150 });
  });
});
