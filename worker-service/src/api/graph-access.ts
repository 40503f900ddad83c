/**
 * Graph clients the API and the runner use for one tenant (tenant config file, graph/tenant-client.ts):
 * app-only (client credentials: admin user search, `authMode: "application"` exports) and delegated
 * (On-Behalf-Of the caller's token for the worker API: `GET /me`, `authMode: "delegated"` exports).
 * One MailboxGate per worker process is shared by every client, so Graph's per-mailbox concurrency
 * limit holds across jobs (docs/graph-client.md).
 */
import { GraphClient, MailboxGate, type GraphClientOptions } from '../graph';
import { OnBehalfOfTokenSource, msalSettingsFromTenantConfig, type OnBehalfOfSettings } from '../graph/msal-token-sources';
import { cloudOfTenant, tokenSourceForTenant, type GraphTenantConfig } from '../graph/tenant-client';
import type { TokenSource } from '../graph/token-source';

/** What the API needs of Graph. */
export interface GraphAccess {
  /** A client with app-only tokens (client credentials). */
  app(): GraphClient;
  /** A client acting as the user whose worker-API token is `assertion` (On-Behalf-Of). */
  delegated(assertion: string, settings?: Pick<OnBehalfOfSettings, 'getUserAssertion'>): { client: GraphClient; tokenSource: OnBehalfOfTokenSource };
}

/** Graph access for a tenant config, sharing one gate and one app-only token source. */
export function graphAccessForTenant(config: GraphTenantConfig, options: Partial<Omit<GraphClientOptions, 'cloud' | 'tokenSource' | 'gate'>> = {}): GraphAccess {
  const gate = new MailboxGate();
  const cloud = cloudOfTenant(config);
  let appTokens: TokenSource | undefined;
  let appClient: GraphClient | undefined;
  return {
    app() {
      appTokens ??= tokenSourceForTenant(config);
      appClient ??= new GraphClient({ ...options, cloud, tokenSource: appTokens, gate });
      return appClient;
    },
    delegated(assertion, settings = {}) {
      const tokenSource = new OnBehalfOfTokenSource({
        ...msalSettingsFromTenantConfig({ ...config, authorityUrl: config.authorityUrl || cloud.loginBaseUrl }),
        userAssertion: assertion, ...settings,
      });
      return { client: new GraphClient({ ...options, cloud, tokenSource, gate }), tokenSource };
    },
  };
}
