/**
 * Must-show d (issue 4) through the HTTP API: tokens with the wrong audience, issuer or tenant,
 * expired, or alg none → 401 InvalidToken (with WWW-Authenticate); a user exporting someone else's
 * mailbox → 403 NotYourMailbox, an admin → allowed. Plus the rest of the authorization rules of
 * docs/api.md (projects per creator, admins share, admin-only routes), a delegated export by the
 * mailbox's owner through On-Behalf-Of (download links for the owner), and a delegated chain that
 * expired: WaitingForAuth until `POST …/auth` with a fresh token, then the job completes.
 * (The sandbox's Graph refusing the same OBO token is test/api/auth/authorize.test.ts.)
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SignJWT, type KeyLike } from 'jose';
import { startWorker } from '../../worker-service/src/api';
import { graphAccessForTenant } from '../../worker-service/src/api/graph-access';
import { checkTenantConfig } from '../../worker-service/src/graph/tenant-client';
import { sandboxTenantConfig } from '../../worker-service/src/sandbox';
import { checkPst } from '../../worker-service/src/pst/check';
import { truthIds } from '../export/helpers';
import { ADMIN_CLAIMS, startApiStack, type ApiStack } from './helpers';

let s: ApiStack;
beforeAll(async () => { s = await startApiStack({ sandbox: { mailLimit: 20 } }); }, 120_000);
afterAll(async () => s?.stop());

const user = (given: string) => s.sb.users.find((u) => u.givenName === given)!;
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const call = (authorization: string | undefined, method: string, url: string, payload?: unknown) =>
  s.inject({ method, url, headers: authorization ? { authorization } : {}, ...(payload !== undefined ? { payload } : {}) });

async function waitFor(auth: string, projectId: string, states: string[], timeoutMs = 60_000): Promise<{ id: string; state: string; error?: { code: string } }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = (await call(auth, 'GET', `/api/v1/projects/${projectId}/items`)).json().value as { id: string; state: string; error?: { code: string } }[];
    if (items.length && items.every((i) => states.includes(i.state))) return items;
    if (Date.now() > deadline) throw new Error(`items did not reach ${states}: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('401: the token', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const adeleClaims = () => ({ aud: `api://${s.sb.clientId}`, oid: user('Adele').id, upn: user('Adele').userPrincipalName, scp: 'access_as_user' });
  const cases: [string, () => Promise<string | undefined>, string][] = [
    ['no Authorization header', async () => undefined, 'MissingToken'],
    ['another scheme', async () => 'Basic YWRlbGU6cGFzcw==', 'MalformedToken'],
    ['wrong audience (Graph\'s)', async () => `Bearer ${await s.sb.issuer.sign({ ...adeleClaims(), aud: 'https://graph.microsoft.com' })}`, 'InvalidAudience'],
    // The tenant's own key (a valid signature), but another issuer: only the issuer check refuses it.
    ['wrong issuer', async () => `Bearer ${await new SignJWT({ ...adeleClaims(), tid: s.sb.tenantId, ver: '2.0' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: s.sb.issuer.kid })
      .setIssuer(`https://login.example.com/${s.sb.tenantId}/v2.0`).setIssuedAt().setExpirationTime('10m')
      .sign((s.sb.issuer as unknown as { privateKey: KeyLike }).privateKey)}`, 'InvalidIssuer'],
    ['another tenant', async () => `Bearer ${await s.sb.issuer.sign({ ...adeleClaims(), tid: '11111111-2222-3333-4444-555555555555' })}`, 'WrongTenant'],
    ['expired', async () => `Bearer ${await s.sb.issuer.sign(adeleClaims(), { issuedAtSec: now() - 7200, lifetimeSec: 3600 })}`, 'TokenExpired'],
    ['alg none', async () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...adeleClaims(), iss: s.sb.issuer.issuer, tid: s.sb.tenantId, exp: now() + 600, iat: now() })}.`, 'UnsupportedAlgorithm'],
    ['tampered payload', async () => {
      const [h, , sig] = (await s.sb.issuer.sign(adeleClaims())).split('.');
      return `Bearer ${h}.${b64({ ...adeleClaims(), wids: ADMIN_CLAIMS.wids, iss: s.sb.issuer.issuer, tid: s.sb.tenantId, exp: now() + 600 })}.${sig}`;
    }, 'InvalidSignature'],
  ];
  test.each(cases.map(([name, token, reason]) => ({ name, token, reason })))('$name → 401 InvalidToken ($reason)', async ({ token, reason }) => {
    for (const [method, url] of [['GET', '/api/v1/projects'], ['POST', '/api/v1/projects']] as const) {
      const res = await call(await token(), method, url, method === 'POST' ? { name: 'x', destination: s.destination('never') } : undefined);
      expect([res.statusCode, res.json().error.code, res.json().error.reason]).toEqual([401, 'InvalidToken', reason]);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await s.containers()).not.toContain('never');
  });

  test('public routes need no token', async () => {
    for (const url of ['/api/v1/config', '/api/v1/health', '/api/v1/openapi.json']) expect((await call(undefined, 'GET', url)).statusCode).toBe(200);
  });
});

describe('403 and allowed: whose mailbox', () => {
  test('a user adding someone else\'s mailbox → 403 NotYourMailbox (nothing added); her own → 201; an admin → 201 for anyone', async () => {
    const adele = await s.bearer('Adele');
    const p = (await call(adele, 'POST', '/api/v1/projects', { name: 'adele', destination: s.destination('adele-own') })).json();
    for (const source of [user('Megan').mail, user('Megan').mail.toUpperCase(), user('Megan').id, user('Megan').primary!.id]) {
      const res = await call(adele, 'POST', `/api/v1/projects/${p.id}/items`, { items: [{ source: user('Adele').mail }, { source, mailbox: 'archive' }] });
      expect([source, res.statusCode, res.json().error.code, res.json().error.field]).toEqual([source, 403, 'NotYourMailbox', 'items[1].source']);
    }
    const csv = await s.inject({ method: 'POST', url: `/api/v1/projects/${p.id}/items/csv`, headers: { authorization: adele, 'content-type': 'text/csv' }, payload: `${user('Megan').mail},megan.pst\n` });
    expect([csv.statusCode, csv.json().error.code]).toEqual([403, 'NotYourMailbox']);
    expect((await call(adele, 'GET', `/api/v1/projects/${p.id}/items`)).json().value).toEqual([]);
    const own = await call(adele, 'POST', `/api/v1/projects/${p.id}/items`, { items: [{ source: user('Adele').mail.toUpperCase(), mailbox: 'both' }] });
    expect(own.statusCode).toBe(201);
    expect(own.json().value.map((i: { pstName: string }) => i.pstName)).toEqual(['adele.vance.pst', 'adele.vance-archive.pst'].map((n) => n.replace('adele.vance', user('Adele').mail.split('@')[0].toUpperCase())));

    const admin = await s.bearer('Alex', ADMIN_CLAIMS);
    const ap = (await call(admin, 'POST', '/api/v1/projects', { name: 'admin', destination: s.destination('admin-all') })).json();
    expect(ap.authMode).toBe('application'); // the default for admins
    const added = await call(admin, 'POST', `/api/v1/projects/${ap.id}/items`, { items: [{ source: user('Megan').mail, mailbox: 'both' }, { source: user('Adele').id }] });
    expect(added.statusCode).toBe(201);
    // an admin by app role too
    const byRole = await s.bearer('Lynne', { roles: ['Outport.Admin'] });
    expect((await call(byRole, 'GET', `/api/v1/projects/${ap.id}`)).statusCode).toBe(200);
  });

  test('projects: users see only their own (another\'s → 404), admins see all of their tenant; admin-only routes', async () => {
    const adele = await s.bearer('Adele');
    const megan = await s.bearer('Megan');
    const admin = await s.bearer('Alex', ADMIN_CLAIMS);
    const p = (await call(adele, 'POST', '/api/v1/projects', { name: 'private', destination: s.destination('private-one') })).json();
    expect((await call(megan, 'GET', `/api/v1/projects/${p.id}`)).statusCode).toBe(404);
    expect((await call(megan, 'POST', `/api/v1/projects/${p.id}/actions/export`, { pass: 'full' })).statusCode).toBe(404);
    expect((await call(megan, 'GET', '/api/v1/projects')).json().value.map((x: { id: string }) => x.id)).not.toContain(p.id);
    expect((await call(admin, 'GET', '/api/v1/projects')).json().value.map((x: { id: string }) => x.id)).toContain(p.id);
    expect((await call(admin, 'GET', `/api/v1/projects/${p.id}`)).statusCode).toBe(200);
    // application permissions and the user search are for admins
    const app = await call(adele, 'POST', '/api/v1/projects', { name: 'app', authMode: 'application', destination: s.destination('app-one') });
    expect([app.statusCode, app.json().error.code]).toEqual([403, 'AdminOnly']);
    expect((await call(adele, 'PATCH', `/api/v1/projects/${p.id}`, { authMode: 'application' })).statusCode).toBe(403);
    expect((await call(adele, 'GET', '/api/v1/users?search=Meg')).json().error.code).toBe('AdminOnly');
    const users = await call(admin, 'GET', '/api/v1/users?search=Meg&top=5');
    expect(users.statusCode).toBe(200);
    expect(users.json().value.map((u: { mail: string }) => u.mail)).toEqual([user('Megan').mail]);
    expect((await call(admin, 'GET', '/api/v1/users?top=500')).json().error).toMatchObject({ code: 'InvalidRequest', field: 'top' });
    expect(await s.containers()).not.toContain('app-one');
  });

  test('GET /me (delegated, On-Behalf-Of): the caller, admin or not, and both mailboxes with item counts', async () => {
    const me = await call(await s.bearer('Adele'), 'GET', '/api/v1/me');
    expect(me.statusCode).toBe(200);
    const u = user('Adele');
    expect(me.json()).toEqual({
      user: { id: u.id, displayName: u.displayName, mail: u.mail, userPrincipalName: u.userPrincipalName }, isAdmin: false,
      mailboxes: {
        primary: { mailboxId: u.primary!.id, itemCount: truthIds(u.primary!).length, sizeBytes: expect.any(Number) },
        archive: { mailboxId: u.archive!.id, itemCount: truthIds(u.archive!).length, sizeBytes: expect.any(Number) },
      },
    });
    const alex = await call(await s.bearer('Alex', ADMIN_CLAIMS), 'GET', '/api/v1/me');
    expect(alex.json()).toMatchObject({ isAdmin: true, mailboxes: { archive: null } });
  });
});

describe('delegated exports (On-Behalf-Of the owner)', () => {
  test('the owner exports her own mailbox; download links for her; an expired chain waits for auth and resumes on POST …/auth', async () => {
    const tenant = checkTenantConfig(sandboxTenantConfig(s.sb));
    const worker = startWorker({ backend: s.backend, graph: graphAccessForTenant(tenant), pollMs: 100, leaseMs: 30_000 });
    try {
      const lynne = await s.bearer('Lynne');
      const p = (await call(lynne, 'POST', '/api/v1/projects', { name: 'mine', destination: s.destination('lynne-own') })).json();
      expect(p.authMode).toBe('delegated');
      const items = (await call(lynne, 'POST', `/api/v1/projects/${p.id}/items`, { items: [{ source: user('Lynne').mail }] })).json().value;
      // Verify credentials first: mailbox reachable, permissions, storage write and delete of a probe.
      const verifying = await call(lynne, 'POST', `/api/v1/projects/${p.id}/actions/verify`, {});
      expect([verifying.statusCode, verifying.json().value.map((i: { state: string }) => i.state)]).toEqual([202, ['Verifying']]);
      const verified = (await waitFor(lynne, p.id, ['Verified', 'Failed'])) as unknown as { state: string; verification: { ok: boolean; checks: { name: string; ok: boolean }[] } }[];
      expect(verified[0].state).toBe('Verified');
      expect(verified[0].verification.checks.every((c) => c.ok)).toBe(true);
      expect(verified[0].verification.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['mailbox', 'storage']));
      // Retry errors before any completed pass: a clear refusal.
      const retry = await call(lynne, 'POST', `/api/v1/projects/${p.id}/actions/retry-errors`, {});
      expect([retry.statusCode, retry.json().error.code]).toEqual([409, 'RetryNotAllowed']);
      expect((await call(lynne, 'POST', `/api/v1/projects/${p.id}/actions/export`, { pass: 'full' })).statusCode).toBe(202);
      expect((await waitFor(lynne, p.id, ['Completed', 'Failed', 'WaitingForAuth'])).map((i) => [i.state, i.error])).toEqual([['Completed', undefined]]);
      const parts = (await call(lynne, 'GET', `/api/v1/projects/${p.id}/items/${items[0].id}/parts`)).json().value as { name: string; sha256: string; url?: string }[];
      expect(parts.length).toBeGreaterThan(0);
      for (const part of parts) {
        const bytes = Buffer.from(await (await fetch(part.url!)).arrayBuffer());
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
        const file = path.join(s.dataDir, part.name);
        writeFileSync(file, bytes);
        expect((await checkPst(file)).findings).toEqual([]);
      }

      // An expired delegated chain: the stored assertion is replaced by an expired one before the
      // runner claims the next pass → WaitingForAuth; a fresh token posted to …/auth resumes it.
      await worker.stop();
      expect((await call(lynne, 'POST', `/api/v1/projects/${p.id}/actions/export`, { pass: 'incremental' })).statusCode).toBe(202);
      const expired = await s.sb.issuer.sign({ aud: `api://${s.sb.clientId}`, oid: user('Lynne').id, upn: user('Lynne').userPrincipalName, scp: 'access_as_user' }, { issuedAtSec: Math.floor(Date.now() / 1000) - 7200, lifetimeSec: 3600 });
      await s.backend.store.setUserAssertion(s.sb.tenantId, p.id, expired, Date.now() - 3_600_000);
      const worker2 = startWorker({ backend: s.backend, graph: graphAccessForTenant(tenant), pollMs: 100, leaseMs: 30_000 });
      try {
        const waiting = await waitFor(lynne, p.id, ['WaitingForAuth', 'Failed', 'Completed']);
        expect(waiting.map((i) => i.state)).toEqual(['WaitingForAuth']);
        // Someone else cannot hand over a chain for Lynne's mailbox.
        expect((await call(await s.bearer('Megan'), 'POST', `/api/v1/projects/${p.id}/auth`, {})).statusCode).toBe(404);
        // An admin sees the project but cannot renew Lynne's delegated chain with his own token.
        const byAdmin = await call(await s.bearer('Alex', ADMIN_CLAIMS), 'POST', `/api/v1/projects/${p.id}/auth`, {});
        expect([byAdmin.statusCode, byAdmin.json().error.code]).toEqual([403, 'Forbidden']);
        expect((await s.backend.store.userAssertion(p.id))?.assertion).toBe(expired);
        const resumed = await call(await s.bearer('Lynne'), 'POST', `/api/v1/projects/${p.id}/auth`, {});
        expect(resumed.statusCode).toBe(202);
        expect(resumed.json().value.map((i: { state: string }) => i.state)).toEqual(['Queued']);
        expect((await waitFor(lynne, p.id, ['Completed', 'Failed'])).map((i) => i.state)).toEqual(['Completed']);
      } finally {
        worker.onUserAssertion(p.id, 'x.y.z');
        await worker2.stop({ graceful: false });
      }
    } finally {
      await worker.stop({ graceful: false });
    }
  }, 120_000);
});
