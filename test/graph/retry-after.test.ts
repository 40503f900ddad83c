/**
 * Retry-After (RFC 9110 10.2.3): delay-seconds (Graph also sends fractions) or an HTTP-date in its
 * three forms; examples, then properties (fast-check).
 */
import fc from 'fast-check';
import { parseHttpDate, parseRetryAfterMs } from '../../worker-service/src/graph';

const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('parseRetryAfterMs', () => {
  it.each([
    ['0', 0], ['3', 3000], [' 10 ', 10_000], ['2.128', 2128], ['0.0001', 1],
    ['Sun, 22 Nov 2026 10:00:05 GMT', 5000], ['Sunday, 22-Nov-26 10:01:00 GMT', 60_000], ['Sun Nov 22 10:00:30 2026', 30_000],
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0], // in the past
  ])('%j → %d ms', (v, ms) => expect(parseRetryAfterMs(v, NOW)).toBe(ms));

  it.each([null, undefined, '', '  ', '-1', '1e3', '+5', 'soon', '5s', '0x10', 'Sun, 31 Feb 2026 10:00:00 GMT', 'Sun, 22 Foo 2026 10:00:00 GMT', 'Sun, 22 Nov 2026 25:00:00 GMT', '22 Nov 2026 10:00:00 GMT'])('%j → undefined', (v) => {
    expect(parseRetryAfterMs(v as string | null | undefined, NOW)).toBeUndefined();
  });
});

describe('properties', () => {
  it('delay-seconds: ceil(s·1000) for integers and decimals', () => {
    fc.assert(fc.property(fc.nat({ max: 10_000_000 }), fc.option(fc.nat({ max: 999 }), { nil: undefined }), (s, frac) => {
      const text = frac === undefined ? String(s) : `${s}.${String(frac).padStart(3, '0')}`;
      expect(parseRetryAfterMs(text, NOW)).toBe(Math.ceil(Number(text) * 1000));
    }));
  });

  it('an IMF-fixdate of any second round-trips (toUTCString) and gives max(0, date − now)', () => {
    fc.assert(fc.property(fc.integer({ min: Date.UTC(1971, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }), fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) }), (sec, now) => {
      const ms = sec * 1000;
      const text = new Date(ms).toUTCString();
      expect(parseHttpDate(text)).toBe(ms);
      expect(parseRetryAfterMs(text, now)).toBe(Math.max(0, ms - now));
    }));
  });

  it('never throws, and any result is a finite, non-negative integer', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.integer(), (s, now) => {
      const r = parseRetryAfterMs(s, now);
      if (r !== undefined) { expect(Number.isInteger(r)).toBe(true); expect(r).toBeGreaterThanOrEqual(0); }
    }), { numRuns: 2000 });
  });
});
