// Which code `outport` runs: the compiled build in dist/ (`npm run build`: tsc with tsconfig.build.json)
// when it was built from exactly the sources now in worker-service/src, else the sources through tsx.
// A deployed worker should run the build: tsx's CommonJS output reads every imported binding through
// a getter, which cost the PST writer and the export pipeline 5-25 % of their CPU (docs/benchmarks.md).
// Plain JavaScript with no dependencies (bin/outport.js loads it before anything else).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCES = path.join(ROOT, 'worker-service', 'src');
/** The compiled build's directory; OUTPORT_DIST_DIR overrides it (tests). */
const distDir = (env = process.env) => (env.OUTPORT_DIST_DIR ? path.resolve(env.OUTPORT_DIST_DIR) : path.join(ROOT, 'dist'));
const INFO = 'build-info.json';

/**
 * SHA-256 (hex) over the relative path and the bytes of every .ts file under worker-service/src, in
 * path order: what a build was made from. ~10 ms for the project's ~3 MB of sources.
 * @returns {string}
 */
function sourceFingerprint() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.ts')) files.push(p);
    }
  };
  walk(SOURCES);
  files.sort();
  const h = crypto.createHash('sha256');
  for (const f of files) {
    h.update(path.relative(ROOT, f).split(path.sep).join('/'));
    h.update('\0');
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

/**
 * The compiled CLI to run, if any.
 * @param {Record<string, string | undefined>} [env]
 * @returns {{ entry?: string, stale?: boolean, dir: string }} `entry`: dist's cli.js, current;
 *          `stale`: a build exists but was made from other sources (or is incomplete); neither: no build
 */
function compiledCli(env = process.env) {
  const dir = distDir(env);
  const entry = path.join(dir, 'worker-service', 'src', 'cli.js');
  let info;
  try { info = JSON.parse(fs.readFileSync(path.join(dir, INFO), 'utf8')); } catch { return { dir }; }
  if (!info || info.sources !== sourceFingerprint() || !fs.existsSync(entry)) return { dir, stale: true };
  return { dir, entry };
}

/** Records what the build in dist/ was made from (run by `npm run build` after tsc). */
function writeBuildInfo(env = process.env) {
  const dir = distDir(env);
  if (!fs.existsSync(path.join(dir, 'worker-service', 'src', 'cli.js'))) throw new Error(`${dir} holds no compiled worker-service/src/cli.js: run tsc -p tsconfig.build.json first`);
  fs.writeFileSync(path.join(dir, INFO), JSON.stringify({ sources: sourceFingerprint(), builtAt: new Date().toISOString(), node: process.version }, null, 2) + '\n');
}

module.exports = { compiledCli, sourceFingerprint, writeBuildInfo };

if (require.main === module) {
  if (process.argv[2] !== '--write-info') { console.error('usage: node bin/compiled.js --write-info'); process.exit(2); }
  try { writeBuildInfo(); } catch (err) { console.error(`outport build: ${err.message}`); process.exit(1); }
}
