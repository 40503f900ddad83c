/**
 * bin/compiled.js and bin/outport.js: the compiled build (npm run build → dist/) runs when it was
 * made from exactly the sources in worker-service/src; a build of other sources is not run (a
 * notice, then tsx); with no build, tsx and no notice. The build goes to a temporary directory
 * under node_modules/.cache (OUTPORT_DIST_DIR), so a developer's own dist/ is not touched.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compiledCli, writeBuildInfo, sourceFingerprint } = require('../../bin/compiled.js') as {
  compiledCli: (env?: Record<string, string | undefined>) => { entry?: string; stale?: boolean; dir: string };
  writeBuildInfo: (env?: Record<string, string | undefined>) => void;
  sourceFingerprint: () => string;
};
const REPO = path.join(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'outport.js');

let dir: string;
beforeAll(() => {
  // inside the repository, so that the build resolves node_modules as dist/ does
  mkdirSync(path.join(REPO, 'node_modules', '.cache'), { recursive: true });
  dir = mkdtempSync(path.join(REPO, 'node_modules', '.cache', 'outport-test-build-'));
  const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `outport help` with the build directory given; reports whether modules of the build were loaded. */
function runHelp(distDir: string): { status: number | null; stderr: string; usedBuild: boolean } {
  const preload = path.join(dir, 'report.js');
  const report = path.join(dir, 'report.txt');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(report)}, String(Object.keys(require.cache).some((k) => k.startsWith(${JSON.stringify(distDir + path.sep)})))));\n`);
  const r = spawnSync(process.execPath, ['--require', preload, BIN, 'help'], { encoding: 'utf8', env: { ...process.env, OUTPORT_DIST_DIR: distDir } });
  return { status: r.status, stderr: r.stderr, usedBuild: readFileSync(report, 'utf8') === 'true' };
}

test('no build: the sources through tsx, no notice', () => {
  const none = path.join(dir, 'nothing-here');
  expect(compiledCli({ OUTPORT_DIST_DIR: none })).toEqual({ dir: none });
  const r = runHelp(none);
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.usedBuild).toBe(false);
});

test('a build of the current sources runs compiled', () => {
  const dist = path.join(dir, 'dist');
  writeBuildInfo({ OUTPORT_DIST_DIR: dist });
  expect(JSON.parse(readFileSync(path.join(dist, 'build-info.json'), 'utf8')).sources).toBe(sourceFingerprint());
  expect(compiledCli({ OUTPORT_DIST_DIR: dist }).entry).toBe(path.join(dist, 'worker-service', 'src', 'cli.js'));
  const r = runHelp(dist);
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.usedBuild).toBe(true);
});

test('a build of other sources is not run: a notice, then tsx', () => {
  const dist = path.join(dir, 'dist');
  const info = path.join(dist, 'build-info.json');
  const good = readFileSync(info, 'utf8');
  try {
    writeFileSync(info, JSON.stringify({ sources: '0'.repeat(64) }));
    expect(compiledCli({ OUTPORT_DIST_DIR: dist })).toEqual({ dir: dist, stale: true });
    const r = runHelp(dist);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/was built from other sources than worker-service\/src holds now; running the sources through tsx \(npm run build makes a current build\)/);
    expect(r.usedBuild).toBe(false);
  } finally {
    writeFileSync(info, good);
  }
});

test('writeBuildInfo refuses a directory without a compiled CLI', () => {
  expect(() => writeBuildInfo({ OUTPORT_DIST_DIR: path.join(dir, 'empty') })).toThrow(/holds no compiled worker-service\/src\/cli\.js: run tsc -p tsconfig.build.json first/);
});
