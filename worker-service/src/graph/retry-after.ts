/**
 * The `Retry-After` header (RFC 9110 10.2.3): delay-seconds or an HTTP-date (RFC 9110 5.6.7).
 * Graph sends seconds, sometimes fractional ("Retry-After: 2.128" in the throttling page's example,
 * learn.microsoft.com/graph/throttling), which RFC 9110 does not allow but we accept.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT` (one-digit days tolerated). */
const IMF_FIXDATE = /^[a-z]{3}, (\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
/** Obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = /^[a-z]+, (\d{1,2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
/** Obsolete asctime: `Sun Nov  6 08:49:37 1994` (always GMT). */
const ASCTIME_DATE = /^[a-z]{3} ([a-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;
const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;

/** Parses an HTTP-date (the three RFC 9110 forms) to epoch milliseconds; undefined when malformed
 *  (including impossible fields such as month "Foo" or hour 25). */
export function parseHttpDate(value: string): number | undefined {
  const s = value.trim();
  let day: string, mon: string, year: number, hh: string, mm: string, ss: string;
  let m = IMF_FIXDATE.exec(s);
  if (m) { [, day, mon, , hh, mm, ss] = m as unknown as string[]; year = Number(m[3]); }
  else if ((m = RFC850_DATE.exec(s))) {
    [, day, mon, , hh, mm, ss] = m as unknown as string[];
    // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
    const yy = Number(m[3]);
    const nowYear = new Date().getUTCFullYear();
    year = 2000 + yy > nowYear + 50 ? 1900 + yy : 2000 + yy;
  } else if ((m = ASCTIME_DATE.exec(s))) {
    [, mon, day, hh, mm, ss] = m as unknown as string[];
    year = Number(m[6]);
  } else return undefined;
  const month = MONTHS.indexOf(mon.toLowerCase());
  const d = Number(day), h = Number(hh), mi = Number(mm), se = Number(ss);
  if (month < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  const ms = Date.UTC(year, month, d, h, mi, Math.min(se, 59));
  // Reject 31 Feb and the like: Date.UTC rolls them over into the next month.
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return ms;
}

/**
 * The wait a `Retry-After` value asks for, in milliseconds from `nowMs`.
 * @param value  the header value (null/undefined when absent)
 * @param nowMs  the current time (epoch ms), used for HTTP-dates
 * @returns ms ≥ 0 (seconds are rounded up to whole ms; a date in the past gives 0), or undefined
 *          when the header is absent or malformed (the caller then backs off on its own)
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const s = value.trim();
  if (s === '') return undefined;
  if (DELAY_SECONDS.test(s)) {
    const ms = Math.ceil(Number(s) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const at = parseHttpDate(s);
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}
