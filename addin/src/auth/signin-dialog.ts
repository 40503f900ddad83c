/**
 * signin.html, opened by the pane in an Office dialog when NAA is unavailable (auth/dialog.ts).
 * Runs MSAL's redirect flow with the add-in's SPA registration (redirect URI = this page, without
 * query) and sends a DialogResult JSON string to the pane with messageParent. The query parameters
 * (clientId, authority, scope, forceRefresh) are kept in sessionStorage across the redirect.
 */
import { createStandardPublicClientApplication, type AuthenticationResult } from '@azure/msal-browser';
import { messageParent } from '../office/office';
import type { DialogResult } from './dialog';

const KEY = 'outport.signin';

interface Params { clientId: string; authority: string; scope: string; forceRefresh: boolean }

function readParams(): Params | undefined {
  const q = new URLSearchParams(location.search);
  if (q.get('clientId')) {
    const p = { clientId: q.get('clientId')!, authority: q.get('authority') ?? '', scope: q.get('scope') ?? '', forceRefresh: q.get('forceRefresh') === '1' };
    sessionStorage.setItem(KEY, JSON.stringify(p));
    return p;
  }
  const saved = sessionStorage.getItem(KEY);
  return saved ? (JSON.parse(saved) as Params) : undefined;
}

function show(text: string): void {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}

async function send(result: DialogResult): Promise<void> {
  await messageParent(JSON.stringify(result));
}

async function main(): Promise<void> {
  const p = readParams();
  if (!p) {
    show('This page is opened by the Outport add-in to sign you in.');
    return;
  }
  const redirectUri = `${location.origin}${location.pathname}`;
  const pca = await createStandardPublicClientApplication({ auth: { clientId: p.clientId, authority: p.authority, redirectUri }, cache: { cacheLocation: 'localStorage' } });
  const done = (r: AuthenticationResult): Promise<void> => send({ ok: true, accessToken: r.accessToken, username: r.account?.username });
  const back = await pca.handleRedirectPromise();
  if (back) return done(back);
  const account = pca.getAllAccounts()[0];
  if (account) {
    try {
      return await done(await pca.acquireTokenSilent({ scopes: [p.scope], account, forceRefresh: p.forceRefresh }));
    } catch { /* fall through to the redirect */ }
  }
  show('Redirecting to sign-in…');
  await pca.loginRedirect({ scopes: [p.scope] });
}

main().catch(async (err: unknown) => {
  const e = err as { errorCode?: string; message?: string };
  show(`Sign-in failed: ${e?.errorCode ?? e?.message ?? String(err)}`);
  await send({ ok: false, code: e?.errorCode ?? 'unknown', message: e?.errorCode ?? e?.message ?? 'unknown error' }).catch(() => undefined);
});
