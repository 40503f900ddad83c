/**
 * A child process for test/jobs/two-process.test.ts: opens the SQLite jobs backend on a data
 * directory shared with other processes and claims jobs until none is left, printing one JSON line
 * per claim. argv: dataDir workerId mode(drain|hold) startAtMs. The key comes from OUTPORT_SECRET_KEY.
 *   drain: claim, complete at once, repeat until nothing is claimable for 400 ms
 *   hold:  claim and keep (no completion) until nothing is claimable for 600 ms
 */
import { openSqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';

async function main(): Promise<void> {
  const [dataDir, workerId, mode, startAt] = process.argv.slice(2);
  const backend = await openSqliteBackend({ dataDir });
  const wait = Number(startAt) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  let idleSince = Date.now();
  const idleLimit = mode === 'drain' ? 400 : 600;
  while (Date.now() - idleSince < idleLimit) {
    const c = await backend.queue.claim(workerId, 60_000);
    if (!c) { await new Promise((r) => setTimeout(r, 5)); continue; }
    idleSince = Date.now();
    let completed: boolean | undefined;
    if (mode === 'drain') {
      completed = await backend.queue.complete(c.lease, {
        action: 'full',
        export: { outcome: 'Completed', itemsExported: 0, bytesExported: 0, sourceBytes: 0, itemsSkipped: 0, errors: 0, parts: [], fidelity: { full: 0, rest: 0 }, startedAt: '', finishedAt: '' },
      });
    }
    process.stdout.write(JSON.stringify({ workerId, jobId: c.job.id, projectId: c.project.id, source: c.item.source, mailbox: c.item.mailbox, completed }) + '\n');
  }
  await backend.close();
}

main().catch((e) => { process.stderr.write(String((e as Error).stack ?? e)); process.exit(1); });
