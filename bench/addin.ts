/**
 * `npm run bench:addin`: the task pane's production JavaScript size and first render time in
 * headless Chromium (issue 5, "Must show c"; goals ≤ 500 KiB minified JS, ≤ 1.5 s).
 *
 * 1. builds the add-in with webpack (production), or reuses the build cached for the same sources
 *    (test/e2e/addin-harness.ts buildAddin);
 * 2. sizes: the JavaScript taskpane.html loads before its first render (its entry script), and all
 *    JavaScript the pane may load later (lazy views; the MSAL chunk, loaded only for NAA), in KiB
 *    (1,024 bytes) minified, and gzip -9 of the initial script;
 * 3. first render: `--runs` fresh pages (default 5) at 350 px, Office.js routed to the stub and the
 *    worker's GET /config answered by the fake API; the time is from navigation start to the sign-in
 *    form on screen (performance.now() when the "Email address" field exists), median of the runs.
 *    The Office.js CDN itself is not in the figure (routed locally).
 * The last line is key=value pairs.
 *
 * Usage: npm run bench:addin -- [--runs 5]
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FakeWorker } from '../test/e2e/addin-fake-api';
import { buildAddin, launchChromium, routeOffice, serveAddin } from '../test/e2e/addin-harness';

declare const performance: { now(): number };
declare const document: { querySelector(s: string): unknown };

const KiB = 1024;

async function main(argv: string[]): Promise<void> {
  const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 5) || 5;
  const t0 = Date.now();
  const build = buildAddin();
  const buildSeconds = (Date.now() - t0) / 1000;
  try {
    const html = readFileSync(path.join(build.dir, 'taskpane.html'), 'utf8');
    // Minified HTML may leave attribute values unquoted.
    const initial = [...html.matchAll(/<script[^>]+src=["']?([^"' >]+\.js)/g)].map((m) => m[1]).filter((s) => !s.startsWith('http'));
    if (initial.length === 0) throw new Error('taskpane.html loads no local script: the build changed');
    const js = readdirSync(build.dir).filter((f) => f.endsWith('.js'));
    const size = (f: string): number => readFileSync(path.join(build.dir, f)).length;
    const initialBytes = initial.reduce((s, f) => s + size(f), 0);
    const initialGzip = initial.reduce((s, f) => s + gzipSync(readFileSync(path.join(build.dir, f)), { level: 9 }).length, 0);
    const paneFiles = js.filter((f) => !f.startsWith('signin.') && !f.startsWith('commands.'));
    const msal = js.filter((f) => f.startsWith('msal.')).reduce((s, f) => s + size(f), 0);
    const paneBytes = paneFiles.reduce((s, f) => s + size(f), 0);
    console.log(`build: ${buildSeconds.toFixed(1)} s; initial ${initial.join(', ')}; ${paneFiles.length} pane files`);

    const server = await serveAddin(build.dir);
    const browser = await launchChromium();
    const times: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext({ viewport: { width: 350, height: 900 } });
        const page = await context.newPage();
        await routeOffice(page, 'light');
        await new FakeWorker().install(page, server.url);
        await page.goto(`${server.url}/taskpane.html`);
        await page.getByLabel('Email address').waitFor({ timeout: 30_000 });
        const ms = await page.evaluate(() => (document.querySelector('input[type=email]') ? performance.now() : -1));
        times.push(ms);
        console.log(`run ${i + 1}: first render ${ms.toFixed(0)} ms`);
        await context.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log([
      `initial_js_kib=${(initialBytes / KiB).toFixed(1)}`,
      `initial_js_gzip_kib=${(initialGzip / KiB).toFixed(1)}`,
      `pane_js_total_kib=${(paneBytes / KiB).toFixed(1)}`,
      `msal_chunk_kib=${(msal / KiB).toFixed(1)}`,
      `first_render_ms=${median.toFixed(0)}`,
      `first_render_max_ms=${times[times.length - 1].toFixed(0)}`,
      `runs=${runs}`,
      `goal_js_kib=500 goal_render_ms=1500`,
      `js_goal_met=${initialBytes <= 500 * KiB} render_goal_met=${median <= 1500}`,
    ].join(' '));
  } finally {
    build.cleanup();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err) + '\n');
  process.exitCode = 1;
});
