/** `outport jobs` and `outport stats` (cli/jobs.ts, cli/stats.ts) on a SQLite data directory, through bin/outport.js. */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';

const BIN = path.resolve(__dirname, '../../bin/outport.js');
jest.setTimeout(120_000);

describe('outport jobs / stats', () => {
  let dir: string;
  let key: string;
  let projectId: string;
  const accountKey = randomBytes(64).toString('base64');
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, OUTPORT_SECRET_KEY: key } });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'outport-cli-jobs-'));
    key = randomBytes(32).toString('base64');
    const b = await openSqliteBackend({ dataDir: dir, secretKey: Buffer.from(key, 'base64') });
    const p = await b.store.createProject({ tenantId: 'tid-1', createdBy: 'u', name: 'Quarter end', destination: { accountName: 'acct', accountKey } });
    projectId = p.id;
    await b.store.addItems('tid-1', p.id, [
      { source: '=evil@contoso.com', mailbox: 'primary', pstName: 'evil.pst' },
      { source: 'ann@contoso.com', mailbox: 'archive', pstName: 'ann-archive.pst' },
    ]);
    await b.queue.enqueue({ tenantId: 'tid-1', projectId: p.id, action: 'full', itemIds: [(await b.store.listItems('tid-1', p.id))[1].id] });
    await b.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('jobs lists projects, items and states; never the key', () => {
    const r = cli('jobs', '--data-dir', dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${projectId}  Quarter end  tenant tid-1  2 items (NotStarted 1, Queued 1)`);
    expect(r.stdout).toMatch(/NotStarted\s+=evil@contoso\.com \(primary\)\s+evil\.pst/);
    expect(r.stdout).toMatch(/Queued\s+ann@contoso\.com \(archive\)\s+ann-archive\.pst/);
    const j = cli('jobs', '--data-dir', dir, '--json');
    expect(j.status).toBe(0);
    const parsed = JSON.parse(j.stdout) as { projects: { items: unknown[] }[] };
    expect(parsed.projects[0].items.length).toBe(2);
    expect(r.stdout + j.stdout).not.toContain(accountKey);
  });

  /** Runs a command module in this process, capturing stdout and stderr. */
  async function inProcess(run: (argv: string[]) => Promise<number>, ...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => { stdout += String(c); return true; });
    const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => { stderr += String(c); return true; });
    const saved = process.env.OUTPORT_SECRET_KEY;
    process.env.OUTPORT_SECRET_KEY = key;
    try {
      return { status: await run(argv), stdout, stderr };
    } finally {
      out.mockRestore();
      err.mockRestore();
      if (saved === undefined) delete process.env.OUTPORT_SECRET_KEY; else process.env.OUTPORT_SECRET_KEY = saved;
    }
  }

  test('stats as JSON and as CSV (formula cell escaped); errors and exit codes', async () => {
    const stats = (await import('../../worker-service/src/cli/stats')).run;
    const jobs = (await import('../../worker-service/src/cli/jobs')).run;
    const j = await inProcess(stats, '--project', projectId, '--data-dir', dir);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout).totals).toMatchObject({ items: 2, itemsExported: 0 });
    const c = await inProcess(stats, '--project', projectId, '--data-dir', dir, '--csv');
    expect(c.status).toBe(0);
    expect(c.stdout.split('\r\n')[1]).toContain(",'=evil@contoso.com,");
    expect((await inProcess(stats, '--project', 'nope', '--data-dir', dir)).status).toBe(1);
    expect((await inProcess(jobs, '--project', 'nope', '--data-dir', dir)).status).toBe(1);
    await expect(inProcess(stats, '--data-dir', dir)).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/--project/) });
    await expect(inProcess(jobs, '--data-dir', path.join(dir, 'none'))).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/holds no jobs database/) });
    // Through the binary, a usage error is exit code 2 with the message on stderr.
    const missing = cli('stats', '--data-dir', dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/stats needs --project/);
  });
});
