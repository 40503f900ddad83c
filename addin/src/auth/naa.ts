/**
 * Nested App Authentication (FACTS.md "Authentication"; Microsoft Learn "Enable SSO in an Office
 * Add-in using nested app authentication"): MSAL's nestable public client asks Outlook for tokens
 * through the host's broker. Redirect URI of the add-in's app registration: `brk-multihub://<origin>`.
 * Order: acquireTokenSilent (an account known) → ssoSilent → acquireTokenPopup (Outlook shows its own
 * consent/sign-in UI). Needs requirement set NestedAppAuth 1.1. @azure/msal-browser is loaded on
 * first use (its own chunk), so the pane's first render does not wait for it.
 */
import type { AccountInfo, AuthenticationResult, IPublicClientApplication } from '@azure/msal-browser';
import { AuthError, type AuthProvider, type AuthSettings } from './types';

/** Creates the nestable client; injected in tests. */
export type NestableFactory = (settings: AuthSettings) => Promise<IPublicClientApplication>;

/** The default factory: `createNestablePublicClientApplication` from @azure/msal-browser. */
export const createNestable: NestableFactory = async (settings) => {
  const msal = await import(/* webpackChunkName: "msal" */ '@azure/msal-browser');
  return msal.createNestablePublicClientApplication({ auth: { clientId: settings.clientId, authority: settings.authorityUrl } });
};

/** True when MSAL says the user must interact (consent, MFA, no account). */
function needsInteraction(err: unknown): boolean {
  const e = err as { name?: string; errorCode?: string };
  return e?.name === 'InteractionRequiredAuthError' || e?.errorCode === 'no_account_error' || e?.errorCode === 'interaction_required'
    || e?.errorCode === 'login_required' || e?.errorCode === 'consent_required';
}

function toAuthError(err: unknown): AuthError {
  const e = err as { errorCode?: string; message?: string };
  if (e?.errorCode === 'user_cancelled') return new AuthError('Cancelled', 'Sign-in was cancelled.', { cause: err });
  if (e?.errorCode === 'popup_window_error' || e?.errorCode === 'empty_window_error') return new AuthError('Blocked', 'The sign-in window could not open.', { cause: err });
  return new AuthError('SignInFailed', `Sign-in failed: ${e?.errorCode ?? e?.message ?? String(err)}`, { cause: err });
}

/** NAA provider. */
export class NaaAuth implements AuthProvider {
  readonly kind = 'naa' as const;
  readonly needsCredentials = false;
  private pca: Promise<IPublicClientApplication> | undefined;
  private current: AccountInfo | undefined;

  constructor(private readonly settings: AuthSettings, private readonly factory: NestableFactory = createNestable) {}

  private client(): Promise<IPublicClientApplication> {
    this.pca ??= this.factory(this.settings);
    return this.pca;
  }

  account(): string | undefined {
    return this.current?.username;
  }

  async signIn(): Promise<void> {
    await this.getToken();
  }

  async getToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const pca = await this.client().catch((err) => { this.pca = undefined; throw toAuthError(err); });
    const scopes = [this.settings.apiScope];
    const keep = (r: AuthenticationResult): string => {
      if (r.account) this.current = r.account;
      return r.accessToken;
    };
    const account = this.current ?? pca.getActiveAccount() ?? pca.getAllAccounts()[0];
    try {
      if (account) return keep(await pca.acquireTokenSilent({ scopes, account, forceRefresh: options.forceRefresh }));
      return keep(await pca.ssoSilent({ scopes }));
    } catch (err) {
      if (!needsInteraction(err)) throw toAuthError(err);
    }
    try {
      return keep(await pca.acquireTokenPopup({ scopes }));
    } catch (err) {
      throw toAuthError(err);
    }
  }

  signOut(): void {
    this.current = undefined;
  }

  /** acquireTokenSilent / ssoSilent only: no popup when the pane opens (the popup waits for a click). */
  async getTokenSilently(): Promise<string | undefined> {
    try {
      const pca = await this.client();
      const scopes = [this.settings.apiScope];
      const account = this.current ?? pca.getActiveAccount() ?? pca.getAllAccounts()[0];
      const r = account ? await pca.acquireTokenSilent({ scopes, account }) : await pca.ssoSilent({ scopes });
      if (r.account) this.current = r.account;
      return r.accessToken;
    } catch {
      return undefined;
    }
  }
}
