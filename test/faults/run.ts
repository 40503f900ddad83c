/**
 * `npm run test:faults`: the fault tests of issue 6 (test/faults/*.test.ts: a–e) and the PST reader
 * fuzz at CI's count (test/pst/reader-fuzz.test.ts: f) through jest, bounded by 15 minutes; then the
 * figures each test recorded (key=value lines) and, as the last line, their sum:
 *   faults: result=pass items_lost=0 items_duplicated=0 kills=4 takeovers=… …
 * `npm test` runs the same files once (jest picks up test/**\/*.test.ts); this command is the
 * stand-alone run with the summary. Exit code: jest's (124 when the bound was hit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BOUND_MS = 15 * 60_000;
const repo = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'outport-faults-'));
const figuresFile = path.join(dir, 'figures.txt');
const t0 = Date.now();
const jest = spawn(process.execPath, [path.join(repo, 'node_modules/jest/bin/jest.js'), 'test/faults', 'test/pst/reader-fuzz.test.ts', '--runInBand', ...process.argv.slice(2)], {
  cwd: repo, stdio: 'inherit', env: { ...process.env, OUTPORT_FAULTS_FIGURES: figuresFile },
});
const timer = setTimeout(() => { process.stderr.write(`test:faults: over ${BOUND_MS / 60_000} minutes, stopping\n`); jest.kill('SIGTERM'); }, BOUND_MS);
jest.on('exit', (code, signal) => {
  clearTimeout(timer);
  const exit = signal ? 124 : code ?? 1;
  const lines = existsSync(figuresFile) ? readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean) : [];
  rmSync(dir, { recursive: true, force: true });
  const figures = lines.map((l) => Object.fromEntries(l.split(' ').map((kv) => kv.split('=') as [string, string])));
  const byTest = (t: string) => figures.find((f) => f.test === t) ?? {};
  const sum = (k: string) => figures.reduce((a, f) => a + (Number(f[k]) || 0), 0);
  const a = byTest('a'); const b = byTest('b'); const c = byTest('c'); const d = byTest('d'); const e = byTest('e'); const csv = byTest('e-csv');
  process.stdout.write(`\nfigures:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  const summary = {
    result: exit === 0 ? 'pass' : 'fail',
    items_lost: sum('items_lost'), items_duplicated: sum('items_duplicated'),
    a_mailboxes: a.mailboxes ?? '-', a_items: a.items ?? '-', a_kills: a.kills ?? '-', a_takeovers: a.takeovers ?? '-', a_bad_parts: a.bad_parts ?? '-',
    b_redis_restarts: b.restarts ?? '-', c_blob_failures: c.blob_failures ?? '-', c_parts_identical: c.parts ? `${c.parts_identical}/${c.parts}` : '-',
    d_injected_429: d.injected_429 ?? '-', d_max_in_flight_per_mailbox: d.max_in_flight_per_mailbox ?? '-',
    e_requests: e.requests ?? '-', e_5xx: e.status_5xx ?? '-', e_formula_cells_unescaped: csv.formula_cells_unescaped ?? '-',
    f_pst_fuzz: 'test/pst/reader-fuzz.test.ts', duration_s: Math.round((Date.now() - t0) / 1000),
  };
  process.stdout.write(`faults: ${Object.entries(summary).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  process.exit(exit);
});
