/**
 * `outport stats --project ID [--csv] [--data-dir DIR]`: a project's statistics from the SQLite jobs
 * data directory: JSON `{value: ItemStatistics[], totals}` (docs/api.md), or with `--csv` the CSV
 * the API serves (jobs/statistics.ts: formula cells prefixed with `'`).
 * Exit codes: 0 printed; 1 no such project or the data directory cannot be opened; 2 bad usage.
 */
import { statisticsCsv } from '../jobs/statistics';
import { parseArgs, UsageError } from './args';
import { openExisting } from './jobs';

/** The usage line. */
export const STATS_USAGE = 'outport stats --project ID [--csv] [--data-dir DIR]';

/** Runs `outport stats`; see the module doc. */
export async function run(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, ['data-dir', 'project'], STATS_USAGE, ['csv']);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"\n${STATS_USAGE}`);
  const projectId = flags.get('project');
  if (!projectId) throw new UsageError(`stats needs --project ID (see "outport jobs")\n${STATS_USAGE}`);
  const backend = await openExisting(flags.get('data-dir'));
  try {
    for (const t of await backend.store.listTenants()) {
      if (!(await backend.store.listProjects(t)).some((p) => p.id === projectId)) continue;
      const stats = await backend.store.statistics(t, projectId);
      process.stdout.write(flags.has('csv') ? statisticsCsv(stats.value) : JSON.stringify(stats, null, 2) + '\n');
      return 0;
    }
    process.stderr.write(`outport stats: no project ${projectId} (see "outport jobs")\n`);
    return 1;
  } finally {
    await backend.close();
  }
}
