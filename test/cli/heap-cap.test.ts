/**
 * The heap cap of the long-running commands (bin/heap-cap.js, applied by bin/outport.js; docs/export.md
 * "Memory"): which command gets which cap, what overrides it, and that the launcher's child really
 * runs with it and passes its exit code through.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { heapCapMb, heapCapFlags } = require('../../bin/heap-cap.js') as {
  heapCapMb: (command: string | undefined, args: string[], env: Record<string, string | undefined>, execArgv: string[]) => number | undefined;
  heapCapFlags: (command: string | undefined, args: string[], env: Record<string, string | undefined>, execArgv: string[]) => string[];
};
const BIN = path.join(__dirname, '..', '..', 'bin', 'outport.js');

test('export 128 MiB; serve/worker 128 + 64 a further concurrent export; other commands none', () => {
  expect(heapCapMb('export', [], {}, [])).toBe(128);
  expect(heapCapMb('serve', [], {}, [])).toBe(320);
  expect(heapCapMb('serve', ['--concurrency', '2'], {}, [])).toBe(192);
  expect(heapCapMb('worker', ['--queue', 'redis://x', '--concurrency=1'], {}, [])).toBe(128);
  expect(heapCapMb('serve', ['--concurrency', 'lots'], {}, [])).toBe(320); // serve itself reports the bad value
  for (const c of ['check', 'convert', 'start', 'jobs', undefined]) expect(heapCapMb(c, [], {}, [])).toBeUndefined();
  expect(heapCapFlags('export', [], {}, [])).toEqual(['--max-old-space-size=128', '--heap-growing-percent=100']);
});

test('a cap the user gave wins; OUTPORT_HEAP_MB sets one (0: none) and is checked', () => {
  expect(heapCapMb('export', [], { NODE_OPTIONS: '--trace-gc --max-old-space-size=99' }, [])).toBeUndefined();
  expect(heapCapMb('export', [], {}, ['--max_old_space_size=50'])).toBeUndefined();
  expect(heapCapMb('export', [], { OUTPORT_HEAP_MB: '256' }, [])).toBe(256);
  expect(heapCapMb('check', [], { OUTPORT_HEAP_MB: '77' }, [])).toBe(77);
  expect(heapCapMb('export', [], { OUTPORT_HEAP_MB: '0' }, [])).toBeUndefined();
  expect(() => heapCapMb('export', [], { OUTPORT_HEAP_MB: '1.5' }, [])).toThrow(/OUTPORT_HEAP_MB must be a whole number/);
});

test('bin/outport.js: a capped command runs in a child with the flag; exit codes and messages pass through', () => {
  // a preload (passed on to the child with node's own flags) reports the child's heap limit
  const dir = mkdtempSync(path.join(tmpdir(), 'outport-heap-cap-'));
  try {
    const preload = path.join(dir, 'report.js');
    writeFileSync(preload, "if (process.env.OUTPORT_HEAP_CAPPED === '1') process.stderr.write('heap_limit=' + require('node:v8').getHeapStatistics().heap_size_limit + '\\n');\n");
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.OUTPORT_HEAP_MB;
    const bad = spawnSync(process.execPath, ['--require', preload, BIN, 'export', '--bogus'], { encoding: 'utf8', env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --bogus/);
    const limit = Number(/heap_limit=(\d+)/.exec(bad.stderr)?.[1]);
    expect(limit).toBeGreaterThan(128 * 2 ** 20);
    expect(limit).toBeLessThan(256 * 2 ** 20); // old space 128 MiB + the young generation
    // not capped: `help` runs in this process (no child, no report)
    const help = spawnSync(process.execPath, ['--require', preload, BIN, 'help'], { encoding: 'utf8', env });
    expect(help.status).toBe(0);
    expect(help.stderr).not.toMatch(/heap_limit/);
    const wrong = spawnSync(process.execPath, [BIN, 'help'], { encoding: 'utf8', env: { ...env, OUTPORT_HEAP_MB: 'x' } });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/OUTPORT_HEAP_MB must be a whole number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bin/outport.js: kill -9 of the launcher takes the capped child with it (no orphaned worker)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'outport-heap-cap-'));
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    // in the child: record the pid and stay alive (as a running worker would) after the command ends
    const preload = path.join(dir, 'stay.js');
    const pidFile = path.join(dir, 'child.pid');
    writeFileSync(preload, `if (process.env.OUTPORT_HEAP_CAPPED === '1') { require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000); }\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.OUTPORT_HEAP_MB;
    const launcher = spawn(process.execPath, ['--require', preload, BIN, 'export', '--bogus'], { env, stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await sleep(50);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(childPid).toBeGreaterThan(0);
    await sleep(300);
    expect(alive(childPid)).toBe(true); // the preload keeps it running
    launcher.kill('SIGKILL');
    for (let i = 0; i < 100 && alive(childPid); i++) await sleep(50);
    expect(alive(childPid)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
