/**
 * Sign-in: the chooser (sandbox when the worker says so, NAA with NestedAppAuth 1.1, else the
 * Office dialog), the sandbox password grant (the token service's form and errors), NAA's
 * silent → popup order with a fake nestable client, and the dialog fallback's message handling.
 */
import type { IPublicClientApplication } from '@azure/msal-browser';
import type { ApiConfig } from '../../../addin/src/api/types';
import { authorityOf, chooseAuth } from '../../../addin/src/auth/choose';
import { DialogAuth, signInPageUrl } from '../../../addin/src/auth/dialog';
import { NaaAuth } from '../../../addin/src/auth/naa';
import { SandboxAuth } from '../../../addin/src/auth/sandbox';
import { AuthError, secondsLeft } from '../../../addin/src/auth/types';
import { OfficeError, type DialogHandle, type OfficeHost } from '../../../addin/src/office/office';

const config: ApiConfig = { tenantId: 't', authorityUrl: 'https://login.example/t', clientId: 'spa-id', apiScope: 'api://worker/access_as_user', cloud: 'global', sandbox: false };
const settings = { clientId: 'spa-id', authorityUrl: 'https://login.example/t', apiScope: 'api://worker/access_as_user' };

function office(sets: Record<string, string> = {}, dialog?: () => Promise<DialogHandle>): OfficeHost {
  return {
    host: 'Outlook',
    isSetSupported: (n, v) => n in sets && Number(sets[n]) >= Number(v),
    theme: () => 'light',
    openDialog: dialog ?? (() => Promise.reject(new OfficeError('DialogBlocked', 'blocked', 12011))),
  };
}

const jwt = (expSecondsFromNow: number): string =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expSecondsFromNow })).toString('base64url')}.sig`;

describe('chooseAuth', () => {
  it('the authority is the login root plus the tenant id (kept when already there)', () => {
    expect(authorityOf({ authorityUrl: 'https://login.microsoftonline.com', tenantId: 'abc' })).toBe('https://login.microsoftonline.com/abc');
    expect(authorityOf({ authorityUrl: 'https://127.0.0.1:9443/', tenantId: 'abc' })).toBe('https://127.0.0.1:9443/abc');
    expect(authorityOf({ authorityUrl: 'https://login.example/ABC', tenantId: 'abc' })).toBe('https://login.example/ABC');
  });

  it('sandbox tenant → password sign-in, whatever the host supports', () => {
    expect(chooseAuth({ ...config, sandbox: true }, office({ NestedAppAuth: '1.1' }), { signInPageUrl: 'https://a/signin.html' }).kind).toBe('sandbox');
  });
  it('sandbox tenant with sandboxSignIn → the password grant posts to its tokenUrl, not the authority', async () => {
    const urls: string[] = [];
    const fetchImpl = (async (url: string) => { urls.push(url); return new Response(JSON.stringify({ access_token: jwt(3600) }), { status: 200 }); }) as unknown as typeof fetch;
    const tokenUrl = 'http://127.0.0.1:4010/t/oauth2/v2.0/token';
    await chooseAuth({ ...config, sandbox: true, sandboxSignIn: { tokenUrl } }, office(), { signInPageUrl: 'https://a/signin.html', fetch: fetchImpl }).signIn({ username: 'u@x', password: 'p' });
    await chooseAuth({ ...config, sandbox: true }, office(), { signInPageUrl: 'https://a/signin.html', fetch: fetchImpl }).signIn({ username: 'u@x', password: 'p' });
    expect(urls).toEqual([tokenUrl, 'https://login.example/t/oauth2/v2.0/token']);
  });
  it('NestedAppAuth 1.1 → NAA', () => {
    expect(chooseAuth(config, office({ NestedAppAuth: '1.1' }), { signInPageUrl: 'https://a/signin.html' }).kind).toBe('naa');
  });
  it('no NestedAppAuth (or only 1.0) → the Office dialog', () => {
    expect(chooseAuth(config, office({}), { signInPageUrl: 'https://a/signin.html' }).kind).toBe('dialog');
    expect(chooseAuth(config, office({ NestedAppAuth: '1.0' }), { signInPageUrl: 'https://a/signin.html' }).kind).toBe('dialog');
  });
});

describe('SandboxAuth', () => {
  it('posts the password grant for the worker scope and caches the token until near expiry', async () => {
    const calls: { url: string; body: URLSearchParams }[] = [];
    let n = 0;
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push({ url, body: new URLSearchParams(String(init.body)) });
      n += 1;
      return new Response(JSON.stringify({ access_token: n === 1 ? jwt(3600) : jwt(3600) + n }), { status: 200 });
    }) as unknown as typeof fetch;
    const a = new SandboxAuth(settings, fetchImpl);
    await expect(a.getToken()).rejects.toMatchObject({ code: 'NotSignedIn' });
    await a.signIn({ username: 'adele@sandbox.outport.test', password: 'Adele-sandbox-1' });
    expect(calls[0].url).toBe('https://login.example/t/oauth2/v2.0/token');
    expect(Object.fromEntries(calls[0].body)).toEqual({ grant_type: 'password', client_id: 'spa-id', scope: 'api://worker/access_as_user', username: 'adele@sandbox.outport.test', password: 'Adele-sandbox-1' });
    const t1 = await a.getToken();
    expect(calls).toHaveLength(1);
    const t2 = await a.getToken({ forceRefresh: true });
    expect(calls).toHaveLength(2);
    expect(t2).not.toBe(t1);
    expect(a.account()).toBe('adele@sandbox.outport.test');
    a.signOut();
    expect(a.account()).toBeUndefined();
  });

  it('AADSTS50126 (invalid_grant) → InvalidCredentials without echoing the password', async () => {
    const fetchImpl = (async () => new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'AADSTS50126: Error validating credentials' }), { status: 400 })) as unknown as typeof fetch;
    const e = await new SandboxAuth(settings, fetchImpl).signIn({ username: 'a@b', password: 'S3cret!' }).catch((x: unknown) => x) as AuthError;
    expect(e).toBeInstanceOf(AuthError);
    expect(e.code).toBe('InvalidCredentials');
    expect(e.message).not.toContain('S3cret!');
  });
});

describe('NaaAuth', () => {
  function fakePca(behaviour: { silent?: () => Promise<unknown>; sso?: () => Promise<unknown>; popup?: () => Promise<unknown>; accounts?: unknown[] }) {
    const log: string[] = [];
    const pca = {
      getActiveAccount: () => null,
      getAllAccounts: () => behaviour.accounts ?? [],
      acquireTokenSilent: (r: { scopes: string[]; forceRefresh?: boolean }) => { log.push(`silent ${r.scopes.join(' ')} ${r.forceRefresh ? 'force' : ''}`.trim()); return behaviour.silent!(); },
      ssoSilent: (r: { scopes: string[] }) => { log.push(`sso ${r.scopes.join(' ')}`); return behaviour.sso!(); },
      acquireTokenPopup: (r: { scopes: string[] }) => { log.push(`popup ${r.scopes.join(' ')}`); return behaviour.popup!(); },
    } as unknown as IPublicClientApplication;
    return { pca, log };
  }
  const account = { username: 'megan@contoso.com', homeAccountId: 'h' };

  it('ssoSilent first; interaction required → popup; then silent with the account', async () => {
    const { pca, log } = fakePca({
      sso: () => Promise.reject(Object.assign(new Error('x'), { name: 'InteractionRequiredAuthError', errorCode: 'interaction_required' })),
      popup: () => Promise.resolve({ accessToken: 'tok-popup', account }),
      silent: () => Promise.resolve({ accessToken: 'tok-silent', account }),
    });
    const factoryCalls: unknown[] = [];
    const a = new NaaAuth(settings, async (s) => { factoryCalls.push(s); return pca; });
    expect(await a.getToken()).toBe('tok-popup');
    expect(a.account()).toBe('megan@contoso.com');
    expect(await a.getToken({ forceRefresh: true })).toBe('tok-silent');
    expect(log).toEqual(['sso api://worker/access_as_user', 'popup api://worker/access_as_user', 'silent api://worker/access_as_user force']);
    expect(factoryCalls).toEqual([settings]);
  });

  it('getTokenSilently never opens a popup: undefined when interaction is needed', async () => {
    const { pca, log } = fakePca({
      sso: () => Promise.reject(Object.assign(new Error('x'), { name: 'InteractionRequiredAuthError', errorCode: 'interaction_required' })),
      popup: () => Promise.resolve({ accessToken: 'tok-popup', account }),
    });
    expect(await new NaaAuth(settings, async () => pca).getTokenSilently()).toBeUndefined();
    expect(log).toEqual(['sso api://worker/access_as_user']);
    const ok = fakePca({ sso: () => Promise.resolve({ accessToken: 'tok-sso', account }) });
    expect(await new NaaAuth(settings, async () => ok.pca).getTokenSilently()).toBe('tok-sso');
  });

  it('a failure that needs no interaction is an AuthError, without a popup', async () => {
    const { pca, log } = fakePca({ sso: () => Promise.reject(Object.assign(new Error('net'), { errorCode: 'network_error' })) });
    await expect(new NaaAuth(settings, async () => pca).getToken()).rejects.toMatchObject({ code: 'SignInFailed' });
    expect(log).toEqual(['sso api://worker/access_as_user']);
  });

  it('the user cancelling the popup → Cancelled', async () => {
    const { pca } = fakePca({
      sso: () => Promise.reject(Object.assign(new Error('x'), { errorCode: 'login_required' })),
      popup: () => Promise.reject(Object.assign(new Error('x'), { errorCode: 'user_cancelled' })),
    });
    await expect(new NaaAuth(settings, async () => pca).getToken()).rejects.toMatchObject({ code: 'Cancelled' });
  });
});

describe('DialogAuth', () => {
  function dialogWith(message: Promise<string>) {
    const opened: string[] = [];
    let closed = 0;
    const host = office({}, async () => ({ message, close: () => { closed += 1; } }));
    const wrapped: OfficeHost = { ...host, openDialog: (url, size) => { opened.push(url); return host.openDialog(url, size); } };
    return { host: wrapped, opened, closed: () => closed };
  }

  it('opens signin.html with the settings, takes the token from messageParent, closes the dialog and caches', async () => {
    const token = jwt(3600);
    const d = dialogWith(Promise.resolve(JSON.stringify({ ok: true, accessToken: token, username: 'u@c' })));
    const a = new DialogAuth(settings, d.host, 'https://addin.example/signin.html');
    expect(await a.getToken()).toBe(token);
    expect(await a.getToken()).toBe(token);
    expect(d.opened).toHaveLength(1);
    expect(d.closed()).toBe(1);
    const u = new URL(d.opened[0]);
    expect(Object.fromEntries(u.searchParams)).toEqual({ clientId: 'spa-id', authority: 'https://login.example/t', scope: 'api://worker/access_as_user' });
    expect(a.account()).toBe('u@c');
    expect(signInPageUrl('https://addin.example/signin.html', settings, true)).toContain('forceRefresh=1');
  });

  it('a token about to expire is not reused', async () => {
    const d = dialogWith(Promise.resolve(JSON.stringify({ ok: true, accessToken: jwt(60) })));
    const a = new DialogAuth(settings, d.host, 'https://addin.example/signin.html');
    await a.getToken();
    await a.getToken();
    expect(d.opened).toHaveLength(2);
    expect(secondsLeft(jwt(60))).toBeLessThanOrEqual(60);
  });

  it('closing the dialog → Cancelled; a blocked popup → Blocked; an MSAL error → SignInFailed', async () => {
    await expect(new DialogAuth(settings, dialogWith(Promise.reject(new OfficeError('DialogClosed', 'closed', 12006))).host, 'https://a/s.html').getToken())
      .rejects.toMatchObject({ code: 'Cancelled' });
    await expect(new DialogAuth(settings, office({}), 'https://a/s.html').getToken()).rejects.toMatchObject({ code: 'Blocked' });
    await expect(new DialogAuth(settings, dialogWith(Promise.resolve(JSON.stringify({ ok: false, code: 'invalid_client', message: 'AADSTS7000215' }))).host, 'https://a/s.html').getToken())
      .rejects.toMatchObject({ code: 'SignInFailed', message: 'Sign-in failed: AADSTS7000215' });
  });
});
