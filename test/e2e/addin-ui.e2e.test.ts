/**
 * The production build of the task pane in headless Chromium, against a fake worker API answered
 * by Playwright routes (test/e2e/addin-fake-api.ts) and the Office.js stub: sign-in, my mailbox,
 * inline destination errors, admin search and multi-select, CSV row errors, verify, export,
 * progress, statistics, theme switch, and no horizontal scrolling at 320 and 450 px. Writes the
 * README's screenshots (350 px) to docs/screenshots/. The same flows against the real worker,
 * the sandbox tenant and Azurite are in addin.e2e.test.ts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { describeWhenAvailable } from '../pst/shared-samples';
import { FAKE_USERS, FakeWorker } from './addin-fake-api';
import { CHROMIUM, ROOT, buildAddin, launchChromium, routeOffice, serveAddin, ui } from './addin-harness';

// Browser globals inside page.evaluate callbacks (this file compiles with Node's libs only).
declare const document: { activeElement: unknown; documentElement: { scrollWidth: number; clientWidth: number } };
declare const window: Record<string, unknown>;


const SHOTS = path.join(ROOT, 'docs', 'screenshots');
/** Screenshots of every width and theme, for a person to look at (not committed). */
const MORE_SHOTS = path.join(tmpdir(), 'outport-addin-shots');

describeWhenAvailable('add-in in Chromium (fake worker API)', existsSync(CHROMIUM) ? [] : [CHROMIUM], () => {
  let build: ReturnType<typeof buildAddin>;
  let server: Awaited<ReturnType<typeof serveAddin>>;
  let browser: Browser;

  beforeAll(async () => {
    build = buildAddin();
    server = await serveAddin(build.dir);
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(MORE_SHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    build?.cleanup();
  });

  async function open(width: number, theme: 'light' | 'dark', fake = new FakeWorker()): Promise<{ page: Page; fake: FakeWorker }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await routeOffice(page, theme);
    await fake.install(page, server.url);
    await page.goto(`${server.url}/taskpane.html`);
    return { page, fake };
  }

  async function signIn(page: Page, mail: string): Promise<void> {
    const user = FAKE_USERS.find((u) => u.mail === mail)!;
    await page.getByLabel('Email address').fill(user.mail);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'My mailbox' }).waitFor();
  }

  async function noHorizontalScroll(page: Page): Promise<void> {
    const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(scroll).toBeLessThanOrEqual(client);
  }

  it('self-service: wrong password refused, my mailbox, inline error, export my archive to Completed', async () => {
    const { page } = await open(350, 'light');
    try {
      await page.getByLabel('Email address').fill('adele@sandbox.outport.test');
      await page.getByLabel('Password').fill('wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await ui(page.getByRole('alert')).toContainText('user name or password is wrong');
      await signIn(page, 'adele@sandbox.outport.test');
      await ui(page.getByRole('tab', { name: 'Admin' })).toHaveCount(0);
      const archive = page.getByRole('group', { name: 'Archive' });
      await ui(archive).toContainText('6.2 GB');
      await ui(archive).toContainText('18,211 items');
      await page.screenshot({ path: path.join(SHOTS, 'my-mailbox.png'), fullPage: true });

      await page.getByLabel('Storage account name').fill('OutportExports');
      await page.getByLabel('Account key').fill('c2VjcmV0a2V5c2VjcmV0a2V5');
      await ui(page.getByText('Capital letters are not allowed in a storage account name: use "outportexports"')).toBeVisible();
      await page.getByRole('group', { name: 'Destination' }).screenshot({ path: path.join(SHOTS, 'destination-error.png') });

      await page.getByLabel('Storage account name').fill('outportexports');
      await ui(page.getByText('Capital letters are not allowed')).toHaveCount(0);
      await page.getByRole('button', { name: 'Export my archive' }).click();
      const card = page.getByRole('group', { name: 'adele@sandbox.outport.test' });
      await ui(card).toContainText('Running', { timeout: 10_000 });
      await ui(card.getByRole('progressbar')).toBeVisible();
      await page.screenshot({ path: path.join(SHOTS, 'progress.png'), fullPage: true });
      await ui(card).toContainText('Completed', { timeout: 15_000 });
      await ui(card).toContainText('1,200 of 1,200 items');
      await card.getByRole('button', { name: 'PST files' }).click();
      await ui(card.getByRole('link', { name: 'adele-archive.pst' })).toHaveAttribute('href', /sig=/);
      await noHorizontalScroll(page);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('admin: search, select two users, CSV row errors per row, verify, export, both Completed, statistics', async () => {
    const fake = new FakeWorker(1500);
    const { page } = await open(350, 'dark', fake);
    try {
      await signIn(page, 'megan@sandbox.outport.test');
      await page.getByRole('tab', { name: 'Admin' }).click();
      await page.getByRole('searchbox').fill('al');
      const grid = page.getByRole('grid', { name: 'Search results' });
      await ui(grid).toContainText('Allan Deyoung');
      await grid.getByRole('checkbox', { name: 'Select Alex Wilber' }).check();
      await grid.getByRole('checkbox', { name: 'Select Allan Deyoung' }).check();
      await ui(page.getByText('2 selected')).toBeVisible();
      await page.screenshot({ path: path.join(SHOTS, 'admin-selection.png'), fullPage: true });

      await page.getByLabel('Mailboxes from CSV').fill('source,destination\nnestor@sandbox.outport.test,nestor.pst\nnot-an-address,x.pst\nadele@sandbox.outport.test,adele.txt');
      await page.getByLabel('Storage account name').fill('outportexports');
      await page.getByLabel('Account key').fill('c2VjcmV0a2V5c2VjcmV0a2V5');
      await page.getByRole('button', { name: 'Create export' }).click();
      const rows = page.getByRole('table', { name: 'CSV rows' });
      await ui(rows.getByRole('row').nth(3)).toContainText('"not-an-address" is not an email address.');
      await ui(rows.getByRole('row').nth(4)).toContainText('The PST name must end in .pst.');
      await ui(rows.locator('[aria-invalid="true"]')).toHaveCount(2);
      await page.getByLabel('Mailboxes from CSV').fill('nestor@sandbox.outport.test,nestor.pst');
      await page.getByRole('button', { name: 'Create export' }).click();

      await ui(page.getByRole('heading', { name: /^Export / })).toBeVisible();
      // One project only: the users were added on the first attempt and the CSV on the second.
      expect(fake.projects).toHaveLength(1);
      expect(fake.projects[0].items.map((i) => i.source).sort()).toEqual(['alex@sandbox.outport.test', 'allan@sandbox.outport.test', 'nestor@sandbox.outport.test']);

      await page.getByRole('button', { name: 'Verify' }).click();
      await ui(page.getByRole('list', { name: 'Verification' }).first()).toContainText('Container writable');
      await page.getByRole('button', { name: 'Start' }).click();
      for (const who of ['alex', 'allan', 'nestor']) {
        await ui(page.getByRole('group', { name: `${who}@sandbox.outport.test` })).toContainText('Completed', { timeout: 15_000 });
      }
      await page.getByRole('button', { name: 'Show statistics' }).click();
      await ui(page.getByRole('group', { name: 'Totals' })).toContainText('3,600');
      await page.getByRole('region', { name: 'Statistics' }).scrollIntoViewIfNeeded();
      await page.getByRole('region', { name: 'Statistics' }).screenshot({ path: path.join(SHOTS, 'statistics.png') });
      const download = page.waitForEvent('download');
      await page.getByRole('button', { name: 'Download CSV' }).click();
      expect((await download).suggestedFilename()).toMatch(/statistics\.csv$/);
      await noHorizontalScroll(page);
    } finally {
      await page.close();
    }
  }, 90_000);

  it.each([[320, 'light'], [320, 'dark'], [450, 'light'], [450, 'dark']] as const)('%i px, %s: fits without horizontal scrolling', async (width, theme) => {
    const { page } = await open(width, theme);
    try {
      await signIn(page, 'megan@sandbox.outport.test');
      await ui(page.locator('[data-theme]')).toHaveAttribute('data-theme', theme);
      await noHorizontalScroll(page);
      await page.screenshot({ path: path.join(MORE_SHOTS, `mine-${width}-${theme}.png`), fullPage: true });
      await page.getByRole('tab', { name: 'Admin' }).click();
      await page.getByRole('searchbox').fill('al');
      await ui(page.getByRole('grid', { name: 'Search results' })).toBeVisible();
      await noHorizontalScroll(page);
      await page.screenshot({ path: path.join(MORE_SHOTS, `admin-${width}-${theme}.png`), fullPage: true });
    } finally {
      await page.close();
    }
  }, 60_000);

  it('follows Office when its theme changes', async () => {
    const { page } = await open(350, 'light');
    try {
      await ui(page.locator('[data-theme]')).toHaveAttribute('data-theme', 'light');
      await page.evaluate(() => { window.__officeTheme = { bodyBackgroundColor: '#1f1f1f' }; });
      await ui(page.locator('[data-theme]')).toHaveAttribute('data-theme', 'dark', { timeout: 8000 });
    } finally {
      await page.close();
    }
  }, 30_000);

  it('keyboard: the sign-in form is reachable and submits with Tab and Enter; tabs move with the arrow keys', async () => {
    const { page } = await open(350, 'light');
    try {
      await page.getByLabel('Email address').waitFor();
      await page.keyboard.press('Tab');
      await ui(page.getByLabel('Email address')).toBeFocused();
      await page.keyboard.type('alex@sandbox.outport.test');
      await page.keyboard.press('Tab');
      await ui(page.getByLabel('Password')).toBeFocused();
      await page.keyboard.type('Alex-sandbox-1');
      await page.keyboard.press('Enter');
      await ui(page.getByRole('tab', { name: 'My mailbox' })).toBeVisible();
      // Tabs: arrow keys move between them (Fluent TabList), Enter/Space selects.
      await page.getByRole('tab', { name: 'My mailbox' }).focus();
      await page.keyboard.press('ArrowRight');
      await ui(page.getByRole('tab', { name: 'Exports' })).toBeFocused();
      await page.keyboard.press('Enter');
      await ui(page.getByRole('tab', { name: 'Exports' })).toHaveAttribute('aria-selected', 'true');
      await ui(page.getByText('No exports yet.')).toBeVisible();
    } finally {
      await page.close();
    }
  }, 30_000);
});
