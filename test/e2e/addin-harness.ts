/**
 * Shared pieces of the add-in's browser tests: a production build of the add-in into a temp dir,
 * a static server for it (optionally proxying /api/ to a worker, so the pane and API share an
 * origin, SSE included), headless Debian Chromium through playwright-core, and an Office.js stub
 * routed in place of the CDN script (FACTS.md "Office add-in conventions": no Outlook here).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';

// Browser globals inside page.evaluate callbacks (this file compiles with Node's libs only).
declare const document: { activeElement: unknown; documentElement: { scrollWidth: number; clientWidth: number } };


export const ROOT = path.resolve(__dirname, '..', '..');
export const CHROMIUM = '/usr/bin/chromium';
export const OFFICE_JS_URL = 'https://appsforoffice.microsoft.com/lib/1/hosted/office.js';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Every input of the add-in build, for the build cache key. */
function buildInputs(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else files.push(f);
    }
  };
  walk(path.join(ROOT, 'addin', 'src'));
  walk(path.join(ROOT, 'addin', 'assets'));
  files.push(path.join(ROOT, 'webpack.config.js'), path.join(ROOT, 'manifest.xml'), path.join(ROOT, 'addin', 'tsconfig.json'),
    path.join(ROOT, 'worker-service', 'src', 'storage', 'validate.ts'), path.join(ROOT, 'package-lock.json'));
  return files.sort();
}

/**
 * A production build of the add-in (webpack), shared by the browser tests and the benchmark: kept in
 * node_modules/.cache/outport-addin/<hash of every input and of `env`>, built once per change (the
 * build takes about a minute on 2 cores). $OUTPORT_ADDIN_DIST, when set, is used as is.
 */
export function buildAddin(env: Record<string, string> = {}): { dir: string; cleanup(): void } {
  if (process.env.OUTPORT_ADDIN_DIST) return { dir: process.env.OUTPORT_ADDIN_DIST, cleanup: () => undefined };
  const hash = createHash('sha256');
  for (const f of buildInputs()) hash.update(f).update(readFileSync(f));
  hash.update(JSON.stringify(env));
  const cache = path.join(ROOT, 'node_modules', '.cache', 'outport-addin');
  const dir = path.join(cache, hash.digest('hex').slice(0, 16));
  const keep = { dir, cleanup: () => undefined };
  if (existsSync(path.join(dir, 'taskpane.html'))) return keep;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(path.join(cache, 'build-'));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'webpack', 'bin', 'webpack.js'), '--mode', 'production', '--config', path.join(ROOT, 'webpack.config.js')], {
    cwd: ROOT, env: { ...process.env, OUTPORT_ADDIN_OUT: tmp, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`webpack failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test process finished the same build first
  }
  return keep;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.png': 'image/png', '.xml': 'application/xml', '.json': 'application/json' };

/** Serves `dir` on 127.0.0.1:<free port>; `/api/` goes to `apiTarget` when given (streams pass through). */
export async function serveAddin(dir: string, apiTarget?: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (apiTarget && u.pathname.startsWith('/api/')) {
      const target = new URL(u.pathname + u.search, apiTarget);
      const up = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(up);
      return;
    }
    const file = path.join(dir, path.normalize(decodeURIComponent(u.pathname)).replace(/^([/\\])+/, ''));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** Launches headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Office's light and dark theme colours (Outlook's "White" and "Black" themes). */
export const OFFICE_THEMES = {
  light: { bodyBackgroundColor: '#ffffff', bodyForegroundColor: '#000000', controlBackgroundColor: '#ffffff', controlForegroundColor: '#000000' },
  dark: { bodyBackgroundColor: '#1f1f1f', bodyForegroundColor: '#ffffff', controlBackgroundColor: '#292929', controlForegroundColor: '#ffffff' },
};

/**
 * The Office.js stand-in: `Office.onReady` resolves with host Outlook, `officeTheme` from
 * `window.__officeTheme` (tests switch it), requirement sets as given (NestedAppAuth absent by
 * default), and a dialog API that reports 12011 (a real popup cannot open here).
 */
export function officeStub(theme: keyof typeof OFFICE_THEMES, sets: Record<string, string> = {}): string {
  return `(() => {
  window.__officeTheme = ${JSON.stringify(OFFICE_THEMES[theme])};
  const sets = ${JSON.stringify(sets)};
  const ctx = {
    get officeTheme() { return window.__officeTheme; },
    requirements: { isSetSupported: (name, v) => name in sets && Number(sets[name]) >= Number(v ?? 0) },
    ui: { displayDialogAsync: (url, opts, cb) => cb({ status: 'failed', error: { code: 12011, message: 'blocked' } }), messageParent: () => {} },
    mailbox: {},
  };
  window.Office = {
    HostType: { Outlook: 'Outlook' },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    EventType: { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' },
    context: ctx,
    onReady: (cb) => { const info = { host: 'Outlook', platform: 'OfficeOnline' }; if (cb) cb(info); return Promise.resolve(info); },
  };
})();`;
}

/** Routes the Office.js CDN URL of `page` to the stub. */
export async function routeOffice(page: Page, theme: keyof typeof OFFICE_THEMES, sets?: Record<string, string>): Promise<void> {
  await page.route(OFFICE_JS_URL, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: officeStub(theme, sets) }));
}

/**
 * Web-first assertions on a locator (playwright-core has no `expect`): each polls every 100 ms
 * until it holds or `timeout` (default 5 s) passes, then throws naming what it waited for.
 */
export function ui(loc: Locator) {
  const poll = async (check: () => Promise<boolean>, what: string, timeout = 5000): Promise<void> => {
    const end = Date.now() + timeout;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > end) {
        const seen = await loc.first().textContent({ timeout: 500 }).catch(() => '(nothing)');
        throw new Error(`timed out after ${timeout} ms waiting for ${what} on ${String(loc)}; text: ${seen}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  type T = { timeout?: number };
  return {
    toContainText: (text: string, o: T = {}) => poll(async () => ((await loc.first().textContent({ timeout: 200 })) ?? '').includes(text), `text "${text}"`, o.timeout),
    toBeVisible: (o: T = {}) => poll(() => loc.first().isVisible(), 'visible', o.timeout),
    toHaveCount: (n: number, o: T = {}) => poll(async () => (await loc.count()) === n, `count ${n}`, o.timeout),
    toHaveAttribute: (name: string, value: string | RegExp, o: T = {}) => poll(async () => {
      const v = await loc.first().getAttribute(name, { timeout: 200 });
      return v !== null && (typeof value === 'string' ? v === value : value.test(v));
    }, `attribute ${name}=${String(value)}`, o.timeout),
    toBeFocused: (o: T = {}) => poll(() => loc.first().evaluate((el) => el === document.activeElement || (el as unknown as { contains(other: unknown): boolean }).contains(document.activeElement)), 'focus', o.timeout),
  };
}
