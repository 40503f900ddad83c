/**
 * Admin: find users by type-ahead (`GET /users?search=`, 300 ms after the last key) and select
 * several in a Fluent DataGrid. The selection survives new searches; chosen users are listed
 * under the grid with a remove button each.
 */
import {
  DataGrid, DataGridBody, DataGridCell, DataGridHeader, DataGridHeaderCell, DataGridRow, Field, SearchBox, Spinner,
  Tag, TagGroup, Text, createTableColumn, makeStyles, tokens, type TableColumnDefinition, type TableRowId,
} from '@fluentui/react-components';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import type { User } from '../api/types';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalS },
  mail: { color: tokens.colorNeutralForeground3, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'block' },
  name: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'block' },
  error: { color: tokens.colorPaletteRedForeground1 },
});

/** Delay after the last key before searching. */
export const SEARCH_DEBOUNCE_MS = 300;

const columns: TableColumnDefinition<User>[] = [
  createTableColumn<User>({
    columnId: 'user',
    renderHeaderCell: () => 'User',
    renderCell: (u) => <UserCell user={u} />,
  }),
];

function UserCell({ user }: { user: User }): JSX.Element {
  const styles = useStyles();
  return (
    <div style={{ minWidth: 0 }}>
      <Text className={styles.name} weight="semibold">{user.displayName}</Text>
      <Text className={styles.mail} size={200}>{user.mail ?? user.userPrincipalName}</Text>
    </div>
  );
}

export interface UserPickerProps {
  api: Pick<ApiClient, 'searchUsers'>;
  selected: User[];
  onChange(selected: User[]): void;
}

/** Search box, result grid with check boxes, chosen users. */
export function UserPicker({ api, selected, onChange }: UserPickerProps): JSX.Element {
  const styles = useStyles();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<User[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const seq = useRef(0);

  useEffect(() => {
    const text = query.trim();
    if (text.length < 2) { setResults([]); setBusy(false); return undefined; }
    const my = ++seq.current;
    const ctl = new AbortController();
    setBusy(true);
    const t = setTimeout(() => {
      api.searchUsers(text, 20, ctl.signal).then(
        (users) => { if (my === seq.current) { setResults(users); setError(undefined); setBusy(false); } },
        (err) => { if (my === seq.current && !ctl.signal.aborted) { setError(describeError(err)); setBusy(false); } },
      );
    }, SEARCH_DEBOUNCE_MS);
    return () => { clearTimeout(t); ctl.abort(); };
  }, [api, query]);

  const selectedIds = useMemo(() => new Set<TableRowId>(selected.map((u) => u.id)), [selected]);

  const onSelectionChange = (next: Set<TableRowId>): void => {
    const shown = new Set(results.map((u) => u.id));
    const keep = selected.filter((u) => !shown.has(u.id));
    const add = results.filter((u) => next.has(u.id));
    onChange([...keep, ...add]);
  };

  return (
    <div className={styles.root}>
      <Field label="Find users" hint="Type at least two letters of a name or address.">
        <SearchBox value={query} onChange={(_, d) => setQuery(d.value)} aria-controls="user-results" contentAfter={busy ? <Spinner size="extra-tiny" aria-label="Searching" /> : undefined} />
      </Field>
      {error && <Text role="alert" className={styles.error}>{error}</Text>}
      {results.length > 0 && (
        <DataGrid id="user-results" items={results} columns={columns} getRowId={(u: User) => u.id} selectionMode="multiselect"
          selectedItems={selectedIds} onSelectionChange={(_, d) => onSelectionChange(d.selectedItems)} aria-label="Search results" focusMode="composite">
          <DataGridHeader>
            <DataGridRow selectionCell={{ checkboxIndicator: { 'aria-label': 'Select all shown users' } }}>
              {({ renderHeaderCell }) => <DataGridHeaderCell>{renderHeaderCell()}</DataGridHeaderCell>}
            </DataGridRow>
          </DataGridHeader>
          <DataGridBody<User>>
            {({ item, rowId }) => (
              <DataGridRow<User> key={rowId} selectionCell={{ checkboxIndicator: { 'aria-label': `Select ${item.displayName}` } }}>
                {({ renderCell }) => <DataGridCell>{renderCell(item)}</DataGridCell>}
              </DataGridRow>
            )}
          </DataGridBody>
        </DataGrid>
      )}
      {query.trim().length >= 2 && !busy && !error && results.length === 0 && <Text>No users match "{query.trim()}".</Text>}
      {selected.length > 0 && (
        <div aria-live="polite">
          <Text weight="semibold">{selected.length} selected</Text>
          <TagGroup aria-label="Selected users" onDismiss={(_, d) => onChange(selected.filter((u) => u.id !== d.value))}>
            {selected.map((u) => (
              <Tag key={u.id} value={u.id} dismissible dismissIcon={{ 'aria-label': `Remove ${u.displayName}` }}>{u.displayName}</Tag>
            ))}
          </TagGroup>
        </div>
      )}
    </div>
  );
}
