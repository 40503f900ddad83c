/** @jest-environment jsdom */
/** CSV import: preview rows, the API's row errors shown on their rows, quotes parsed as RFC 4180. */
import '../jsdom-setup';
import { screen, within } from '@testing-library/react';
import { CsvImport, parseCsv } from '../../../addin/src/components/CsvImport';
import { renderFluent } from '../render';

describe('CsvImport', () => {
  it('parses quotes, doubled quotes, CRLF and a last line without newline', () => {
    expect(parseCsv('source,destination\r\n"a,b@c.d","x ""y"".pst"\nlast@c.d')).toEqual([['source', 'destination'], ['a,b@c.d', 'x "y".pst'], ['last@c.d']]);
  });

  it('shows each row, and each API row error on its own row', () => {
    const csv = 'source,destination\nadele@contoso.com,adele.pst\nnot-an-address,x.pst\nalex@contoso.com,alex.txt';
    renderFluent(<CsvImport value={csv} onChange={() => undefined} rowErrors={[
      { row: 3, field: 'source', message: '"not-an-address" is not an email address.' },
      { row: 4, field: 'destination', message: 'must end in .pst' },
    ]} />);
    const table = screen.getByRole('table', { name: 'CSV rows' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(5); // header + 4 lines
    expect(rows[2].getAttribute('aria-invalid')).toBeNull();
    expect(rows[3].getAttribute('aria-invalid')).toBe('true');
    expect(within(rows[3]).getByText('source: "not-an-address" is not an email address.')).toBeTruthy();
    expect(within(rows[4]).getByText('destination: must end in .pst')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toMatch(/2 rows have problems/);
  });
});
