/**
 * `outport jobs [--data-dir DIR] [--project ID] [--json]`: the projects in a SQLite jobs data
 * directory (jobs/sqlite/), every tenant, with their items and states — an operator's view of what
 * the worker holds. Never prints a secret (the store's read APIs have none).
 *
 * Text output: per project a line `<id>  <name>  tenant <tid>  <n> items (<state counts>)`, then one
 * line per item: state, source (primary|archive), PST name, items exported, parts, errors.
 * `--json`: `{"projects": [{...Project, "items": Item[]}]}`.
 * Exit codes: 0 listed; 1 --project not found or the data directory cannot be opened; 2 bad usage.
 * The secret key comes from OUTPORT_SECRET_KEY or the data directory's secret.key (jobs/secrets.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Item, Project } from '../jobs/contract';
import { defaultDataDir, openSqliteBackend, SQLITE_FILE, type SqliteBackend } from '../jobs/sqlite/backend';
import { parseArgs, UsageError } from './args';

/** The usage line. */
export const JOBS_USAGE = 'outport jobs [--data-dir DIR] [--project ID] [--json]';

/**
 * Opens the jobs database of `--data-dir` (default OUTPORT_DATA_DIR or ./outport-data) without
 * creating one. @throws UsageError when the directory holds no jobs database
 */
export async function openExisting(dataDir: string | undefined): Promise<SqliteBackend> {
  const dir = path.resolve(dataDir ?? defaultDataDir());
  if (!existsSync(path.join(dir, SQLITE_FILE))) {
    throw new UsageError(`${dir} holds no jobs database (${SQLITE_FILE}): give the worker's data directory with --data-dir or OUTPORT_DATA_DIR`);
  }
  return openSqliteBackend({ dataDir: dir, onNotice: (m) => process.stderr.write(`${m}\n`) });
}

/** Every project (all tenants) with its items; only `projectId` when given (undefined when absent). */
export async function allProjects(backend: SqliteBackend, projectId?: string): Promise<(Project & { items: Item[] })[] | undefined> {
  const out: (Project & { items: Item[] })[] = [];
  for (const t of await backend.store.listTenants()) {
    for (const p of await backend.store.listProjects(t)) {
      if (projectId && p.id !== projectId) continue;
      out.push({ ...p, items: await backend.store.listItems(t, p.id) });
    }
  }
  return projectId && out.length === 0 ? undefined : out;
}

/** Runs `outport jobs`; see the module doc. */
export async function run(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, ['data-dir', 'project'], JOBS_USAGE, ['json']);
  if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"\n${JOBS_USAGE}`);
  const backend = await openExisting(flags.get('data-dir'));
  try {
    const projects = await allProjects(backend, flags.get('project'));
    if (!projects) {
      process.stderr.write(`outport jobs: no project ${flags.get('project')} in ${path.dirname(backend.file)}\n`);
      return 1;
    }
    if (flags.has('json')) {
      process.stdout.write(JSON.stringify({ projects }, null, 2) + '\n');
      return 0;
    }
    if (projects.length === 0) process.stdout.write('no projects\n');
    for (const p of projects) {
      const counts = Object.entries(p.counts).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
      process.stdout.write(`${p.id}  ${p.name}  tenant ${p.tenantId}  ${p.items.length} items${counts ? ` (${counts})` : ''}\n`);
      for (const i of p.items) {
        const s = i.statistics;
        const figures = s ? `  ${s.itemsExported} items, ${s.parts} parts, ${s.errors} errors` : '';
        const err = i.error ? `  [${i.error.code}]` : '';
        process.stdout.write(`  ${i.state.padEnd(19)} ${`${i.source} (${i.mailbox})`.padEnd(40)} ${i.pstName}${figures}${err}\n`);
      }
    }
    return 0;
  } finally {
    await backend.close();
  }
}
