/**
 * Numbers for people: sizes in binary units (KiB = 1,024 bytes, as Outlook and Windows show PST
 * sizes), rates per second, durations as h/min/s. Pure functions, locale en-US grouping.
 */

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'];

/** "0 bytes", "1.5 MB", "10 GB" (powers of 1,024). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i += 1; }
  if (i === 0) return `${Math.round(v).toLocaleString('en-US')} ${v === 1 ? 'byte' : 'bytes'}`;
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${UNITS[i]}`;
}

/** "1,234". */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** "2 h 05 min", "3 min 20 s", "45 s"; undefined → "—". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(r).padStart(2, '0')} s`;
  return `${r} s`;
}

/** "1.5 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Fraction done 0..1 from items or bytes totals; undefined when no total is known yet. */
export function fractionDone(p: { itemsDone: number; itemsTotal?: number; bytesDone: number; bytesTotal?: number }): number | undefined {
  if (p.bytesTotal && p.bytesTotal > 0) return Math.min(1, p.bytesDone / p.bytesTotal);
  if (p.itemsTotal && p.itemsTotal > 0) return Math.min(1, p.itemsDone / p.itemsTotal);
  return undefined;
}

/** Parses "10 GB", "500MB", "2.5 GiB", "1048576" into bytes (binary units); undefined when unreadable. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|bytes?|b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const pow = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit as 'b' | 'k' | 'm' | 'g' | 't'] ?? 0;
  return Math.round(n * 1024 ** pow);
}
