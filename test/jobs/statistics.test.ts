/** Statistics CSV (jobs/statistics.ts): RFC 4180 quoting and formula-injection neutralising. */
import { csvCell, statisticsCsv, STATISTICS_CSV_COLUMNS } from '../../worker-service/src/jobs/statistics';
import { parse } from 'csv-parse/sync';

describe('statistics CSV', () => {
  test.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"], ['-2+3', "'-2+3"], ['@SUM(A1)', "'@SUM(A1)"], ['\tx', "'\tx"], ['\rx', `"'\rx"`],
    ['a,b', '"a,b"'], ['say "hi"', '"say ""hi"""'], ['line\nbreak', '"line\nbreak"'], ['plain@contoso.com', 'plain@contoso.com'],
  ])('cell %j → %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });

  test('numbers as numbers, absent values empty; a file that parses back to the same values', () => {
    const csv = statisticsCsv([{
      itemId: 'i1', source: '=cmd|"/c calc"!A1', mailbox: 'archive', state: 'CompletedWithErrors', itemsExported: 10, bytesExported: 2048,
      errors: 1, parts: 2, passes: 1, fidelity: { full: 9, rest: 1 }, startedAt: '2026-01-01T00:00:00.000Z', durationSeconds: 1.5,
    }]);
    expect(csv.endsWith('\r\n')).toBe(true);
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...STATISTICS_CSV_COLUMNS]);
    expect(rows[0]).toMatchObject({ source: `'=cmd|"/c calc"!A1`, itemsExported: '10', finishedAt: '', durationSeconds: '1.5', fidelityRest: '1' });
  });
});
