/** Bulk add from CSV (jobs/csv.ts): header optional, case-insensitive dedupe, row-level errors, streams. */
import { Readable } from 'node:stream';
import { parseItemsCsv } from '../../worker-service/src/jobs/csv';

describe('parseItemsCsv', () => {
  test('empty input, only blank lines, only a header → one clear error', async () => {
    for (const text of ['', '\n\n  \n', 'source,destination\n', '\uFEFF']) {
      const r = await parseItemsCsv(text);
      expect(r.items).toEqual([]);
      expect(r.errors).toEqual([{ row: 1, field: 'csv', message: expect.stringMatching(/no item/) }]);
    }
  });

  test('without a header; destination optional (default <local>.pst); third column mailbox', async () => {
    const r = await parseItemsCsv('alice@contoso.com,alice.pst\r\nbob@contoso.com\r\ncarol@contoso.com,,both\r\n');
    expect(r.header).toBe(false);
    expect(r.errors).toEqual([]);
    expect(r.items).toEqual([
      { source: 'alice@contoso.com', mailbox: 'primary', pstName: 'alice.pst' },
      { source: 'bob@contoso.com', mailbox: 'primary', pstName: 'bob.pst' },
      { source: 'carol@contoso.com', mailbox: 'primary', pstName: 'carol.pst' },
      { source: 'carol@contoso.com', mailbox: 'archive', pstName: 'carol-archive.pst' },
    ]);
  });

  test('duplicates: same address in other case dropped; same address with another PST, or a PST twice → row errors', async () => {
    const r = await parseItemsCsv([
      'Source SMTP,Destination PST',
      'Alice@Contoso.com,alice.pst',
      'alice@contoso.COM,ALICE.pst',
      'alice@contoso.com,other.pst',
      'bob@contoso.com,Alice.pst',
    ].join('\n'));
    expect(r.header).toBe(true);
    expect(r.items).toEqual([{ source: 'Alice@Contoso.com', mailbox: 'primary', pstName: 'alice.pst' }]);
    expect(r.errors.map((e) => [e.row, e.field])).toEqual([[4, 'source'], [5, 'destination']]);
    expect(r.errors[0].message).toMatch(/row 2/);
  });

  test('bad rows name the row and the field; quoted commas are one value', async () => {
    const r = await parseItemsCsv([
      'not-an-address,x.pst',
      'a@contoso.com,../x.pst',
      'b@contoso.com,b.txt',
      'c@contoso.com,con.pst',
      '"d@contoso.com","d, the second.pst"',
      'e@contoso.com,e.pst,mailbox-x',
      'f@contoso.com,f.pst,primary,extra',
    ].join('\n'));
    expect(r.errors.map((e) => [e.row, e.field])).toEqual([
      [1, 'source'], [2, 'destination'], [3, 'destination'], [4, 'destination'], [6, 'mailbox'], [7, 'csv'],
    ]);
    expect(r.errors[1].message).toMatch(/\.\./);
    expect(r.errors[2].message).toMatch(/\.pst/);
    expect(r.items).toEqual([{ source: 'd@contoso.com', mailbox: 'primary', pstName: 'd, the second.pst' }]);
  });

  test('malformed CSV (unclosed quote) → a row error at the line where parsing stopped', async () => {
    const r = await parseItemsCsv('a@contoso.com,a.pst\nb@contoso.com,"b.pst\nc@contoso.com,c.pst\n');
    expect(r.errors.length).toBe(1);
    expect(r.errors[0].field).toBe('csv');
    expect(r.errors[0].message).toMatch(/malformed CSV/);
    expect(r.errors[0].row).toBeGreaterThanOrEqual(2);
  });

  test('streams: 100,000 rows in small chunks (no row cap)', async () => {
    async function* chunks(): AsyncGenerator<string> {
      for (let i = 0; i < 100_000; i += 1000) {
        let s = '';
        for (let j = i; j < i + 1000; j++) s += `user${j}@contoso.com,user${j}.pst\n`;
        yield s;
      }
    }
    const r = await parseItemsCsv(Readable.from(chunks()));
    expect(r.errors).toEqual([]);
    expect(r.records).toBe(100_000);
    expect(r.items.length).toBe(100_000);
    expect(r.items[99_999]).toEqual({ source: 'user99999@contoso.com', mailbox: 'primary', pstName: 'user99999.pst' });
  });
});
