/**
 * The Office-dialog fallback (FACTS.md "Authentication"; sample OfficeDev/Office-Add-in-samples
 * Samples/auth/Outlook-Add-in-SSO-NAA): where NestedAppAuth 1.1 is missing, the pane opens
 * signin.html in an Office dialog (`displayDialogAsync`). That page runs MSAL's redirect flow with
 * the add-in's SPA registration (redirect URI = the page itself) and sends the result back with
 * `messageParent` as a {@link DialogResult} JSON string. Tokens are kept in memory until 5 minutes
 * before they expire.
 */
import type { OfficeHost } from '../office/office';
import { OfficeError } from '../office/office';
import { AuthError, MIN_TOKEN_LIFETIME_SECONDS, secondsLeft, type AuthProvider, type AuthSettings } from './types';

/** What signin.html sends to the pane. */
export type DialogResult = { ok: true; accessToken: string; username?: string } | { ok: false; code: string; message: string };

/** Builds the sign-in page URL (same origin as the pane; the dialog needs https and a trusted domain). */
export function signInPageUrl(pageUrl: string, settings: AuthSettings, forceRefresh: boolean): string {
  const u = new URL(pageUrl);
  u.searchParams.set('clientId', settings.clientId);
  u.searchParams.set('authority', settings.authorityUrl);
  u.searchParams.set('scope', settings.apiScope);
  if (forceRefresh) u.searchParams.set('forceRefresh', '1');
  return u.toString();
}

/** Office-dialog provider. */
export class DialogAuth implements AuthProvider {
  readonly kind = 'dialog' as const;
  readonly needsCredentials = false;
  private token: string | undefined;
  private username: string | undefined;

  /** @param pageUrl absolute URL of signin.html (beside taskpane.html) */
  constructor(private readonly settings: AuthSettings, private readonly office: OfficeHost, private readonly pageUrl: string) {}

  account(): string | undefined {
    return this.username;
  }

  async signIn(): Promise<void> {
    await this.getToken({ forceRefresh: true });
  }

  async getToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const left = this.token ? secondsLeft(this.token) : undefined;
    if (!options.forceRefresh && this.token && (left === undefined || left > MIN_TOKEN_LIFETIME_SECONDS)) return this.token;
    let dialog;
    try {
      dialog = await this.office.openDialog(signInPageUrl(this.pageUrl, this.settings, !!options.forceRefresh), { heightPercent: 60, widthPercent: 30 });
    } catch (err) {
      throw fromOffice(err);
    }
    let text: string;
    try {
      text = await dialog.message;
    } catch (err) {
      throw fromOffice(err);
    } finally {
      dialog.close();
    }
    let result: DialogResult;
    try {
      result = JSON.parse(text) as DialogResult;
    } catch {
      throw new AuthError('SignInFailed', 'The sign-in window sent an unreadable answer.');
    }
    if (!result.ok) throw new AuthError(result.code === 'user_cancelled' ? 'Cancelled' : 'SignInFailed', `Sign-in failed: ${result.message}`);
    this.token = result.accessToken;
    this.username = result.username;
    return result.accessToken;
  }

  signOut(): void {
    this.token = undefined;
    this.username = undefined;
  }
}

function fromOffice(err: unknown): AuthError {
  if (err instanceof OfficeError) {
    if (err.code === 'DialogClosed') return new AuthError('Cancelled', 'Sign-in was cancelled: the window was closed.', { cause: err });
    if (err.code === 'DialogBlocked' || err.code === 'DialogAlreadyOpen') return new AuthError('Blocked', err.message, { cause: err });
    return new AuthError('SignInFailed', err.message, { cause: err });
  }
  return new AuthError('SignInFailed', err instanceof Error ? err.message : String(err), { cause: err });
}
