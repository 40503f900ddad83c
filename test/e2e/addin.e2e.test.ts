/**
 * The production add-in in headless Chromium against the real worker API and runner
 * (test/api/helpers.ts startApiStack: sandbox tenant with its HTTPS token service, Azurite, SQLite
 * jobs), served from one origin (the static server proxies /api/ to the worker, event stream
 * included), Office.js routed to the stub. Flows of issue 5:
 *  - admin: search, select two users, destination, verify, export, both Completed, statistics;
 *  - self-service: a user exports their own archive; the same user is refused another's mailbox;
 *  - errors: a storage account name with capitals shows the inline error; a 403 shows a clear message.
 * Every PST the flows create is downloaded through its read link and must pass the checker.
 *
 * Sign-in is the pane's own sandbox sign-in, nothing relayed or minted by the test: the pane reads
 * `sandboxSignIn.tokenUrl` from `GET /api/v1/config` and posts the password grant straight to the
 * sandbox's plain-HTTP token endpoint (CORS), whose tokens carry the HTTPS authority's issuer. The
 * browser context does not ignore certificate errors: the sandbox's self-signed HTTPS authority is
 * never contacted by the browser. The admin is the seeded "Outport Admin" (Exchange Administrator:
 * its password-grant token carries the role's `wids`); docs/addin.md "Tests".
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeWhenAvailable } from '../pst/shared-samples';
import { CHROMIUM, ROOT, buildAddin, launchChromium, routeOffice, serveAddin, ui } from './addin-harness';

const API_DIR = path.join(ROOT, 'worker-service', 'src', 'api');
const missing = [...(existsSync(CHROMIUM) ? [] : [CHROMIUM]), ...(existsSync(path.join(API_DIR, 'server.ts')) ? [] : [API_DIR])];

describeWhenAvailable('add-in in Chromium against the worker, sandbox and Azurite', missing, () => {
  // Loaded lazily so that a missing worker API is a visible skip, not a module error.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const helpers = () => require('../api/helpers') as typeof import('../api/helpers');
  let stack: import('../api/helpers').ApiStack;
  let build: ReturnType<typeof buildAddin>;
  let server: Awaited<ReturnType<typeof serveAddin>>;
  let browser: Browser;
  let work: string;

  beforeAll(async () => {
    stack = await helpers().startApiStack({ worker: true, sandbox: { mailLimit: 10 } });
    build = buildAddin();
    server = await serveAddin(build.dir, stack.baseUrl);
    browser = await launchChromium();
    work = mkdtempSync(path.join(tmpdir(), 'outport-addin-e2e-'));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await stack?.stop();
    build?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const sandboxUser = (given: string) => stack.sb.users.find((u) => u.givenName === given)!;
  /** The seeded admin's given name ("Outport Admin", the one user with a directory role). */
  const ADMIN = 'Outport';

  async function open(theme: 'light' | 'dark' = 'light'): Promise<{ page: Page; context: BrowserContext }> {
    const context = await browser.newContext({ viewport: { width: 350, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await routeOffice(page, theme);
    // Every token request the pane makes, to prove where it went (no route: the browser sends it itself).
    page.on('request', (r) => { if (/\/oauth2\/v2\.0\/token$/.test(r.url())) tokenRequests.push(r.url()); });
    await page.goto(`${server.url}/taskpane.html`);
    return { page, context };
  }

  const tokenRequests: string[] = [];

  /** Signs in through the pane's form; the pane's own password grant went to the sandbox's sign-in URL. */
  async function signIn(page: Page, given: string): Promise<void> {
    const u = sandboxUser(given);
    const before = tokenRequests.length;
    await page.getByLabel('Email address').fill(u.userPrincipalName);
    await page.getByLabel('Password').fill(u.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    try {
      await ui(page.getByRole('tab', { name: 'My mailbox' })).toBeVisible({ timeout: 20_000 });
    } catch (err) {
      const alerts = await page.getByRole('alert').allTextContents().catch(() => []);
      throw new Error(`${(err as Error).message}; the pane says: ${alerts.join(' | ') || '(no alert)'}`);
    }
    const sent = tokenRequests.slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(new Set(sent)).toEqual(new Set([stack.sb.signInTokenUrl]));
  }

  async function fillAzurite(page: Page, accountName: string = stack.az.accountName): Promise<void> {
    await page.getByLabel('Storage account name').fill(accountName);
    await page.getByLabel('Account key').fill(stack.az.accountKey);
    await page.getByRole('combobox', { name: 'Storage cloud' }).selectOption('custom');
    await page.getByLabel('Blob endpoint').fill(stack.az.blobEndpoint);
  }

  /** Downloads every part of every item of the project through its read link and runs the checker. */
  async function checkParts(page: Page, projectId: string): Promise<number> {
    const { checkPst } = require('../../worker-service/src/pst/check') as typeof import('../../worker-service/src/pst/check');
    const items = await apiFromPage<{ value: { id: string }[] }>(page, `/api/v1/projects/${projectId}/items`);
    let n = 0;
    for (const it of items.value) {
      const parts = await apiFromPage<{ value: { name: string; url?: string; sizeBytes: number }[] }>(page, `/api/v1/projects/${projectId}/items/${it.id}/parts`);
      for (const p of parts.value) {
        const bytes = Buffer.from(await (await globalThis.fetch(p.url!)).arrayBuffer());
        expect(bytes.length).toBe(p.sizeBytes);
        const file = path.join(work, `${projectId}-${p.name}`);
        writeFileSync(file, bytes);
        expect((await checkPst(file)).findings).toEqual([]);
        n++;
      }
    }
    return n;
  }

  /** Calls the API from inside the page with the pane's own sign-in (a fresh sandbox token). */
  async function apiFromPage<T>(page: Page, apiPath: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const r = await page.evaluate(async ({ apiPath: p, init: i, tokenUrl, clientId, user }) => {
      const form = new URLSearchParams({ grant_type: 'password', client_id: clientId, scope: `api://${clientId}/access_as_user`, username: user.u, password: user.p });
      const tok = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
      const { access_token } = (await tok.json()) as { access_token: string };
      const res = await fetch(p, { method: i.method ?? 'GET', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: i.body === undefined ? undefined : JSON.stringify(i.body) });
      return { status: res.status, body: await res.json() };
    }, { apiPath, init, tokenUrl: stack.sb.signInTokenUrl, clientId: stack.sb.clientId, user: await pageUser(page) });
    if (r.status >= 400) throw Object.assign(new Error(`HTTP ${r.status}`), { status: r.status, body: r.body });
    return r.body as T;
  }

  const pageUsers = new WeakMap<Page, { u: string; p: string }>();
  async function pageUser(page: Page): Promise<{ u: string; p: string }> { return pageUsers.get(page)!; }

  it('admin: search, select two users, destination, verify, export, both Completed, statistics', async () => {
    const { page, context } = await open('light');
    try {
      expect(sandboxUser(ADMIN).directoryRoles?.map((r) => r.displayName)).toEqual(['Exchange Administrator']);
      pageUsers.set(page, { u: sandboxUser(ADMIN).userPrincipalName, p: sandboxUser(ADMIN).password });
      await signIn(page, ADMIN);
      await page.getByRole('tab', { name: 'Admin' }).click();
      const [a, b] = stack.sb.users.filter((u) => !u.inactive && u.givenName !== ADMIN).slice(0, 2);
      for (const u of [a, b]) {
        await page.getByRole('searchbox').fill(u.givenName);
        await page.getByRole('grid', { name: 'Search results' }).getByRole('checkbox', { name: `Select ${u.displayName}` }).check({ timeout: 20_000 });
      }
      await ui(page.getByText('2 selected')).toBeVisible();
      await fillAzurite(page);
      await page.getByLabel('Container', { exact: true }).fill('addin-admin');
      await page.getByRole('button', { name: 'Create export' }).click();
      await ui(page.getByRole('button', { name: 'Verify' })).toBeVisible({ timeout: 20_000 });
      await page.getByRole('button', { name: 'Verify' }).click();
      for (const u of [a, b]) await ui(page.getByRole('group', { name: u.mail })).toContainText('Verified', { timeout: 60_000 });
      await page.getByRole('button', { name: 'Start' }).click();
      for (const u of [a, b]) await ui(page.getByRole('group', { name: u.mail })).toContainText('Completed', { timeout: 180_000 });
      await page.getByRole('button', { name: 'Show statistics' }).click();
      await ui(page.getByRole('group', { name: 'Totals' })).toContainText('Items exported');
      const projectId = (await apiFromPage<{ value: { id: string; name: string }[] }>(page, '/api/v1/projects')).value.find((p) => p.name.startsWith('Export '))!.id;
      expect(await checkParts(page, projectId)).toBeGreaterThanOrEqual(2);
    } finally {
      await context.close();
    }
  }, 600_000);

  it('self-service: a user exports their own archive and is refused another\'s mailbox; capitals and 403 read clearly', async () => {
    const owner = stack.sb.users.find((u) => !u.inactive && u.archive && u.givenName !== ADMIN)!;
    const other = stack.sb.users.find((u) => !u.inactive && u.id !== owner.id)!;
    const { page, context } = await open('dark');
    try {
      pageUsers.set(page, { u: owner.userPrincipalName, p: owner.password });
      await signIn(page, owner.givenName);
      await ui(page.getByRole('tab', { name: 'Admin' })).toHaveCount(0);
      await ui(page.getByRole('group', { name: 'Archive' })).toContainText('items');
      await fillAzurite(page, 'DevStoreAccount1');
      await ui(page.getByText(/Capital letters are not allowed in a storage account name/)).toBeVisible();
      await fillAzurite(page);
      await page.getByLabel('Container', { exact: true }).fill('addin-self');
      await page.getByRole('button', { name: 'Export my archive' }).click();
      await ui(page.getByRole('group', { name: owner.mail })).toContainText('Completed', { timeout: 180_000 });
      const projects = (await apiFromPage<{ value: { id: string }[] }>(page, '/api/v1/projects')).value;
      expect(await checkParts(page, projects[0].id)).toBeGreaterThanOrEqual(1);

      // Refused another's mailbox (403 NotYourMailbox), as the pane words it.
      const refused = await apiFromPage(page, `/api/v1/projects/${projects[0].id}/items`, { method: 'POST', body: { items: [{ source: other.mail }] } }).catch((e: { status: number; body: { error: { code: string; message: string } } }) => e);
      expect((refused as { status: number }).status).toBe(403);
      const { ApiError, describeError } = require('../../addin/src/api/errors') as typeof import('../../addin/src/api/errors');
      const body = (refused as { body: { error: { code: string; message: string } } }).body.error;
      expect(body.code).toBe('NotYourMailbox');
      expect(describeError(new ApiError(403, body.code, body.message))).toMatch(/^You can only export your own mailbox and archive\./);
    } finally {
      await context.close();
    }
  }, 600_000);
});
