/**
 * From a tenant config file (`--tenant-config FILE`, written by `outport sandbox --write-config`
 * for the sandbox; the same shape for a real tenant, docs/sandbox.md) to a GraphClient with
 * app-only tokens: the cloud, the token source, the client. Commands (inventory, export) share it.
 *
 * Token source: MSAL's ClientCredentialsTokenSource (msal-token-sources.ts) for an https authority
 * or a certificate; the fetch-based FetchClientCredentialsTokenSource (client-credentials.ts) for an
 * http authority with a secret (the sandbox without its HTTPS listener), which MSAL refuses.
 */
import { readFile } from 'node:fs/promises';
import { GraphClient, type GraphClientOptions } from './client';
import { CLOUDS, customCloud, type CloudName, type GraphCloud } from './clouds';
import { FetchClientCredentialsTokenSource } from './client-credentials';
import { ClientCredentialsTokenSource, msalSettingsFromTenantConfig, type TenantAuthConfig } from './msal-token-sources';
import type { TokenSource } from './token-source';

/** A tenant config as Graph commands read it (the sandbox writes more: `users`, passwords). */
export interface GraphTenantConfig extends TenantAuthConfig {
  /** Graph root without version; required for cloud `custom`, ignored otherwise. */
  graphUrl?: string;
  /** `custom` only: whether the Graph at graphUrl has exportItems; default true. */
  exportItemsAvailable?: boolean;
  users?: { mail: string; [k: string]: unknown }[];
  /**
   * Sandbox only: the token endpoint a browser signs test users in at (`outport sandbox` writes it).
   * The worker never calls it; `outport serve` hands it to the add-in (`GET /api/v1/config`).
   */
  sandboxSignIn?: { tokenUrl: string };
}

/** A tenant config that cannot be used; the message names the field and the fix. Never holds the secret. */
export class TenantConfigError extends Error {
  readonly code = 'TenantConfig';
  constructor(message: string) {
    super(message);
    this.name = 'TenantConfigError';
  }
}

const CLOUD_NAMES: readonly CloudName[] = ['global', 'usgov', 'dod', 'china', 'custom'];

/**
 * Reads and checks a tenant config file.
 * @throws TenantConfigError: unreadable file, not JSON, or a field missing or malformed (named)
 */
export async function readTenantConfig(file: string): Promise<GraphTenantConfig> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (e) {
    throw new TenantConfigError(`tenant config "${file}" cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}): give the file written by "outport sandbox --write-config FILE" or your tenant's config`);
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch {
    throw new TenantConfigError(`tenant config "${file}" is not JSON`);
  }
  return checkTenantConfig(json, file);
}

/** Checks a parsed tenant config. @throws TenantConfigError naming the field */
export function checkTenantConfig(json: unknown, where = 'tenant config'): GraphTenantConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TenantConfigError(`${where}: expected a JSON object`);
  const c = json as Record<string, unknown>;
  const need = (k: string, hint: string): string => {
    if (typeof c[k] !== 'string' || c[k] === '') throw new TenantConfigError(`${where}: "${k}" is missing or empty: ${hint}`);
    return c[k] as string;
  };
  const cloud = (c.cloud === undefined ? 'global' : c.cloud) as CloudName;
  if (!CLOUD_NAMES.includes(cloud)) throw new TenantConfigError(`${where}: "cloud" must be one of ${CLOUD_NAMES.join(', ')}, not ${JSON.stringify(c.cloud)}`);
  need('tenantId', 'the directory (tenant) id GUID or a verified domain');
  need('clientId', "the app registration's application (client) id");
  if (cloud === 'custom') {
    need('graphUrl', 'the Graph root for cloud "custom" (e.g. http://127.0.0.1:4010)');
    need('authorityUrl', 'the token service root for cloud "custom"');
  }
  if (!(typeof c.clientSecret === 'string' && c.clientSecret !== '') && !(c.certificate && typeof c.certificate === 'object')) {
    throw new TenantConfigError(`${where}: neither "clientSecret" nor "certificate" is given: app-only access needs one of them`);
  }
  for (const k of ['authorityUrl', 'graphUrl'] as const) {
    if (c[k] !== undefined && c[k] !== '' && (typeof c[k] !== 'string' || !/^https?:\/\/[^\s]+$/i.test(c[k] as string))) {
      throw new TenantConfigError(`${where}: "${k}" must be an http(s) URL`);
    }
  }
  if (c.sandboxSignIn !== undefined) {
    const s = c.sandboxSignIn as Record<string, unknown> | null;
    if (!s || typeof s !== 'object' || typeof s.tokenUrl !== 'string' || !/^https?:\/\/[^\s]+$/i.test(s.tokenUrl)) {
      throw new TenantConfigError(`${where}: "sandboxSignIn.tokenUrl" must be an http(s) URL (the sandbox's browser sign-in token endpoint), or leave "sandboxSignIn" out`);
    }
  }
  return { ...(c as unknown as GraphTenantConfig), cloud };
}

/** The cloud of a config: a named cloud, or `custom` at graphUrl/authorityUrl. */
export function cloudOfTenant(config: GraphTenantConfig): GraphCloud {
  if (config.cloud !== 'custom') return CLOUDS[config.cloud];
  return customCloud({ graphBaseUrl: config.graphUrl!, loginBaseUrl: config.authorityUrl || config.graphUrl!, exportItemsAvailable: config.exportItemsAvailable });
}

/** App-only tokens for the config's app (see the module comment for which source). */
export function tokenSourceForTenant(config: GraphTenantConfig): TokenSource {
  const authority = config.authorityUrl || cloudOfTenant(config).loginBaseUrl;
  if (/^http:/i.test(authority) && config.clientSecret && !config.certificate) {
    return new FetchClientCredentialsTokenSource({ authorityUrl: authority, tenantId: config.tenantId, clientId: config.clientId, clientSecret: config.clientSecret });
  }
  return new ClientCredentialsTokenSource(msalSettingsFromTenantConfig({ ...config, authorityUrl: authority }));
}

/** A GraphClient for the config's tenant and app (pass the worker's shared `gate`). */
export function graphClientForTenant(config: GraphTenantConfig, options: Partial<Omit<GraphClientOptions, 'cloud' | 'tokenSource'>> = {}): GraphClient {
  return new GraphClient({ ...options, cloud: cloudOfTenant(config), tokenSource: tokenSourceForTenant(config) });
}
