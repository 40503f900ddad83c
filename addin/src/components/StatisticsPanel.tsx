/**
 * Statistics of a project (`GET …/statistics`): totals and one line per item, with a CSV download
 * (`?format=csv`; the API prefixes cells that spreadsheets would run as formulas).
 */
import { Button, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import type { Statistics } from '../api/types';
import { formatBytes, formatCount, formatDuration } from '../format';
import { STATE_LABEL } from './ItemCard';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalS },
  totals: { display: 'grid', gridTemplateColumns: 'repeat(2, minmax(0, 1fr))', rowGap: tokens.spacingVerticalXS },
  list: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column' },
  entry: { padding: `${tokens.spacingVerticalXS} 0`, borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}` },
  source: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  bad: { color: tokens.colorPaletteRedForeground1 },
});

/** Starts a download of `text` as `name` (a blob: URL, revoked after the click). */
export function downloadText(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface StatisticsPanelProps {
  api: Pick<ApiClient, 'statistics' | 'statisticsCsv'>;
  projectId: string;
  projectName: string;
}

/** Load button, totals, per-item table, CSV download. */
export function StatisticsPanel({ api, projectId, projectName }: StatisticsPanelProps): JSX.Element {
  const styles = useStyles();
  const [stats, setStats] = useState<Statistics>();
  const [problem, setProblem] = useState<string>();
  const load = async (): Promise<void> => {
    try { setStats(await api.statistics(projectId)); setProblem(undefined); } catch (err) { setProblem(describeError(err)); }
  };
  const csv = async (): Promise<void> => {
    try { downloadText(`${projectName.replace(/[^\w.-]+/g, '_') || 'outport'}-statistics.csv`, await api.statisticsCsv(projectId)); } catch (err) { setProblem(describeError(err)); }
  };
  const t = stats?.totals ?? {};
  return (
    <section className={styles.root} aria-label="Statistics">
      <div style={{ display: 'flex', columnGap: tokens.spacingHorizontalS }}>
        <Button onClick={() => void load()}>{stats ? 'Refresh statistics' : 'Show statistics'}</Button>
        <Button onClick={() => void csv()}>Download CSV</Button>
      </div>
      {problem && <Text role="alert" className={styles.bad}>{problem}</Text>}
      {stats && (
        <>
          <div className={styles.totals} aria-label="Totals" role="group">
            <Text>Items exported</Text><Text weight="semibold">{formatCount(t.itemsExported ?? stats.value.reduce((s, v) => s + v.itemsExported, 0))}</Text>
            <Text>Size</Text><Text weight="semibold">{formatBytes(t.bytesExported ?? stats.value.reduce((s, v) => s + v.bytesExported, 0))}</Text>
            <Text>Errors</Text><Text weight="semibold">{formatCount(t.errors ?? stats.value.reduce((s, v) => s + v.errors, 0))}</Text>
            <Text>PST files</Text><Text weight="semibold">{formatCount(t.parts ?? stats.value.reduce((s, v) => s + v.parts, 0))}</Text>
          </div>
          <ul className={styles.list} aria-label="Statistics per mailbox">
            {stats.value.map((s) => (
              <li key={s.itemId} className={styles.entry}>
                <Text block weight="semibold" className={styles.source} title={s.source}>{s.source}{s.mailbox === 'archive' ? ' (archive)' : ''}</Text>
                <Text block size={200}>
                  {formatCount(s.itemsExported)} items · {formatBytes(s.bytesExported)} · {formatCount(s.errors)} {s.errors === 1 ? 'error' : 'errors'} · {formatDuration(s.durationSeconds)} · {STATE_LABEL[s.state]?.[0] ?? s.state}
                </Text>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
