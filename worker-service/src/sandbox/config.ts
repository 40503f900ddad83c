/**
 * The tenant config JSON that every `outport` command accepts as `--tenant-config FILE`: cloud
 * "custom", the Graph and authority URLs, tenant id, the app's client id and secret, and the users.
 * The same shape describes a real tenant (cloud "global", no passwords).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SandboxHandle } from './server';

/** One user in a tenant config. */
export interface TenantConfigUser {
  mail: string;
  displayName: string;
  id: string;
  userPrincipalName: string;
  /** Sandbox only: the password of the resource-owner password grant (a test user's sign-in). */
  password?: string;
  /** Sandbox only: what the tenant holds for this user. */
  hasArchive?: boolean;
  inactive?: boolean;
  /** Sandbox only: the user's directory roles (Graph `directoryRole`); the seeded admin has Exchange Administrator. */
  directoryRoles?: { displayName: string; roleTemplateId: string }[];
}

/**
 * Sandbox only: where a browser signs test users in. The worker passes it to the add-in
 * (`GET /api/v1/config` `sandboxSignIn`) and never uses it itself.
 */
export interface SandboxSignInConfig {
  /** Token endpoint for the password grant, reachable from a browser (plain-HTTP loopback, CORS). */
  tokenUrl: string;
}

/** The tenant config file. */
export interface TenantConfig {
  cloud: 'custom' | 'global' | 'usgov' | 'dod' | 'china';
  /** Graph root without version (requests go to `<graphUrl>/v1.0/...`); for `custom` only. */
  graphUrl: string;
  /** Token service root (authority = `<authorityUrl>/<tenantId>`). */
  authorityUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /**
   * PEM certificate(s) to trust for the token service, present when `authorityUrl` is a sandbox's
   * self-signed HTTPS listener (`startSandbox({ https: true })`). Absent for a real tenant.
   */
  caCertificate?: string;
  /** Sandbox only: the add-in's sign-in endpoint ({@link SandboxSignInConfig}). */
  sandboxSignIn?: SandboxSignInConfig;
  users: TenantConfigUser[];
}

/** The tenant config of a running sandbox. */
export function sandboxTenantConfig(sb: Pick<SandboxHandle, 'graphUrl' | 'authorityUrl' | 'tenantId' | 'clientId' | 'clientSecret' | 'users'> & { caCertificate?: string; signInTokenUrl?: string }): TenantConfig {
  return {
    cloud: 'custom', graphUrl: sb.graphUrl, authorityUrl: sb.authorityUrl, tenantId: sb.tenantId, clientId: sb.clientId, clientSecret: sb.clientSecret,
    ...(sb.caCertificate ? { caCertificate: sb.caCertificate } : {}),
    ...(sb.signInTokenUrl ? { sandboxSignIn: { tokenUrl: sb.signInTokenUrl } } : {}),
    users: sb.users.map((u) => ({
      mail: u.mail, displayName: u.displayName, id: u.id, userPrincipalName: u.userPrincipalName, password: u.password,
      hasArchive: !!u.archive, inactive: u.inactive,
      ...(u.directoryRoles?.length ? { directoryRoles: u.directoryRoles.map((r) => ({ displayName: r.displayName, roleTemplateId: r.roleTemplateId })) } : {}),
    })),
  };
}

/** Writes the sandbox's tenant config to `file` (directories created; mode 0600: it holds a secret). */
export async function writeTenantConfig(sb: Parameters<typeof sandboxTenantConfig>[0], file: string): Promise<TenantConfig> {
  const config = sandboxTenantConfig(sb);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return config;
}
