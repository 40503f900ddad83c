/**
 * How the writer drives its PstSink (pst/sink.ts contract, ndb/write-ndb.ts): appends are made one
 * at a time and in order, the writer goes on encoding while an append runs (at most two outstanding),
 * the header is rewritten only after every append has resolved, and a failed append fails the part
 * without an unhandled rejection and without a call to the sink after it was released.
 */
import { newMapiItem, PropertyBag, type MapiItem } from '../../worker-service/src/mapi/item';
import { TAG } from '../../worker-service/src/mapi/tags';
import { checkPstSource } from '../../worker-service/src/pst/check';
import { MemoryPstSink, type PstSink } from '../../worker-service/src/pst/sink';
import { PstWriter, PstWriterError, isPartFailure } from '../../worker-service/src/pst/writer';
import { BlockSealer, SealError } from '../../worker-service/src/pst/ndb/sealer';

/** A message with a by-value attachment of `bytes` bytes (~bytes of PST). */
function message(n: number, bytes: number): MapiItem {
  const it = newMapiItem();
  it.properties.setTag(TAG.PidTagMessageClass, 'IPM.Note').setTag(TAG.PidTagSubject, `message ${n}`).setTag(TAG.PidTagBody, `body ${n}`);
  const data = Uint8Array.from({ length: bytes }, (_, i) => (i * 31 + n) & 0xff);
  it.attachments.push({ properties: new PropertyBag().setTag(TAG.PidTagAttachMethod, 1).setTag(TAG.PidTagAttachLongFilename, `${n}.bin`).setTag(TAG.PidTagAttachDataBinary, data) });
  return it;
}

/**
 * Adds messages of `bytes` bytes to the Inbox until one fails (at most `max`).
 * @returns the failure (undefined if none) and how many messages were tried (the next number to use)
 */
async function addUntilFailure(w: PstWriter, max: number, bytes: number): Promise<{ failure: unknown; n: number }> {
  let n = 0;
  for (; n < max; n++) {
    try {
      await w.addItem([{ displayName: 'Inbox' }], message(n, bytes));
    } catch (err) {
      return { failure: err, n: n + 1 };
    }
  }
  return { failure: undefined, n };
}

/** A MemoryPstSink whose appends take `delayMs` and which records how it was called. */
class SlowSink implements PstSink {
  readonly inner = new MemoryPstSink();
  calls: string[] = [];
  running = 0;
  maxRunning = 0;
  /** Appends started but not resolved when addItem last resolved (the writer went on meanwhile). */
  outstandingSeen = 0;
  released = false;
  callsAfterRelease = 0;
  constructor(
    private readonly delayMs: number,
    private readonly failAt = -1,
  ) {}
  private async enter(what: string, fn: () => Promise<void>): Promise<void> {
    if (this.released) this.callsAfterRelease++;
    this.calls.push(what);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      await new Promise((r) => setTimeout(r, this.delayMs));
      await fn();
    } finally {
      this.running--;
    }
  }
  async append(b: Uint8Array): Promise<void> {
    const index = this.calls.filter((c) => c === 'append').length;
    await this.enter('append', async () => {
      if (index === this.failAt) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      await this.inner.append(b);
    });
  }
  async writeAt(o: number, b: Uint8Array): Promise<void> {
    await this.enter('writeAt', () => this.inner.writeAt(o, b));
  }
  async close(): Promise<void> {
    if (this.released) this.callsAfterRelease++;
    this.calls.push('close');
    this.released = true;
  }
  async abort(): Promise<void> {
    this.calls.push('abort');
    this.released = true;
  }
}

describe('the writer and its sink', () => {
  it('appends one at a time, keeps encoding while an append runs, and rewrites the header last: the same bytes as an immediate sink', async () => {
    const slow = new SlowSink(15);
    const fast = new MemoryPstSink();
    const key = () => new Uint8Array(16).fill(7);
    const ws = PstWriter.open({ partName: 'same.pst', recordKey: key, openSink: async () => slow });
    const wf = PstWriter.open({ partName: 'same.pst', recordKey: key, openSink: async () => fast });
    for (let n = 0; n < 24; n++) {
      await ws.addItem([{ displayName: 'Inbox' }], message(n, 90_000));
      slow.outstandingSeen = Math.max(slow.outstandingSeen, slow.running);
      await wf.addItem([{ displayName: 'Inbox' }], message(n, 90_000));
    }
    await ws.close();
    await wf.close();
    expect(slow.maxRunning).toBe(1);
    expect(slow.outstandingSeen).toBeGreaterThanOrEqual(1);
    expect(slow.calls.slice(-2)).toEqual(['writeAt', 'close']);
    expect(slow.calls.filter((c) => c === 'append').length).toBeGreaterThan(8);
    const bytes = slow.inner.bytes();
    expect(bytes.equals(fast.bytes())).toBe(true);
    const report = await checkPstSource(bytes);
    expect(report.findings).toEqual([]);
  });

  it('fails the part when an append fails: the error reaches the caller, nothing is left unhandled, the sink is not called after abort', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const sink = new SlowSink(5, 3);
      const w = PstWriter.open({ partName: 'full.pst', openSink: async () => sink });
      let failure: unknown;
      try {
        for (let n = 0; n < 40; n++) await w.addItem([{ displayName: 'Inbox' }], message(n, 90_000));
        await w.close();
      } catch (err) {
        failure = err;
      }
      expect(String(failure)).toMatch(/ENOSPC/);
      // the part is broken: a part failure (not the item's), and every later write throws it again
      expect(isPartFailure(failure)).toBe(true);
      await expect(w.addItem([{ displayName: 'Inbox' }], message(99, 90_000))).rejects.toBe(failure);
      await w.abort();
      expect(sink.calls).toContain('abort');
      expect(sink.calls).not.toContain('writeAt');
      expect(sink.running).toBe(0);
      expect(sink.callsAfterRelease).toBe(0);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a sink that rejects with a value that is not an Error still breaks the part: an OutputFailed part failure naming the value, thrown again by every later call', async () => {
    class StringRejectingSink extends MemoryPstSink {
      appends = 0;
      override async append(b: Uint8Array): Promise<void> {
        if (++this.appends === 3) throw 'disk detached'; // eslint-disable-line @typescript-eslint/only-throw-error
        await super.append(b);
      }
    }
    const w = PstWriter.open({ partName: 'string.pst', openSink: async () => new StringRejectingSink() });
    const { failure } = await addUntilFailure(w, 40, 90_000);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe('OutputFailed');
    expect(String(failure)).toMatch(/disk detached/);
    expect(isPartFailure(failure)).toBe(true);
    await expect(w.addItem([{ displayName: 'Inbox' }], message(99, 90_000))).rejects.toBe(failure);
    await expect(w.close()).rejects.toBe(failure);
    await w.abort();
  });

  it('abandoning a part while it closes: the running append is waited for, nothing reaches the sink afterwards, close fails', async () => {
    const sink = new SlowSink(30);
    const w = PstWriter.open({ partName: 'race.pst', openSink: async () => sink });
    for (let n = 0; n < 12; n++) await w.addItem([{ displayName: 'Inbox' }], message(n, 90_000));
    const closing = w.close();
    closing.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10)); // close is now waiting on an append
    await w.abort();
    expect(sink.running).toBe(0);
    await expect(closing).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.callsAfterRelease).toBe(0);
    expect(sink.calls).not.toContain('writeAt');
  });

  it('a sealing failure breaks the part, not one item: isPartFailure, and later writes throw the same error', async () => {
    const spy = jest.spyOn(BlockSealer, 'shared').mockReturnValue({ seal: () => Promise.reject(new SealError('the sealing thread failed: simulated')) } as unknown as BlockSealer);
    try {
      const w = PstWriter.open({ partName: 'seal-fail.pst', openSink: async () => new MemoryPstSink() });
      const { failure, n } = await addUntilFailure(w, 60, 90_000);
      expect(failure).toBeInstanceOf(SealError);
      expect(isPartFailure(failure)).toBe(true);
      // not the NotReady cascade of an item left half laid out: the same error again
      const again = await w.addItem([{ displayName: 'Inbox' }], message(n, 10)).then(() => undefined, (e: unknown) => e);
      expect(again).toBe(failure);
      expect(again).not.toBeInstanceOf(PstWriterError);
      await expect(w.close()).rejects.toBe(failure);
      await w.abort();
    } finally {
      spy.mockRestore();
    }
  });

  it('abandoning a part while its header is being rewritten: close fails instead of reporting the part written', async () => {
    const sink = new SlowSink(40);
    const w = PstWriter.open({ partName: 'header-race.pst', openSink: async () => sink });
    for (let n = 0; n < 3; n++) await w.addItem([{ displayName: 'Inbox' }], message(n, 50_000));
    const closing = w.close();
    closing.catch(() => undefined);
    for (let i = 0; i < 200 && !sink.calls.includes('writeAt'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(sink.calls).toContain('writeAt');
    await w.abort(); // while writeAt runs
    expect(sink.running).toBe(0);
    await expect(closing).rejects.toThrow(/abandoned/);
    await new Promise((r) => setTimeout(r, 60));
    expect(sink.callsAfterRelease).toBe(0);
    expect(sink.calls).not.toContain('close');
  });

  it('a part that cannot be finished when the writer moves to the next one breaks the writer: later calls throw the same error', async () => {
    let part = 0;
    // part 1's sink fails its 6th append: while part 1 is being closed at the split
    const w = PstWriter.open({
      partName: 'split-fail.pst',
      splitSizeBytes: 2 * 1024 * 1024,
      openSink: async () => new SlowSink(1, part++ === 0 ? 5 : -1),
    });
    const { failure, n } = await addUntilFailure(w, 40, 200_000);
    expect(String(failure)).toMatch(/ENOSPC/);
    expect(isPartFailure(failure)).toBe(true);
    await expect(w.ensureFolder([{ displayName: 'Other' }])).rejects.toBe(failure);
    await expect(w.addItem([{ displayName: 'Inbox' }], message(n, 10))).rejects.toBe(failure);
    await expect(w.close()).rejects.toBe(failure);
    await w.abort();
  });
});
