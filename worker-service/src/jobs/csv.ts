/**
 * Bulk add from CSV (issue 4 part 3; docs/api.md `POST …/items/csv`): records `source,destination`
 * with an optional third column `mailbox` (primary | archive | both); the header line is optional;
 * `destination` may be empty (default `<local part>.pst`). Parsed as a stream with csv-parse (RFC
 * 4180 quoting, a UTF-8 BOM dropped), so there is no row cap; addresses compare case-insensitively
 * (exact duplicates dropped); every bad row is reported as {row, field, message}, row = the line
 * number where the record ends (row 1 = first line).
 */
import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
import type { MailboxKind, NewItem, RowError } from './contract';
import { ItemCollector } from './items';

/** Header names accepted in the first column (lowercase, spaces and punctuation removed). */
const SOURCE_HEADERS = new Set(['source', 'sourcesmtp', 'sourceaddress', 'sourceemail', 'sourcemailbox', 'smtp', 'email', 'emailaddress', 'mail', 'mailbox', 'user', 'upn', 'userprincipalname']);

/** What {@link parseItemsCsv} found. */
export interface CsvImport {
  /** Items to add (deduplicated); meaningful only when `errors` is empty (all or nothing). */
  items: NewItem[];
  /** Every bad row; empty when the file is good. A file with no record at all is one error (row 1). */
  errors: RowError[];
  /** Records read, header excluded. */
  records: number;
  /** Whether the first line was taken as a header. */
  header: boolean;
}

/**
 * Parses a CSV of items. Input: the whole text, bytes, or a stream/async iterable of chunks.
 * Malformed CSV (an unclosed quote, a stray quote inside a field) ends the parse with a row error at
 * the line where csv-parse stopped.
 */
export async function parseItemsCsv(input: string | Uint8Array | AsyncIterable<string | Uint8Array>): Promise<CsvImport> {
  const stream = typeof input === 'string' || input instanceof Uint8Array ? Readable.from([Buffer.from(input)]) : Readable.from(input);
  const parser = parse({
    bom: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true,
    // A line whose cells are all empty (",,") is skipped like an empty line.
    skip_records_with_empty_values: true,
  });
  const collector = new ItemCollector();
  const errors: RowError[] = [];
  let records = 0;
  let first = true;
  let header = false;
  stream.on('error', (e) => parser.destroy(e));
  stream.pipe(parser);
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const row = rec.info.lines;
      const cells = rec.record;
      if (first) {
        first = false;
        if (SOURCE_HEADERS.has(norm(cells[0] ?? ''))) { header = true; continue; }
      }
      records++;
      if (cells.length > 3) {
        errors.push({ row, field: 'csv', message: `${cells.length} columns: expected source, destination and optionally mailbox (quote a value that contains a comma)` });
        continue;
      }
      const mailbox = (cells[2] ?? '').toLowerCase();
      if (mailbox !== '' && mailbox !== 'primary' && mailbox !== 'archive' && mailbox !== 'both') {
        errors.push({ row, field: 'mailbox', message: `the third column must be primary, archive or both (got ${JSON.stringify(cells[2])})` });
        continue;
      }
      collector.add({
        source: cells[0] ?? '',
        ...(cells[1] ? { pstName: cells[1] } : {}),
        ...(mailbox ? { mailbox: mailbox as MailboxKind | 'both' } : {}),
      }, row);
    }
  } catch (e) {
    const err = e as { message?: string; lines?: number; code?: string };
    errors.push({ row: err.lines ?? records + 1, field: 'csv', message: `malformed CSV: ${err.message ?? String(e)}` });
  }
  for (const ce of collector.errors) errors.push({ ...ce, field: ce.field === 'pstName' ? 'destination' : ce.field });
  errors.sort((a, b) => a.row - b.row);
  if (records === 0 && errors.length === 0) {
    errors.push({ row: 1, field: 'csv', message: 'the CSV holds no item: one line per mailbox, "source,destination" (e.g. user1@contoso.com,user1.pst)' });
  }
  return { items: collector.items, errors, records, header };
}

function norm(s: string): string {
  return s.toLowerCase().replace(/[\s_.\-()]/g, '');
}
