/**
 * A fake of the worker API (docs/api.md) and the sandbox token service, answered inside Playwright
 * (`page.route`), for browser tests of the pane's views that must not wait for the real worker.
 * Exports run on a clock: an item runs for `runMs` after Start, then completes. State is per
 * instance; tokens are unsigned JWT-shaped strings naming the user.
 */
import type { Page, Route } from 'playwright-core';

export interface FakeUser { id: string; displayName: string; mail: string; userPrincipalName: string; password: string; admin: boolean; archive: boolean }

export const FAKE_USERS: FakeUser[] = [
  { id: 'u1', displayName: 'Adele Vance', mail: 'adele@sandbox.outport.test', userPrincipalName: 'adele@sandbox.outport.test', password: 'Adele-sandbox-1', admin: false, archive: true },
  { id: 'u2', displayName: 'Alex Wilber', mail: 'alex@sandbox.outport.test', userPrincipalName: 'alex@sandbox.outport.test', password: 'Alex-sandbox-1', admin: false, archive: false },
  { id: 'u3', displayName: 'Allan Deyoung', mail: 'allan@sandbox.outport.test', userPrincipalName: 'allan@sandbox.outport.test', password: 'Allan-sandbox-1', admin: false, archive: true },
  { id: 'u4', displayName: 'Megan Bowen', mail: 'megan@sandbox.outport.test', userPrincipalName: 'megan@sandbox.outport.test', password: 'Megan-sandbox-1', admin: true, archive: true },
  { id: 'u5', displayName: 'Nestor Wilke', mail: 'nestor@sandbox.outport.test', userPrincipalName: 'nestor@sandbox.outport.test', password: 'Nestor-sandbox-1', admin: false, archive: false },
];

export const FAKE_AUTHORITY = 'https://sandbox.outport.test/tenant-1';

const b64u = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const token = (u: FakeUser): string => `${b64u({ alg: 'none' })}.${b64u({ sub: u.id, preferred_username: u.mail, exp: Math.floor(Date.now() / 1000) + 3600 })}.x`;

interface FItem { id: string; projectId: string; source: string; mailbox: 'primary' | 'archive'; pstName: string; state: string; startedAt?: number; verification?: unknown }
interface FProject { id: string; name: string; createdBy: string; createdAt: string; destination: { accountName: string; container: string; storageCloud: string; credential: string }; items: FItem[] }

/** The fake. `install(page)` routes the API under `origin` and the token endpoint. */
export class FakeWorker {
  projects: FProject[] = [];
  /** Every request, for assertions: "METHOD /path". */
  requests: string[] = [];
  private seq = 0;
  constructor(readonly runMs = 2500) {}

  async install(page: Page, origin: string): Promise<void> {
    await page.route(`${FAKE_AUTHORITY}/oauth2/v2.0/token`, (route) => this.token(route));
    await page.route(`${origin}/api/v1/**`, (route) => this.api(route));
  }

  private async token(route: Route): Promise<void> {
    const form = new URLSearchParams(route.request().postData() ?? '');
    const u = FAKE_USERS.find((x) => x.mail === form.get('username')?.toLowerCase());
    const headers = { 'access-control-allow-origin': '*' };
    if (!u || u.password !== form.get('password') || form.get('grant_type') !== 'password') {
      await route.fulfill({ status: 400, headers, json: { error: 'invalid_grant', error_description: 'AADSTS50126: Error validating credentials due to invalid username or password.' } });
      return;
    }
    await route.fulfill({ status: 200, headers, json: { token_type: 'Bearer', access_token: token(u), expires_in: 3600 } });
  }

  private caller(route: Route): FakeUser | undefined {
    const auth = route.request().headers().authorization ?? '';
    const m = /^Bearer ([^.]+)\.([^.]+)\./.exec(auth);
    if (!m) return undefined;
    const claims = JSON.parse(Buffer.from(m[2], 'base64url').toString()) as { sub: string };
    return FAKE_USERS.find((u) => u.id === claims.sub);
  }

  private progressOf(i: FItem): Record<string, unknown> {
    const total = 1200;
    const totalBytes = 84 * 1024 * 1024;
    if (i.startedAt !== undefined && i.state === 'Running') {
      const f = Math.min(1, (Date.now() - i.startedAt) / this.runMs);
      if (f >= 1) i.state = 'Completed';
      else return { itemId: i.id, state: 'Running', folder: 'Inbox', itemsDone: Math.round(total * f), itemsTotal: total, bytesDone: Math.round(totalBytes * f), bytesTotal: totalBytes, itemsPerSecond: 412, bytesPerSecond: 29 * 1024 * 1024, etaSeconds: Math.round((1 - f) * this.runMs / 1000), partsDone: 0, updatedAt: new Date().toISOString() };
    }
    const done = i.state === 'Completed';
    return { itemId: i.id, state: i.state, itemsDone: done ? total : 0, itemsTotal: total, bytesDone: done ? totalBytes : 0, bytesTotal: totalBytes, itemsPerSecond: 0, bytesPerSecond: 0, partsDone: done ? 1 : 0, updatedAt: new Date().toISOString() };
  }

  private view(p: FProject): Record<string, unknown> {
    const counts: Record<string, number> = {};
    for (const i of p.items) { this.progressOf(i); counts[i.state] = (counts[i.state] ?? 0) + 1; }
    return { id: p.id, name: p.name, tenantId: 'tenant-1', createdBy: p.createdBy, createdAt: p.createdAt, authMode: 'application', destination: p.destination, options: {}, counts };
  }

  private itemView(i: FItem): Record<string, unknown> {
    const progress = this.progressOf(i);
    const done = i.state === 'Completed';
    return { ...i, startedAt: undefined, progress, statistics: done ? this.stat(i) : undefined };
  }

  private stat(i: FItem): Record<string, unknown> {
    const done = i.state === 'Completed';
    return { itemId: i.id, source: i.source, mailbox: i.mailbox, state: i.state, itemsExported: done ? 1200 : 0, bytesExported: done ? 84 * 1024 * 1024 : 0, errors: 0, parts: done ? 1 : 0, passes: 1, fidelity: { full: done ? 1200 : 0, rest: 0 }, durationSeconds: done ? this.runMs / 1000 : undefined };
  }

  private async api(route: Route): Promise<void> {
    const req = route.request();
    const url = new URL(req.url());
    const p = url.pathname.replace(/^\/api\/v1/, '');
    this.requests.push(`${req.method()} ${p}`);
    const json = (status: number, body: unknown): Promise<void> => route.fulfill({ status, json: body });
    const fail = (status: number, code: string, message: string, extra: Record<string, unknown> = {}): Promise<void> => json(status, { error: { code, message, ...extra } });
    if (p === '/config') return json(200, { tenantId: 'tenant-1', authorityUrl: FAKE_AUTHORITY, clientId: 'worker-app', apiScope: 'api://worker-app/access_as_user', cloud: 'global', sandbox: true });
    if (p === '/health') return json(200, { ok: true, version: 'fake' });
    const me = this.caller(route);
    if (!me) return fail(401, 'InvalidToken', 'No bearer token.');
    const body = (): Record<string, unknown> => { try { return JSON.parse(req.postData() ?? '{}') as Record<string, unknown>; } catch { return {}; } };
    if (p === '/me') {
      return json(200, { user: { id: me.id, displayName: me.displayName, mail: me.mail, userPrincipalName: me.userPrincipalName }, isAdmin: me.admin,
        mailboxes: { primary: { itemCount: 5230, sizeBytes: 1.4 * 1024 ** 3 }, archive: me.archive ? { itemCount: 18211, sizeBytes: 6.2 * 1024 ** 3 } : null } });
    }
    if (p === '/users') {
      if (!me.admin) return fail(403, 'AdminOnly', 'Only administrators can search users.');
      const q = (url.searchParams.get('search') ?? '').toLowerCase();
      return json(200, { value: FAKE_USERS.filter((u) => u.displayName.toLowerCase().includes(q) || u.mail.includes(q)).map(({ password: _p, admin: _a, archive: _r, ...u }) => u) });
    }
    if (p === '/projects' && req.method() === 'POST') {
      const b = body() as { name: string; destination: { accountName?: string; container?: string; sasUrl?: string } };
      if (b.destination.accountName && /[A-Z]/.test(b.destination.accountName)) return fail(400, 'InvalidRequest', 'Storage account names use lowercase letters and digits only.', { field: 'destination.accountName' });
      const proj: FProject = { id: `p${++this.seq}`, name: b.name, createdBy: me.id, createdAt: new Date().toISOString(), destination: { accountName: b.destination.accountName ?? 'sas', container: b.destination.container ?? 'outport', storageCloud: 'global', credential: 'accountKey' }, items: [] };
      this.projects.push(proj);
      return json(201, this.view(proj));
    }
    if (p === '/projects') return json(200, { value: this.projects.filter((x) => me.admin || x.createdBy === me.id).map((x) => this.view(x)) });
    const m = /^\/projects\/([^/]+)(\/.*)?$/.exec(p);
    const proj = m && this.projects.find((x) => x.id === m[1]);
    if (!m || !proj) return fail(404, 'NotFound', 'No such project.');
    const rest = m[2] ?? '';
    const mk = (source: string, mailbox: 'primary' | 'archive', pstName?: string): FItem => ({ id: `i${++this.seq}`, projectId: proj.id, source, mailbox, state: 'NotStarted',
      pstName: pstName ?? `${source.split('@')[0]}${mailbox === 'archive' ? '-archive' : ''}.pst` });
    if (rest === '') return json(200, this.view(proj));
    if (rest === '/items' && req.method() === 'POST') {
      const items = (body().items ?? []) as { source: string; mailbox?: string; pstName?: string }[];
      const rows = items.flatMap((it, n) => {
        if (!me.admin && it.source.toLowerCase() !== me.mail) return [{ row: n + 1, field: `items[${n}].source`, message: 'You can only export your own mailbox.' }];
        return FAKE_USERS.some((u) => u.mail === it.source.toLowerCase()) ? [] : [{ row: n + 1, field: `items[${n}].source`, message: `No mailbox ${it.source} in this tenant.` }];
      });
      if (!me.admin && rows.length) return fail(403, 'NotYourMailbox', 'You can only export your own mailbox and archive.');
      if (rows.length) return fail(400, 'InvalidRequest', `${rows.length} rows are not valid.`, { rows });
      const added = items.flatMap((it) => (it.mailbox === 'both' ? ['primary', 'archive'] as const : [(it.mailbox ?? 'primary') as 'primary' | 'archive']).map((mb) => mk(it.source, mb, it.mailbox === 'both' ? undefined : it.pstName)));
      proj.items.push(...added);
      return json(201, { value: added.map((i) => this.itemView(i)) });
    }
    if (rest === '/items/csv') {
      const lines = (req.postData() ?? '').split(/\r?\n/);
      const rows: { row: number; field: string; message: string }[] = [];
      const ok: { source: string; pst?: string }[] = [];
      lines.forEach((line, n) => {
        const [source, pst] = line.split(',').map((c) => c.trim());
        if (!source || (n === 0 && source.toLowerCase() === 'source')) return;
        if (!/^[^@\s]+@[^@\s]+$/.test(source)) rows.push({ row: n + 1, field: 'source', message: `"${source}" is not an email address.` });
        else if (pst && !/\.pst$/i.test(pst)) rows.push({ row: n + 1, field: 'destination', message: 'The PST name must end in .pst.' });
        else ok.push({ source, pst });
      });
      if (rows.length) return fail(400, 'InvalidRequest', `${rows.length} CSV rows are not valid.`, { rows });
      const added = ok.map((o) => mk(o.source, 'primary', o.pst));
      proj.items.push(...added);
      return json(201, { value: added.map((i) => this.itemView(i)) });
    }
    if (rest === '/items') return json(200, { value: proj.items.map((i) => this.itemView(i)) });
    if (rest === '/actions/verify') {
      for (const i of proj.items) { i.state = 'Verified'; i.verification = { ok: true, checks: [{ name: 'Mailbox reachable', ok: true }, { name: 'Container writable', ok: true }] }; }
      return json(202, { value: proj.items.map((i) => this.itemView(i)) });
    }
    if (rest === '/actions/export') {
      for (const i of proj.items) { i.state = 'Running'; i.startedAt = Date.now(); }
      return json(202, { value: proj.items.map((i) => this.itemView(i)) });
    }
    if (rest === '/progress') return json(200, { value: proj.items.map((i) => this.progressOf(i)) });
    if (rest === '/events') {
      const events = proj.items.map((i) => `event: progress\ndata: ${JSON.stringify(this.progressOf(i))}\n\n`).join('');
      return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: `: hello\n\n${events}` });
    }
    if (rest === '/statistics') {
      if (url.searchParams.get('format') === 'csv') return route.fulfill({ status: 200, contentType: 'text/csv', body: `source,mailbox,state,itemsExported\n${proj.items.map((i) => `${i.source},${i.mailbox},${i.state},1200`).join('\n')}\n` });
      const value = proj.items.map((i) => this.stat(i));
      return json(200, { value, totals: { itemsExported: value.reduce((s, v) => s + (v.itemsExported as number), 0), bytesExported: value.reduce((s, v) => s + (v.bytesExported as number), 0), errors: 0, parts: value.reduce((s, v) => s + (v.parts as number), 0) } });
    }
    const part = /^\/items\/([^/]+)\/(parts|errors)$/.exec(rest);
    if (part) {
      const it = proj.items.find((i) => i.id === part[1]);
      if (!it) return fail(404, 'NotFound', 'No such item.');
      if (part[2] === 'errors') return json(200, { value: [] });
      return json(200, { value: [{ name: it.pstName, sizeBytes: 84 * 1024 * 1024, sha256: '0'.repeat(64), items: 1200, url: `https://acct.blob.core.windows.net/outport/${it.pstName}?sv=2024&sig=fake` }] });
    }
    if (rest === '/actions/delete-container') {
      const b = body() as { confirm?: string };
      if (b.confirm !== proj.destination.container) return fail(400, 'InvalidRequest', 'confirm must equal the container name.', { field: 'confirm' });
      return json(200, { deleted: true });
    }
    return fail(404, 'NotFound', `No route ${req.method()} ${p}`);
  }
}
