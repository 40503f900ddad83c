/**
 * Statistics of a project as JSON (docs/api.md `{value: ItemStatistics[], totals}`) and as CSV
 * (RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF quoted, quotes doubled). Cells
 * that a spreadsheet would run as a formula — starting with `=`, `+`, `-`, `@`, tab or CR — are
 * prefixed with `'` (OWASP "CSV Injection"). Numbers are written as numbers, so a negative count
 * cannot occur and needs no prefix.
 */
import type { ItemStatistics, StatisticsTotals } from './contract';

/** Columns of the statistics CSV, in order. */
export const STATISTICS_CSV_COLUMNS = [
  'itemId', 'source', 'mailbox', 'state', 'itemsExported', 'bytesExported', 'errors', 'parts', 'passes',
  'fidelityFull', 'fidelityRest', 'startedAt', 'finishedAt', 'durationSeconds',
] as const;

/** Characters that make a spreadsheet cell a formula (or a DDE call) when first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-neutralised text, quoted when needed. Numbers pass as they are. */
export function csvCell(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = value;
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The statistics as CSV text: a header line, one line per item, CRLF line ends. */
export function statisticsCsv(value: readonly ItemStatistics[]): string {
  const lines = [STATISTICS_CSV_COLUMNS.join(',')];
  for (const s of value) {
    lines.push([
      s.itemId, s.source, s.mailbox, s.state, s.itemsExported, s.bytesExported, s.errors, s.parts, s.passes,
      s.fidelity.full, s.fidelity.rest, s.startedAt, s.finishedAt, s.durationSeconds,
    ].map(csvCell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Totals over item statistics (what the store's `statistics().totals` holds, for callers that filter items). */
export function statisticsTotals(value: readonly ItemStatistics[], byState: StatisticsTotals['byState']): StatisticsTotals {
  return {
    items: value.length,
    itemsExported: value.reduce((a, s) => a + s.itemsExported, 0),
    bytesExported: value.reduce((a, s) => a + s.bytesExported, 0),
    errors: value.reduce((a, s) => a + s.errors, 0),
    parts: value.reduce((a, s) => a + s.parts, 0),
    byState,
  };
}
