/**
 * Exports the caller may see (`GET /projects`: a user's own, an admin's whole tenant), newest
 * first, with their item counts per state; opening one shows its progress.
 */
import { Button, Card, CardHeader, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { describeError } from '../api/errors';
import type { ItemState, Project } from '../api/types';
import { STATE_LABEL } from '../components/ItemCard';
import { useSession } from '../context';

const useStyles = makeStyles({
  root: { display: 'flex', flexDirection: 'column', rowGap: tokens.spacingVerticalS },
  counts: { color: tokens.colorNeutralForeground3 },
  bad: { color: tokens.colorPaletteRedForeground1 },
});

/** "2 Completed, 1 Running". */
export function summarizeCounts(counts: Partial<Record<ItemState, number>>): string {
  const parts = Object.entries(counts).filter(([, n]) => (n ?? 0) > 0).map(([s, n]) => `${n} ${STATE_LABEL[s as ItemState]?.[0] ?? s}`);
  return parts.length ? parts.join(', ') : 'No mailboxes';
}

export interface ProjectsPageProps {
  onOpen(projectId: string): void;
}

/** The page. */
export function ProjectsPage({ onOpen }: ProjectsPageProps): JSX.Element {
  const styles = useStyles();
  const { api } = useSession();
  const [projects, setProjects] = useState<Project[]>();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    api.listProjects().then((ps) => setProjects([...ps].sort((a, b) => b.createdAt.localeCompare(a.createdAt))), (err) => setProblem(describeError(err)));
  }, [api]);
  if (problem) return <Text role="alert" className={styles.bad}>{problem}</Text>;
  if (!projects) return <Spinner label="Loading exports…" />;
  if (projects.length === 0) return <Text>No exports yet.</Text>;
  return (
    <div className={styles.root} role="list" aria-label="Exports">
      {projects.map((p) => (
        <Card key={p.id} role="listitem">
          <CardHeader header={<Text weight="semibold">{p.name}</Text>} description={<Text size={200} className={styles.counts}>{summarizeCounts(p.counts)}</Text>}
            action={<Button onClick={() => onOpen(p.id)} aria-label={`Open ${p.name}`}>Open</Button>} />
        </Card>
      ))}
    </div>
  );
}
