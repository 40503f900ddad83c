/**
 * One project: its destination, actions (Verify, Start full / pre-stage / incremental, Retry errors,
 * Cancel), live progress per item, statistics with CSV download, and Delete container.
 */
import {
  Button, Field, Input, MessageBar, MessageBarBody, Select, Text, Title3, makeStyles, tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import { describeError } from '../api/errors';
import type { Pass } from '../api/types';
import { DeleteContainerDialog } from '../components/DeleteContainerDialog';
import { ItemCard } from '../components/ItemCard';
import { StatisticsPanel } from '../components/StatisticsPanel';
import { useSession } from '../context';
import { useLiveProject } from './useLiveProject';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, alignItems: 'flex-end' },
  where: { color: tokens.colorNeutralForeground3, wordBreak: 'break-all' },
  items: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalS },
});

const PASS_LABEL: Record<Pass, string> = { full: 'Full', prestage: 'Pre-stage (older items)', incremental: 'Incremental (changes)' };

export interface ProjectPageProps {
  projectId: string;
  onBack(): void;
}

/** The page. */
export function ProjectPage({ projectId, onBack }: ProjectPageProps): JSX.Element {
  const styles = useStyles();
  const { api } = useSession();
  const live = useLiveProject(api, projectId);
  const [pass, setPass] = useState<Pass>('full');
  const [olderThanDays, setOlderThanDays] = useState('30');
  const [message, setMessage] = useState<{ intent: 'error' | 'success' | 'info'; text: string }>();
  const [busy, setBusy] = useState(false);

  const run = async (what: string, f: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    try {
      await f();
      setMessage({ intent: 'success', text: what });
      await live.refresh();
    } catch (err) {
      setMessage({ intent: 'error', text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  const p = live.project;
  const days = Number(olderThanDays);
  const daysBad = pass === 'prestage' && (!/^\d+$/.test(olderThanDays) || days < 1);
  const anyErrors = live.items.some((i) => (live.progress[i.id]?.state ?? i.state) === 'CompletedWithErrors');
  const anyActive = live.items.some((i) => ['Queued', 'Running', 'Verifying'].includes(live.progress[i.id]?.state ?? i.state));

  return (
    <div className={styles.root}>
      <div>
        <Button appearance="subtle" onClick={onBack} aria-label="Back to exports">← Exports</Button>
      </div>
      <Title3 as="h2">{p?.name ?? 'Export'}</Title3>
      {p && <Text size={200} className={styles.where}>To {p.destination.blobEndpoint ?? `${p.destination.accountName}`} / {p.destination.container}</Text>}
      {live.error && <MessageBar intent="error"><MessageBarBody>{live.error}</MessageBarBody></MessageBar>}
      {live.reauth && <MessageBar intent="warning"><MessageBarBody>{live.reauth}</MessageBarBody></MessageBar>}
      {message && <MessageBar intent={message.intent} role={message.intent === 'error' ? 'alert' : 'status'}><MessageBarBody>{message.text}</MessageBarBody></MessageBar>}

      <section aria-label="Actions" className={styles.actions}>
        <Button disabled={busy || live.items.length === 0} onClick={() => void run('Verification started.', () => api.verify(projectId))}>Verify</Button>
        <Field label="Pass" style={{ minWidth: 0 }}>
          <Select value={pass} onChange={(_, d) => setPass(d.value as Pass)}>
            {(Object.keys(PASS_LABEL) as Pass[]).map((k) => <option key={k} value={k}>{PASS_LABEL[k]}</option>)}
          </Select>
        </Field>
        {pass === 'prestage' && (
          <Field label="Older than (days)" validationMessage={daysBad ? 'Enter a whole number of days, 1 or more.' : undefined} validationState={daysBad ? 'error' : 'none'}>
            <Input type="number" min={1} value={olderThanDays} onChange={(_, d) => setOlderThanDays(d.value)} style={{ width: '6em' }} />
          </Field>
        )}
        <Button appearance="primary" disabled={busy || daysBad || live.items.length === 0}
          onClick={() => void run('Export queued.', () => api.export(projectId, pass, undefined, pass === 'prestage' ? days : undefined))}>Start</Button>
        {anyErrors && <Button disabled={busy} onClick={() => void run('Retrying the items that failed.', () => api.retryErrors(projectId))}>Retry errors</Button>}
        {anyActive && <Button disabled={busy} onClick={() => void run('Cancelled.', () => api.cancel(projectId))}>Cancel</Button>}
      </section>

      <section aria-label="Progress" className={styles.items}>
        <Text weight="semibold" as="h3">Progress{live.live ? '' : ' (reconnecting…)'}</Text>
        {live.items.length === 0 && <Text>No mailboxes in this export yet.</Text>}
        {live.items.map((item) => <ItemCard key={item.id} item={item} progress={live.progress[item.id]} api={api} />)}
      </section>

      {p && <StatisticsPanel api={api} projectId={projectId} projectName={p.name} />}
      {p && <div><DeleteContainerDialog api={api} projectId={projectId} container={p.destination.container}
        onDeleted={() => setMessage({ intent: 'success', text: `Container ${p.destination.container} deleted.` })} /></div>}
    </div>
  );
}
