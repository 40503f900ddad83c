/**
 * Export options (docs/api.md ProjectOptions): item types, folders to include or leave out, a date
 * range, the PST split size (1 MB .. 50 GB, default 10 GB) and how many mailboxes export at once
 * (1..500, default 20). Ranges are checked inline as the API checks them.
 */
import { Checkbox, Field, Input, makeStyles, Textarea, tokens } from '@fluentui/react-components';
import { ITEM_TYPES, type ItemType, type ProjectOptions } from '../api/types';
import { formatBytes, parseSize } from '../format';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM },
  types: { display: 'grid', gridTemplateColumns: 'repeat(2, minmax(0, 1fr))' },
  row: { display: 'grid', gridTemplateColumns: 'repeat(2, minmax(0, 1fr))', columnGap: tokens.spacingHorizontalS },
});

/** What the form holds (strings as typed). */
export interface OptionsDraft {
  itemTypes: ItemType[];
  includeFolders: string;
  excludeFolders: string;
  notBefore: string;
  before: string;
  splitSize: string;
  maxConcurrentExports: string;
}

export const DEFAULT_OPTIONS: OptionsDraft = {
  itemTypes: [...ITEM_TYPES], includeFolders: '', excludeFolders: '', notBefore: '', before: '', splitSize: '10 GB', maxConcurrentExports: '20',
};

const TYPE_LABELS: Record<ItemType, string> = { mail: 'Mail', contacts: 'Contacts', calendar: 'Calendar', tasks: 'Tasks', notes: 'Notes', journal: 'Journal' };

export const MIN_SPLIT_BYTES = 1024 ** 2;
export const MAX_SPLIT_BYTES = 50 * 1024 ** 3;

/** Problems by field path (`options.splitSizeBytes`), as the API names them. */
export function validateOptions(o: OptionsDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (o.itemTypes.length === 0) out['options.itemTypes'] = 'Choose at least one item type.';
  const split = parseSize(o.splitSize);
  if (split === undefined) out['options.splitSizeBytes'] = 'Enter a size such as 10 GB or 500 MB.';
  else if (split < MIN_SPLIT_BYTES || split > MAX_SPLIT_BYTES) out['options.splitSizeBytes'] = `Use 1 MB to 50 GB (this is ${formatBytes(split)}).`;
  const n = Number(o.maxConcurrentExports);
  if (!/^\d+$/.test(o.maxConcurrentExports.trim()) || n < 1 || n > 500) out['options.maxConcurrentExports'] = 'Use a whole number from 1 to 500.';
  if (o.notBefore && o.before && o.notBefore >= o.before) out['options.dateRange.before'] = 'The end date must be after the start date.';
  return out;
}

const lines = (s: string): string[] => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/** The API's ProjectOptions for a valid draft. */
export function toProjectOptions(o: OptionsDraft): ProjectOptions {
  const out: ProjectOptions = {
    itemTypes: o.itemTypes,
    splitSizeBytes: parseSize(o.splitSize),
    maxConcurrentExports: Number(o.maxConcurrentExports),
  };
  const inc = lines(o.includeFolders);
  const exc = lines(o.excludeFolders);
  if (inc.length) out.includeFolders = inc;
  if (exc.length) out.excludeFolders = exc;
  if (o.notBefore || o.before) {
    out.dateRange = {};
    if (o.notBefore) out.dateRange.notBefore = new Date(`${o.notBefore}T00:00:00Z`).toISOString();
    if (o.before) out.dateRange.before = new Date(`${o.before}T00:00:00Z`).toISOString();
  }
  return out;
}

export interface OptionsFormProps {
  value: OptionsDraft;
  onChange(next: OptionsDraft): void;
  serverErrors?: Record<string, string>;
  /** Hide the admin-only concurrency setting. */
  compact?: boolean;
}

/** The options fields. */
export function OptionsForm({ value, onChange, serverErrors = {}, compact }: OptionsFormProps): JSX.Element {
  const styles = useStyles();
  const problems = { ...validateOptions(value), ...serverErrors };
  const set = <K extends keyof OptionsDraft>(k: K, v: OptionsDraft[K]): void => onChange({ ...value, [k]: v });
  const err = (f: string) => ({ validationMessage: problems[f], validationState: problems[f] ? ('error' as const) : ('none' as const) });
  return (
    <div className={styles.root} role="group" aria-label="Options">
      <Field label="Item types" {...err('options.itemTypes')}>
        <div className={styles.types}>
          {ITEM_TYPES.map((t) => (
            <Checkbox key={t} label={TYPE_LABELS[t]} checked={value.itemTypes.includes(t)}
              onChange={(_, d) => set('itemTypes', d.checked ? ITEM_TYPES.filter((x) => x === t || value.itemTypes.includes(x)) : value.itemTypes.filter((x) => x !== t))} />
          ))}
        </div>
      </Field>
      <Field label="Only these folders" hint="One folder path a line, e.g. Inbox/Projects. Empty = all folders.">
        <Textarea value={value.includeFolders} onChange={(_, d) => set('includeFolders', d.value)} resize="vertical" />
      </Field>
      <Field label="Leave out these folders" hint="One folder path a line, e.g. Deleted Items.">
        <Textarea value={value.excludeFolders} onChange={(_, d) => set('excludeFolders', d.value)} resize="vertical" />
      </Field>
      <div className={styles.row}>
        <Field label="Items from" hint="Empty = oldest">
          <Input type="date" value={value.notBefore} onChange={(_, d) => set('notBefore', d.value)} />
        </Field>
        <Field label="Items before" hint="Empty = newest" {...err('options.dateRange.before')}>
          <Input type="date" value={value.before} onChange={(_, d) => set('before', d.value)} />
        </Field>
      </div>
      <div className={styles.row}>
        <Field label="Split PST at" {...err('options.splitSizeBytes')}>
          <Input value={value.splitSize} onChange={(_, d) => set('splitSize', d.value)} />
        </Field>
        {!compact && (
          <Field label="Mailboxes at once" {...err('options.maxConcurrentExports')}>
            <Input type="number" min={1} max={500} value={value.maxConcurrentExports} onChange={(_, d) => set('maxConcurrentExports', d.value)} />
          </Field>
        )}
      </div>
    </div>
  );
}
