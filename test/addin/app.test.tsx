/** @jest-environment jsdom */
/**
 * The whole pane with a fake Office host and a fake fetch: the theme follows Office (and switches
 * when Office's does), the sandbox sign-in, tabs by role (Admin only for admins), a 403 shown
 * clearly, and WaitingForAuth answered with POST …/auth carrying a forced-fresh token.
 */
import './jsdom-setup';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from '../../addin/src/App';
import type { AuthProvider } from '../../addin/src/auth/types';
import type { OfficeHost, ThemeKind } from '../../addin/src/office/office';

function fakeOffice(initial: ThemeKind): OfficeHost & { set(t: ThemeKind): void } {
  let theme = initial;
  return {
    host: 'Outlook',
    isSetSupported: () => false,
    theme: () => theme,
    openDialog: () => Promise.reject(new Error('no dialogs here')),
    set(t) { theme = t; },
  };
}

/** The parts of Response the client reads (jsdom has no fetch API). */
function response(status: number, text: string): Response {
  return { ok: status >= 200 && status < 300, status, statusText: '', body: null, json: async () => JSON.parse(text), text: async () => text } as unknown as Response;
}

interface Opts { admin?: boolean; items?: () => unknown[]; meStatus?: number }

function fakeFetch(o: Opts = {}) {
  const calls: { method: string; path: string; auth?: string }[] = [];
  let tokens = 0;
  const f = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'https://addin.example');
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ method: init.method ?? 'GET', path: url.pathname, auth: headers.authorization });
    const json = (status: number, body: unknown) => response(status, JSON.stringify(body));
    if (url.pathname.endsWith('/oauth2/v2.0/token')) {
      const form = new URLSearchParams(String(init.body));
      if (form.get('password') !== 'Adele-sandbox-1') return json(400, { error: 'invalid_grant', error_description: 'AADSTS50126' });
      tokens += 1;
      return json(200, { access_token: `h.${btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600, n: tokens }))}.s` });
    }
    switch (url.pathname) {
      case '/api/v1/config': return json(200, { tenantId: 't', authorityUrl: 'https://sts.example/t', clientId: 'c', apiScope: 'api://c/access_as_user', cloud: 'global', sandbox: true });
      case '/api/v1/me':
        if (o.meStatus) return json(o.meStatus, { error: { code: 'Forbidden', message: 'This tenant is not allowed to use this Outport service.' } });
        return json(200, { user: { id: 'u1', displayName: 'Adele Vance', mail: 'adele@contoso.com', userPrincipalName: 'adele@contoso.com' }, isAdmin: !!o.admin,
          mailboxes: { primary: { itemCount: 10, sizeBytes: 2048 }, archive: { itemCount: 20, sizeBytes: 4096 } } });
      case '/api/v1/projects': return json(200, { value: [{ id: 'p1', name: 'My archive', createdAt: '2026-01-01T00:00:00Z', counts: { WaitingForAuth: 1 } }] });
      case '/api/v1/projects/p1': return json(200, { id: 'p1', name: 'My archive', destination: { accountName: 'acct', container: 'outport', storageCloud: 'global', credential: 'accountKey' }, counts: {} });
      case '/api/v1/projects/p1/items': return json(200, { value: o.items?.() ?? [] });
      case '/api/v1/projects/p1/progress': return json(200, { value: [] });
      case '/api/v1/projects/p1/events': return new Promise<Response>(() => undefined); // stays open
      case '/api/v1/projects/p1/auth': return json(202, { value: [{ id: 'i1' }] });
      default: return json(404, { error: { code: 'NotFound', message: url.pathname } });
    }
  };
  return { fetch: f as typeof fetch, calls };
}

async function signIn(user: ReturnType<typeof userEvent.setup>): Promise<void> {
  await user.type(await screen.findByLabelText(/Email address/), 'adele@contoso.com');
  await user.type(screen.getByLabelText(/Password/), 'Adele-sandbox-1');
  await user.click(screen.getByRole('button', { name: 'Sign in' }));
}

describe('App', () => {
  it('follows Office\'s theme, and switches when Office switches', async () => {
    jest.useFakeTimers();
    try {
      const office = fakeOffice('dark');
      const { container } = render(<App office={office} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={fakeFetch().fetch} />);
      const root = container.querySelector('[data-theme]')!;
      expect(root.getAttribute('data-theme')).toBe('dark');
      office.set('light');
      await act(async () => { jest.advanceTimersByTime(3100); });
      expect(root.getAttribute('data-theme')).toBe('light');
    } finally {
      jest.useRealTimers();
    }
  });

  it('sandbox sign-in, then My mailbox; the Admin tab only for admins', async () => {
    const user = userEvent.setup({ delay: null });
    const f = fakeFetch();
    render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={f.fetch} />);
    await user.type(await screen.findByLabelText(/Email address/), 'adele@contoso.com');
    await user.type(screen.getByLabelText(/Password/), 'wrong');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toContain('user name or password is wrong');
    await user.clear(screen.getByLabelText(/Password/));
    await user.type(screen.getByLabelText(/Password/), 'Adele-sandbox-1');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('tab', { name: 'My mailbox' })).toBeTruthy();
    expect(screen.queryByRole('tab', { name: 'Admin' })).toBeNull();
    expect(await screen.findByRole('group', { name: 'Archive' }, { timeout: 5000 })).toBeTruthy();
    expect(f.calls.find((c) => c.path === '/api/v1/me')?.auth).toMatch(/^Bearer h\./);
  });

  it('admins get the Admin tab, which the keyboard opens (focus, Enter)', async () => {
    const user = userEvent.setup({ delay: null });
    render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={fakeFetch({ admin: true }).fetch} />);
    await signIn(user);
    const mine = await screen.findByRole('tab', { name: 'My mailbox' });
    expect(screen.getByRole('tab', { name: 'Admin' })).toBeTruthy();
    expect(mine.getAttribute('aria-selected')).toBe('true');
    const admin = screen.getByRole('tab', { name: 'Admin' });
    admin.focus();
    await user.keyboard('{Enter}');
    expect(admin.getAttribute('aria-selected')).toBe('true');
    expect(await screen.findByRole('searchbox', {}, { timeout: 5000 })).toBeTruthy();
  });

  it('NAA: signed in without UI when Outlook has the account; otherwise a Sign in button, no popup on load', async () => {
    const user = userEvent.setup({ delay: null });
    const make = (silent: string | undefined) => {
      const calls: string[] = [];
      const provider: AuthProvider = {
        kind: 'naa', needsCredentials: false, account: () => 'adele@contoso.com', signOut: () => undefined,
        signIn: async () => { calls.push('signIn'); },
        getToken: async () => { calls.push('getToken'); return 'h.e30.s'; },
        getTokenSilently: async () => { calls.push('silent'); return silent; },
      };
      return { provider, calls };
    };
    const quiet = make('h.e30.s');
    const first = render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={fakeFetch().fetch} makeAuth={() => quiet.provider} />);
    expect(await screen.findByRole('tab', { name: 'My mailbox' })).toBeTruthy();
    expect(quiet.calls[0]).toBe('silent');
    first.unmount();

    const needsUi = make(undefined);
    render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={fakeFetch().fetch} makeAuth={() => needsUi.provider} />);
    const button = await screen.findByRole('button', { name: 'Sign in' });
    expect(needsUi.calls).toEqual(['silent']); // nothing interactive before the click
    await user.click(button);
    expect(await screen.findByRole('tab', { name: 'My mailbox' })).toBeTruthy();
    expect(needsUi.calls[0]).toBe('silent');
    expect(new Set(needsUi.calls.slice(1))).toEqual(new Set(['getToken'])); // the sign-in, then the API's own calls
  });

  it('a 403 from the worker is shown as a clear message', async () => {
    const user = userEvent.setup({ delay: null });
    render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={fakeFetch({ meStatus: 403 }).fetch} />);
    await signIn(user);
    expect((await screen.findByRole('alert')).textContent).toBe('You are not allowed to do this: This tenant is not allowed to use this Outport service.');
  });

  it('an item WaitingForAuth makes the pane POST …/auth with a fresh token', async () => {
    const user = userEvent.setup({ delay: null });
    const f = fakeFetch({ items: () => [{ id: 'i1', projectId: 'p1', source: 'adele@contoso.com', mailbox: 'archive', pstName: 'a.pst', state: 'WaitingForAuth' }] });
    render(<App office={fakeOffice('light')} apiBase="" signInPageUrl="https://addin.example/signin.html" fetch={f.fetch} />);
    await signIn(user);
    await user.click(await screen.findByRole('tab', { name: 'Exports' }));
    await user.click(await screen.findByRole('button', { name: 'Open My archive' }));
    await waitFor(() => expect(f.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/projects/p1/auth')).toBe(true));
    const meToken = f.calls.find((c) => c.path === '/api/v1/me')!.auth;
    const authToken = f.calls.find((c) => c.path === '/api/v1/projects/p1/auth')!.auth;
    expect(authToken).not.toBe(meToken); // forceRefresh: a new grant, not the cached token
    expect(await screen.findByText(/Signed in again: 1 export resumes/)).toBeTruthy();
    expect(screen.getByLabelText('State: Waiting for sign-in')).toBeTruthy();
  });
});
