/**
 * Admin: choose mailboxes (type-ahead search and multi-select, or a CSV), primary, archive or
 * both, the destination and options, then create the export. Items are added in one request
 * (all valid or none: row errors come back per row) and the project page opens, where Verify and
 * Start are.
 */
import { Button, Divider, Field, Input, MessageBar, MessageBarBody, Radio, RadioGroup, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { ApiError, describeError } from '../api/errors';
import type { ItemInput, RowProblem, User } from '../api/types';
import { CsvImport, parseCsv } from '../components/CsvImport';
import { DestinationForm, EMPTY_DESTINATION, destinationIsValid } from '../components/DestinationForm';
import { DEFAULT_OPTIONS, OptionsForm, toProjectOptions, validateOptions, type OptionsDraft } from '../components/OptionsForm';
import { UserPicker } from '../components/UserPicker';
import { useSession } from '../context';
import { toDestinationInput, type DestinationDraft } from '../validate/destination';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM },
});

type Which = 'primary' | 'archive' | 'both';

export interface AdminPageProps {
  onCreated(projectId: string): void;
}

/** The page. */
export function AdminPage({ onCreated }: AdminPageProps): JSX.Element {
  const styles = useStyles();
  const { api } = useSession();
  const [name, setName] = useState(`Export ${new Date().toISOString().slice(0, 10)}`);
  const [users, setUsers] = useState<User[]>([]);
  const [csv, setCsv] = useState('');
  const [which, setWhich] = useState<Which>('primary');
  const [dest, setDest] = useState<DestinationDraft>(EMPTY_DESTINATION);
  const [options, setOptions] = useState<OptionsDraft>(DEFAULT_OPTIONS);
  const [showAll, setShowAll] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [rowErrors, setRowErrors] = useState<RowProblem[]>([]);
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  /** A project already created by an earlier attempt whose items were refused: reused, not duplicated. */
  const [pending, setPending] = useState<string>();

  const create = async (): Promise<void> => {
    setShowAll(true);
    setServerErrors({});
    setRowErrors([]);
    if (!name.trim()) { setProblem('Give the export a name.'); return; }
    if (users.length === 0 && !csv.trim()) { setProblem('Choose at least one user, or paste a CSV.'); return; }
    if (!destinationIsValid(dest) || Object.keys(validateOptions(options)).length > 0) { setProblem('Fix the fields marked in red first.'); return; }
    setBusy(true);
    setProblem(undefined);
    try {
      const projectId = pending ?? (await api.createProject({
        name: name.trim(), authMode: 'application', destination: toDestinationInput(dest), options: toProjectOptions(options),
      })).id;
      setPending(projectId);
      if (users.length > 0) {
        const items: ItemInput[] = users.map((u) => ({ source: u.mail ?? u.userPrincipalName, mailbox: which }));
        await api.addItems(projectId, items);
        setUsers([]);
      }
      if (csv.trim()) {
        if (which === 'primary') {
          await api.addItemsCsv(projectId, csv);
        } else {
          // The CSV route has no mailbox column: archive/both rows go through the JSON route, and
          // its row errors are mapped back to CSV lines.
          const { items, lines } = csvToItems(csv, which);
          try {
            await api.addItems(projectId, items);
          } catch (err) {
            if (err instanceof ApiError && err.rows) {
              throw new ApiError(err.status, err.code, err.message, err.field, err.rows.map((r) => ({ ...r, row: lines[itemIndex(r)] ?? r.row })));
            }
            throw err;
          }
        }
        setCsv('');
      }
      setPending(undefined);
      onCreated(projectId);
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.rows) setRowErrors(err.rows);
        if (err.field) setServerErrors({ [err.field]: err.message });
      }
      setProblem(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className={styles.root}>
      <Field label="Export name" required>
        <Input value={name} onChange={(_, d) => setName(d.value)} />
      </Field>
      <Text weight="semibold" as="h2">Mailboxes</Text>
      <UserPicker api={api} selected={users} onChange={setUsers} />
      <CsvImport value={csv} onChange={(t) => { setCsv(t); setRowErrors([]); }} rowErrors={rowErrors} />
      <Field label="Export">
        <RadioGroup value={which} onChange={(_, d) => setWhich(d.value as Which)}>
          <Radio value="primary" label="Primary mailbox" />
          <Radio value="archive" label="Archive" />
          <Radio value="both" label="Both (two PST files)" />
        </RadioGroup>
      </Field>
      <Divider />
      <Text weight="semibold" as="h2">Destination</Text>
      <DestinationForm value={dest} onChange={setDest} showAll={showAll} serverErrors={serverErrors} />
      <Divider />
      <Text weight="semibold" as="h2">Options</Text>
      <OptionsForm value={options} onChange={setOptions} serverErrors={serverErrors} />
      {problem && <MessageBar intent="error" role="alert"><MessageBarBody>{problem}</MessageBarBody></MessageBar>}
      <div>
        <Button appearance="primary" disabled={busy} onClick={() => void create()}>{busy ? 'Creating…' : 'Create export'}</Button>
      </div>
    </div>
  );
}

/** Items from CSV text for the JSON route, and the CSV line (1-based) of each item. */
export function csvToItems(csv: string, mailbox: Which): { items: ItemInput[]; lines: number[] } {
  const items: ItemInput[] = [];
  const lines: number[] = [];
  parseCsv(csv).forEach((cells, i) => {
    const source = (cells[0] ?? '').trim();
    if (!source || (i === 0 && source.toLowerCase() === 'source')) return;
    const pstName = (cells[1] ?? '').trim();
    items.push(pstName ? { source, mailbox, pstName } : { source, mailbox });
    lines.push(i + 1);
  });
  return { items, lines };
}

/** Index into the items list of a row problem: from `items[3].…` when named, else row - 1. */
function itemIndex(r: RowProblem): number {
  const m = /^items\[(\d+)\]/.exec(r.field);
  return m ? Number(m[1]) : r.row - 1;
}
