/**
 * One mailbox or archive of a project, as a card (a table is too wide for a 320 px pane): state,
 * progress bar, items, bytes, rate, ETA, the verification checks, and on demand its errors and
 * its PST parts (download links when the API gives a read-only SAS `url`).
 */
import {
  Badge, Button, Card, CardHeader, Link, ProgressBar, Spinner, Text, makeStyles, tokens, type BadgeProps,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import type { Item, ItemError, ItemProgress, ItemState, Part } from '../api/types';
import { formatBytes, formatCount, formatDuration, formatRate, fractionDone } from '../format';

const useStyles = makeStyles({
  card: { width: '100%', boxSizing: 'border-box' },
  source: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap', display: 'block', minWidth: 0 },
  line: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalM, color: tokens.colorNeutralForeground2 },
  list: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  bad: { color: tokens.colorPaletteRedForeground1 },
  good: { color: tokens.colorPaletteGreenForeground1 },
  actions: { display: 'flex', flexWrap: 'wrap', columnGap: tokens.spacingHorizontalS },
});

/** Words and badge colour for each state. */
export const STATE_LABEL: Record<ItemState, [string, BadgeProps['color']]> = {
  NotStarted: ['Not started', 'subtle'],
  Verifying: ['Verifying', 'informative'],
  Verified: ['Verified', 'success'],
  Queued: ['Queued', 'informative'],
  Running: ['Running', 'brand'],
  Completed: ['Completed', 'success'],
  CompletedWithErrors: ['Completed with errors', 'warning'],
  Failed: ['Failed', 'danger'],
  Cancelled: ['Cancelled', 'subtle'],
  WaitingForAuth: ['Waiting for sign-in', 'warning'],
};

export interface ItemCardProps {
  item: Item;
  progress?: ItemProgress;
  api: Pick<ApiClient, 'itemErrors' | 'parts'>;
}

/** The card. */
export function ItemCard({ item, progress, api }: ItemCardProps): JSX.Element {
  const styles = useStyles();
  const state = progress?.state ?? item.state;
  const [label, color] = STATE_LABEL[state] ?? [state, 'subtle'];
  const p = progress ?? item.progress;
  const frac = p ? fractionDone(p) : undefined;
  const running = state === 'Running' || state === 'Queued' || state === 'Verifying';
  const [errors, setErrors] = useState<ItemError[]>();
  const [parts, setParts] = useState<Part[]>();
  const [busy, setBusy] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const finished = state === 'Completed' || state === 'CompletedWithErrors';
  const errorCount = item.statistics?.errors ?? 0;

  const load = async <T,>(what: string, f: () => Promise<T>, set: (v: T) => void): Promise<void> => {
    setBusy(what);
    try { set(await f()); setProblem(undefined); } catch (err) { setProblem(describeError(err)); } finally { setBusy(undefined); }
  };

  const titleId = `item-${item.id}`;
  return (
    <Card className={styles.card} role="group" aria-labelledby={titleId}>
      <CardHeader
        header={<Text id={titleId} weight="semibold" className={styles.source} title={item.source}>{item.source}</Text>}
        description={<Text size={200}>{item.mailbox === 'archive' ? 'Archive' : 'Mailbox'} → {item.pstName}</Text>}
        action={<Badge appearance="tint" color={color} aria-label={`State: ${label}`}>{label}</Badge>}
      />
      {(p || running) && (
        <ProgressBar value={frac} max={1} thickness="large" color={state === 'Failed' ? 'error' : finished ? 'success' : 'brand'}
          aria-label={`${item.source} progress${frac !== undefined ? ` ${Math.round(frac * 100)}%` : ''}`} aria-valuetext={frac !== undefined ? `${Math.round(frac * 100)}%` : 'working'} />
      )}
      {p && (
        <>
          <div className={styles.line}>
            <Text size={200}>{formatCount(p.itemsDone)}{p.itemsTotal !== undefined ? ` of ${formatCount(p.itemsTotal)}` : ''} items</Text>
            <Text size={200}>{formatBytes(p.bytesDone)}{p.bytesTotal !== undefined ? ` of ${formatBytes(p.bytesTotal)}` : ''}</Text>
          </div>
          {state === 'Running' && (
            <div className={styles.line}>
              <Text size={200}>{formatRate(p.bytesPerSecond)} · {formatCount(p.itemsPerSecond)} items/s</Text>
              <Text size={200}>ETA {formatDuration(p.etaSeconds)}</Text>
              {p.folder && <Text size={200} className={styles.source}>{p.folder}</Text>}
            </div>
          )}
        </>
      )}
      {item.error && <Text size={200} className={styles.bad} role="alert">{item.error.message}</Text>}
      {item.verification && (
        <ul className={styles.list} aria-label="Verification">
          {item.verification.checks.map((c) => (
            <li key={c.name}>
              <Text size={200} className={c.ok ? styles.good : styles.bad}>{c.ok ? '✓' : '✗'} {c.name}{c.message ? `: ${c.message}` : ''}</Text>
            </li>
          ))}
        </ul>
      )}
      <div className={styles.actions}>
        {(errorCount > 0 || state === 'CompletedWithErrors' || state === 'Failed') && (
          <Button size="small" onClick={() => void load('errors', () => api.itemErrors(item.projectId, item.id), setErrors)} aria-expanded={errors !== undefined}>
            {errorCount > 0 ? `Errors (${formatCount(errorCount)})` : 'Errors'}
          </Button>
        )}
        {finished && (
          <Button size="small" onClick={() => void load('parts', () => api.parts(item.projectId, item.id), setParts)} aria-expanded={parts !== undefined}>PST files</Button>
        )}
        {busy && <Spinner size="extra-tiny" aria-label={`Loading ${busy}`} />}
      </div>
      {problem && <Text size={200} className={styles.bad} role="alert">{problem}</Text>}
      {errors && (errors.length === 0 ? <Text size={200}>No errors recorded.</Text> : (
        <ul className={styles.list} aria-label={`Errors of ${item.source}`}>
          {errors.slice(0, 100).map((e, i) => (
            <li key={i}><Text size={200}><b>{e.code}</b>{e.folderPath ? ` in ${e.folderPath}` : ''}: {e.message}{e.subject ? ` ("${e.subject}")` : ''}</Text></li>
          ))}
        </ul>
      ))}
      {parts && (parts.length === 0 ? <Text size={200}>No PST files yet.</Text> : (
        <ul className={styles.list} aria-label={`PST files of ${item.source}`}>
          {parts.map((pt) => (
            <li key={pt.name}>
              <Text size={200}>
                {pt.url ? <Link href={pt.url} target="_blank" rel="noopener noreferrer" download={pt.name}>{pt.name}</Link> : pt.name}
                {' '}({formatBytes(pt.sizeBytes)}, {formatCount(pt.items)} items)
              </Text>
            </li>
          ))}
        </ul>
      ))}
    </Card>
  );
}
