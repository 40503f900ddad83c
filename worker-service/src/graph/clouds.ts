/**
 * National clouds: where Graph and the token service live for a tenant, and which APIs exist there.
 * Follows "Microsoft Graph national cloud deployments" (learn.microsoft.com/graph/deployments) and
 * "Access national cloud deployments with the Microsoft Graph SDKs" (graph/sdks/national-clouds):
 * the `.default` scope must use the cloud's own Graph host. exportItems availability follows the
 * mailbox-exportitems reference page ("global service only; not US Gov L4/L5, not 21Vianet").
 */

/** The clouds Outport knows by name; `custom` is any Graph-compatible base URL (the sandbox tenant). */
export type CloudName = 'global' | 'usgov' | 'dod' | 'china' | 'custom';

/** One cloud's endpoints and capabilities. URLs carry no trailing slash and no API version. */
export interface GraphCloud {
  readonly name: CloudName;
  /** Graph service root, e.g. `https://graph.microsoft.com`; for `custom` it may hold a path prefix. */
  readonly graphBaseUrl: string;
  /** Microsoft Entra token service root, e.g. `https://login.microsoftonline.com` (authority = root + `/{tenant}`). */
  readonly loginBaseUrl: string;
  /** App-only / OBO scope for Graph in this cloud: `<graphBaseUrl>/.default`. */
  readonly graphScope: string;
  /** Whether `POST /admin/exchange/mailboxes/{id}/exportItems` (full fidelity) exists here;
   *  false means the source must use the REST/MIME fallback and mark items with that fidelity. */
  readonly exportItemsAvailable: boolean;
}

function cloud(name: CloudName, graphBaseUrl: string, loginBaseUrl: string, exportItemsAvailable: boolean): GraphCloud {
  return Object.freeze({ name, graphBaseUrl, loginBaseUrl, graphScope: `${graphBaseUrl}/.default`, exportItemsAvailable });
}

/** The named national clouds. GCC (moderate) tenants use `global`: same hosts as commercial. */
export const CLOUDS: Readonly<Record<Exclude<CloudName, 'custom'>, GraphCloud>> = Object.freeze({
  global: cloud('global', 'https://graph.microsoft.com', 'https://login.microsoftonline.com', true),
  /** GCC High (US Gov L4). */
  usgov: cloud('usgov', 'https://graph.microsoft.us', 'https://login.microsoftonline.us', false),
  /** US Gov DoD (L5): its own Graph host, the same login host as GCC High. */
  dod: cloud('dod', 'https://dod-graph.microsoft.us', 'https://login.microsoftonline.us', false),
  /** Microsoft 365 operated by 21Vianet. */
  china: cloud('china', 'https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn', false),
});

/** Options of a `custom` cloud (the sandbox tenant, or a test server). */
export interface CustomCloudOptions {
  /** Graph root, http(s), optionally with a path prefix (`http://127.0.0.1:4010/graph`). */
  graphBaseUrl: string;
  /** Token service root; defaults to graphBaseUrl. */
  loginBaseUrl?: string;
  /** Default true: the sandbox serves exportItems. */
  exportItemsAvailable?: boolean;
}

/** A `custom` cloud from base URLs; trailing slashes are removed.
 *  @throws TypeError when a URL is not absolute http(s) or carries a query or fragment */
export function customCloud(options: CustomCloudOptions): GraphCloud {
  const graph = normalizeBaseUrl(options.graphBaseUrl, 'graphBaseUrl');
  const login = options.loginBaseUrl === undefined ? graph : normalizeBaseUrl(options.loginBaseUrl, 'loginBaseUrl');
  return cloud('custom', graph, login, options.exportItemsAvailable ?? true);
}

/** The cloud for a configuration value: a name, or `custom` options.
 *  @throws TypeError for an unknown name, or `custom` given without options */
export function resolveCloud(nameOrCustom: CloudName | string | CustomCloudOptions): GraphCloud {
  if (typeof nameOrCustom !== 'string') return customCloud(nameOrCustom);
  const key = nameOrCustom.toLowerCase();
  if (key === 'custom') throw new TypeError('cloud "custom" needs graphBaseUrl (use customCloud)');
  if (Object.prototype.hasOwnProperty.call(CLOUDS, key)) return CLOUDS[key as keyof typeof CLOUDS];
  throw new TypeError(`unknown cloud "${nameOrCustom}" (global, usgov, dod, china, custom)`);
}

/** The versioned Graph root for requests, e.g. `https://graph.microsoft.com/v1.0`. */
export function graphApiRoot(cloud: GraphCloud, version: 'v1.0' | 'beta' = 'v1.0'): string {
  return `${cloud.graphBaseUrl}/${version}`;
}

/** The token endpoint of a tenant (OAuth 2.0 v2), e.g. `https://login.microsoftonline.us/{tenant}/oauth2/v2.0/token`. */
export function tokenEndpoint(cloud: GraphCloud, tenantId: string): string {
  return `${cloud.loginBaseUrl}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
}

function normalizeBaseUrl(raw: string, what: string): string {
  let url: URL;
  try { url = new URL(raw); } catch { throw new TypeError(`${what} is not an absolute URL`); }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${what} must be http(s)`);
  if (url.search || url.hash || url.username || url.password) throw new TypeError(`${what} must not carry a query, fragment or credentials`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
