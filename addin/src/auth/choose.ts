/**
 * Picks the sign-in for this pane: the sandbox password sign-in when the worker says its tenant is
 * the sandbox; Nested App Authentication when Outlook supports NestedAppAuth 1.1; otherwise the
 * Office-dialog fallback (FACTS.md "Authentication").
 */
import type { ApiConfig } from '../api/types';
import type { OfficeHost } from '../office/office';
import { DialogAuth } from './dialog';
import { NaaAuth, type NestableFactory } from './naa';
import { SandboxAuth } from './sandbox';
import type { AuthProvider } from './types';

/** Requirement set that carries NAA in Outlook (Microsoft Learn "Nested app authentication requirement sets"). */
export const NAA_REQUIREMENT = { name: 'NestedAppAuth', version: '1.1' } as const;

export interface ChooseAuthOptions {
  /** Absolute URL of signin.html for the dialog fallback. */
  signInPageUrl: string;
  /** Injected in tests. */
  nestableFactory?: NestableFactory;
  fetch?: typeof fetch;
}

/**
 * The tenant's authority from `GET /config`: the worker reports the login root (e.g.
 * https://login.microsoftonline.com, or the sandbox's token service root) and the tenant id; the
 * authority is `<root>/<tenantId>` (an authorityUrl that already ends with the tenant is kept).
 */
export function authorityOf(config: Pick<ApiConfig, 'authorityUrl' | 'tenantId'>): string {
  const root = config.authorityUrl.replace(/\/+$/, '');
  return root.toLowerCase().endsWith(`/${config.tenantId.toLowerCase()}`) ? root : `${root}/${config.tenantId}`;
}

/** The provider for `config` on `office`. */
export function chooseAuth(config: ApiConfig, office: OfficeHost, options: ChooseAuthOptions): AuthProvider {
  const settings = { clientId: config.clientId, authorityUrl: authorityOf(config), apiScope: config.apiScope };
  if (config.sandbox) return new SandboxAuth({ ...settings, ...(config.sandboxSignIn?.tokenUrl ? { tokenUrl: config.sandboxSignIn.tokenUrl } : {}) }, options.fetch);
  if (office.isSetSupported(NAA_REQUIREMENT.name, NAA_REQUIREMENT.version)) return new NaaAuth(settings, options.nestableFactory);
  return new DialogAuth(settings, office, options.signInPageUrl);
}
