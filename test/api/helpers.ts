/**
 * The worker API under test: the sandbox tenant (HTTPS token service, so MSAL and jose work as with
 * Entra), Azurite, the SQLite jobs backend in a temporary data directory, buildApi with a log
 * collector, and optionally the runner. Everything on free ports, stopped and removed by `stop()`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { buildApi, createApiLogger, graphAccessForTenant, startWorker, type WorkerHandle } from '../../worker-service/src/api';
import { clearAuthMetadataCache, type ApiAuthConfig } from '../../worker-service/src/api/auth';
import { openSqliteBackend } from '../../worker-service/src/jobs/sqlite/backend';
import type { JobBackend } from '../../worker-service/src/jobs/contract';
import { sandboxTenantConfig, startSandbox, type SandboxHandle, type SandboxOptions } from '../../worker-service/src/sandbox';
import { checkTenantConfig } from '../../worker-service/src/graph/tenant-client';
import { startAzurite, type AzuriteInstance } from '../harness/azurite';

/** A running API stack. */
export interface ApiStack {
  sb: SandboxHandle;
  az: AzuriteInstance;
  app: FastifyInstance;
  backend: JobBackend;
  worker?: WorkerHandle;
  auth: ApiAuthConfig;
  /** Every log line written so far (JSON lines, after redaction). */
  logs: string[];
  dataDir: string;
  /** http://127.0.0.1:<port> of the listening API. */
  baseUrl: string;
  /** One request over real HTTP (fastify's inject needs an ESM-only cookie module jest cannot load). */
  inject(req: InjectRequest): Promise<InjectResponse>;
  /** Lists containers on Azurite (names). */
  containers(): Promise<string[]>;
  /** `Authorization` header of a user's token (the add-in's): sandbox user by given name, with extra claims. */
  bearer(given: string, claims?: Record<string, unknown>): Promise<string>;
  /** A destination input for Azurite (account key), container given. */
  destination(container?: string): Record<string, string>;
  stop(): Promise<void>;
}

/** A request for {@link ApiStack.inject}: JSON-encoded unless `payload` is a string. */
export interface InjectRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: unknown;
}

/** What {@link ApiStack.inject} answers. */
export interface InjectResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Sends `req` to `baseUrl` with fetch. */
export async function httpInject(baseUrl: string, req: InjectRequest): Promise<InjectResponse> {
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let body: string | undefined;
  if (req.payload !== undefined) {
    body = typeof req.payload === 'string' ? req.payload : JSON.stringify(req.payload);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${req.url}`, { method: req.method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), body: text, json: () => JSON.parse(text) };
}

/** Options of {@link startApiStack}. */
export interface ApiStackOptions {
  sandbox?: SandboxOptions;
  /** Start the runner too (default false). */
  worker?: boolean;
  keepAliveMs?: number;
  allowedOrigins?: string[];
}

/** Starts sandbox, Azurite, SQLite backend, API (inject only), and optionally the runner. */
export async function startApiStack(options: ApiStackOptions = {}): Promise<ApiStack> {
  const [sb, az] = await Promise.all([startSandbox({ mailLimit: 10, ...options.sandbox, https: true }), startAzurite()]);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'outport-api-'));
  const backend = await openSqliteBackend({ dataDir, secretKey: randomBytes(32), pollIntervalMs: 50 });
  const tenant = checkTenantConfig(sandboxTenantConfig(sb));
  const auth: ApiAuthConfig = { tenantId: sb.tenantId, clientId: sb.clientId, authorityUrl: sb.authorityUrl, caCertificate: sb.caCertificate };
  clearAuthMetadataCache();
  const logs: string[] = [];
  const logger = createApiLogger({ level: 'debug', destination: { write: (line: string) => logs.push(line) } });
  const graph = graphAccessForTenant(tenant, { retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetries: 4 } });
  let worker: WorkerHandle | undefined;
  if (options.worker) worker = startWorker({ backend, graph, pollMs: 100, leaseMs: 30_000, concurrency: 4 });
  const app = await buildApi(
    { auth, publicConfig: { authorityUrl: sb.authorityUrl, cloud: 'custom', sandbox: true, sandboxSignIn: { tokenUrl: sb.signInTokenUrl } }, logger, keepAliveMs: options.keepAliveMs, ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}) },
    { backend, graph, ...(worker ? { onUserAssertion: worker.onUserAssertion } : {}) },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const blob = new BlobServiceClient(az.blobEndpoint, new StorageSharedKeyCredential(az.accountName, az.accountKey));
  const user = (given: string) => {
    const u = sb.users.find((x) => x.givenName === given);
    if (!u) throw new Error(`no sandbox user ${given}`);
    return u;
  };
  return {
    sb, az, app, backend, worker, auth, logs, dataDir, baseUrl,
    inject: (req) => httpInject(baseUrl, req),
    async containers() {
      const names: string[] = [];
      for await (const c of blob.listContainers()) names.push(c.name);
      return names;
    },
    async bearer(given, claims = {}) {
      const u = user(given);
      const token = await sb.issuer.sign({ aud: `api://${sb.clientId}`, oid: u.id, upn: u.userPrincipalName, preferred_username: u.userPrincipalName, name: u.displayName, scp: 'access_as_user', ...claims });
      return `Bearer ${token}`;
    },
    destination(container = 'outport') {
      return { accountName: az.accountName, accountKey: az.accountKey, storageCloud: 'custom', blobEndpoint: az.blobEndpoint, container };
    },
    async stop() {
      await worker?.stop({ graceful: false }).catch(() => undefined);
      await app.close().catch(() => undefined);
      await backend.close().catch(() => undefined);
      await Promise.all([sb.stop().catch(() => undefined), az.stop().catch(() => undefined)]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Admin claims: the Exchange Administrator directory role. */
export const ADMIN_CLAIMS = { wids: ['29232cdf-9323-42fd-ade2-1d097af3e4de'] };
