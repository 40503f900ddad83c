/**
 * Self-service: the signed-in user's primary mailbox and archive (sizes and item counts from
 * `GET /me`), where to put the PST, and one button each to export the archive or the mailbox.
 * The export runs with the user's own delegated access (authMode "delegated"): no eDiscovery role.
 */
import { Button, Card, CardHeader, MessageBar, MessageBarBody, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { ApiError, describeError } from '../api/errors';
import type { MailboxInfo, MailboxKind } from '../api/types';
import { DestinationForm, EMPTY_DESTINATION, destinationIsValid } from '../components/DestinationForm';
import { useSession } from '../context';
import { formatBytes, formatCount } from '../format';
import { toDestinationInput, type DestinationDraft } from '../validate/destination';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalM },
  boxes: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(130px, 1fr))', gap: tokens.spacingHorizontalS },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS },
});

function Box({ title, info }: { title: string; info: MailboxInfo | null }): JSX.Element {
  return (
    <Card role="group" aria-label={title}>
      <CardHeader header={<Text weight="semibold">{title}</Text>} />
      {info ? (
        <>
          <Text size={500} weight="semibold">{formatBytes(info.sizeBytes)}</Text>
          <Text size={200}>{formatCount(info.itemCount)} items</Text>
        </>
      ) : <Text size={200}>No archive</Text>}
    </Card>
  );
}

export interface MyMailboxPageProps {
  onStarted(projectId: string): void;
}

/** The page. */
export function MyMailboxPage({ onStarted }: MyMailboxPageProps): JSX.Element {
  const styles = useStyles();
  const { api, me } = useSession();
  const [dest, setDest] = useState<DestinationDraft>(EMPTY_DESTINATION);
  const [showAll, setShowAll] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState<MailboxKind>();

  const start = async (mailbox: MailboxKind): Promise<void> => {
    setShowAll(true);
    setServerErrors({});
    if (!destinationIsValid(dest)) { setProblem('Fix the destination first.'); return; }
    setBusy(mailbox);
    setProblem(undefined);
    try {
      const source = me.user.mail ?? me.user.userPrincipalName;
      const project = await api.createProject({
        name: `${mailbox === 'archive' ? 'My archive' : 'My mailbox'} ${new Date().toISOString().slice(0, 10)}`,
        authMode: 'delegated',
        destination: toDestinationInput(dest),
      });
      await api.addItems(project.id, [{ source, mailbox }]);
      await api.export(project.id, 'full');
      onStarted(project.id);
    } catch (err) {
      if (err instanceof ApiError && err.field) setServerErrors({ [err.field]: err.message });
      setProblem(describeError(err));
    } finally {
      setBusy(undefined);
    }
  };

  const { primary, archive } = me.mailboxes;
  return (
    <div className={styles.root}>
      <Text>Signed in as <b>{me.user.displayName}</b> ({me.user.mail ?? me.user.userPrincipalName})</Text>
      <div className={styles.boxes}>
        <Box title="Mailbox" info={primary} />
        <Box title="Archive" info={archive} />
      </div>
      <Text weight="semibold" as="h2">Where to put the PST</Text>
      <DestinationForm value={dest} onChange={setDest} showAll={showAll} serverErrors={serverErrors} />
      {problem && <MessageBar intent="error" role="alert"><MessageBarBody>{problem}</MessageBarBody></MessageBar>}
      <div className={styles.actions}>
        <Button appearance="primary" disabled={!archive || !!busy} onClick={() => void start('archive')}>{busy === 'archive' ? 'Starting…' : 'Export my archive'}</Button>
        <Button disabled={!!busy} onClick={() => void start('primary')}>{busy === 'primary' ? 'Starting…' : 'Export my mailbox'}</Button>
      </div>
    </div>
  );
}
