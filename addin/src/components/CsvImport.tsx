/**
 * Admin: paste or upload a CSV of `source,destination` lines (source SMTP address or UPN,
 * destination .pst name; header optional; docs/api.md `POST items/csv`). The rows are previewed in
 * a table; the API's row errors (`rows: [{row, field, message}]`, row 1 = first line) are shown on
 * the row they belong to.
 */
import { Button, Field, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Textarea, makeStyles, tokens } from '@fluentui/react-components';
import { useRef, useState } from 'react';
import type { RowProblem } from '../api/types';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalS },
  bad: { backgroundColor: tokens.colorPaletteRedBackground1 },
  error: { color: tokens.colorPaletteRedForeground1 },
  cell: { wordBreak: 'break-all' },
  actions: { display: 'flex', columnGap: tokens.spacingHorizontalS, alignItems: 'center' },
});

/** Largest CSV the API takes (8 MiB, docs/api.md "Errors" PayloadTooLarge). */
export const MAX_CSV_BYTES = 8 * 1024 * 1024;

/** Splits CSV text into rows of cells (RFC 4180 quotes, CRLF or LF); for the preview only. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell.length > 0 || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

export interface CsvImportProps {
  value: string;
  onChange(text: string): void;
  /** Row problems from the API's last answer. */
  rowErrors?: RowProblem[];
}

/** The CSV text box, upload button and row preview. */
export function CsvImport({ value, onChange, rowErrors = [] }: CsvImportProps): JSX.Element {
  const styles = useStyles();
  const fileRef = useRef<HTMLInputElement>(null);
  const [fileProblem, setFileProblem] = useState<string>();
  const rows = value.trim() ? parseCsv(value) : [];
  const byRow = new Map<number, RowProblem[]>();
  for (const p of rowErrors) byRow.set(p.row, [...(byRow.get(p.row) ?? []), p]);

  const onFile = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    if (file.size > MAX_CSV_BYTES) {
      setFileProblem(`${file.name} has ${file.size.toLocaleString('en-US')} bytes; the limit is 8 MB. Split it into smaller files.`);
      return;
    }
    setFileProblem(undefined);
    onChange(await file.text());
  };

  return (
    <div className={styles.root}>
      <Field label="Mailboxes from CSV" hint="One mailbox a line: source address, then optionally the .pst name. Example: adele@contoso.com,adele.pst">
        <Textarea value={value} onChange={(_, d) => onChange(d.value)} resize="vertical" rows={4} spellCheck={false} />
      </Field>
      <div className={styles.actions}>
        <Button onClick={() => fileRef.current?.click()}>Upload CSV…</Button>
        <input ref={fileRef} type="file" accept=".csv,text/csv" hidden aria-label="CSV file" onChange={(e) => void onFile(e.target.files?.[0])} />
        {rows.length > 0 && <Text size={200}>{rows.length} {rows.length === 1 ? 'row' : 'rows'}</Text>}
      </div>
      {fileProblem && <Text role="alert" className={styles.error}>{fileProblem}</Text>}
      {rowErrors.length > 0 && <Text role="alert" className={styles.error}>{rowErrors.length} {rowErrors.length === 1 ? 'row has a problem' : 'rows have problems'}: fix them and add again. Nothing was added.</Text>}
      {rows.length > 0 && (
        <Table size="small" aria-label="CSV rows">
          <TableHeader>
            <TableRow>
              <TableHeaderCell style={{ width: '2.5em' }}>Row</TableHeaderCell>
              <TableHeaderCell>Source</TableHeaderCell>
              <TableHeaderCell>PST</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rows.slice(0, 200).map((cells, i) => {
              const problems = byRow.get(i + 1);
              return (
                <TableRow key={i} className={problems ? styles.bad : undefined} aria-invalid={problems ? true : undefined}>
                  <TableCell>{i + 1}</TableCell>
                  <TableCell className={styles.cell}>
                    {cells[0]}
                    {problems?.map((p, j) => <Text key={j} block size={200} className={styles.error}>{p.field}: {p.message}</Text>)}
                  </TableCell>
                  <TableCell className={styles.cell}>{cells[1] ?? ''}</TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      )}
    </div>
  );
}
