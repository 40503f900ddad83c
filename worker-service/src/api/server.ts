/**
 * The worker HTTP API (issue 4 part 4; the contract is docs/api.md): fastify 5, every route with
 * JSON schemas (body, params, query, response) so a bad request is a 400 naming the field, the
 * OpenAPI 3 document at `GET /api/v1/openapi.json` (@fastify/swagger, from the same schemas), body
 * limits (JSON 1 MiB, CSV 8 MiB → 413), pino logs with secrets redacted (api/logging.ts), bearer
 * tokens validated by api/auth and the authorization rules of docs/api.md:
 *
 * - users see and act only on the projects they created, and add only their own mailbox and archive;
 * - admins see every project of their tenant (projects are shared among the tenant's admins) and may
 *   add any mailbox of it; `authMode: "application"` (client credentials) is for admins only;
 * - part download links (short-lived read SAS) only for admins and the mailbox's owner.
 *
 * The API does no export work itself: actions enqueue jobs (jobs/contract.ts JobQueue) that a
 * runner (api/worker.ts) claims; progress comes back through the queue (polling and SSE).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import {
  authorizeMailbox, isAdmin, isOwnMailbox, requireAdmin, validateBearerToken, type ApiAuthConfig, type ApiIdentity,
  DEFAULT_API_SCOPE,
} from './auth';
import { ApiError, invalid, toApiError } from './errors';
import { createApiLogger } from './logging';
import * as S from './schemas';
import type { GraphAccess } from './graph-access';
import type { Item, ItemInput, JobBackend, Project, ProjectOptions } from '../jobs/contract';
import { parseItemsCsv } from '../jobs/csv';
import { ItemCollector } from '../jobs/items';
import { statisticsCsv } from '../jobs/statistics';
import { createDestination } from '../storage';
import type { Destination as StorageDestination } from '../storage/destination';
import { validateDestination, type DestinationInput } from '../storage/validate';
import { getMailboxIds, listUserPages, walkFolders, type GraphClient } from '../graph';

/** JSON body limit (docs/api.md "Errors": PayloadTooLarge). */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;
/** CSV upload limit. */
export const CSV_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
/** Validity of a part's download link, minutes (docs/api.md: 15 min). */
export const DOWNLOAD_URL_MINUTES = 15;
/** Default interval of SSE keep-alive comments, ms (docs/api.md: every 15 s). */
export const DEFAULT_KEEPALIVE_MS = 15_000;

/** What the API serves and whom it trusts. */
export interface ApiConfig {
  /** Token validation and the admin rules (api/auth). */
  auth: ApiAuthConfig;
  /**
   * What `GET /api/v1/config` tells the add-in: authority root, cloud, whether this is the sandbox,
   * and for the sandbox where a browser signs test users in (the tenant config's `sandboxSignIn`;
   * sent only when `sandbox` is true).
   */
  publicConfig: { authorityUrl: string; cloud: string; sandbox: boolean; apiScope?: string; sandboxSignIn?: { tokenUrl: string } };
  /** `GET /api/v1/health` version; default the package's. */
  version?: string;
  /** Directory of the add-in build (addin/dist) served at `/` when present. */
  addinDir?: string;
  /**
   * Origins allowed to call the API from a browser (CORS), e.g. `https://localhost:3000` when the
   * add-in is served by its own dev server. Default none: the add-in served by the worker itself is
   * same-origin and needs no CORS.
   */
  allowedOrigins?: readonly string[];
  /** SSE keep-alive interval, ms (tests shorten it). */
  keepAliveMs?: number;
  /** The logger (api/logging.ts createApiLogger); default a redacting pino logger on stdout. `false` = silent. */
  logger?: Logger | false;
}

/** The layers the API drives. */
export interface ApiDeps {
  /** Projects, items and the job queue. */
  backend: JobBackend;
  /** Graph for /me and /users. */
  graph: GraphAccess;
  /** Opens a project's destination (validated config from the stored destination and its secret); default storage/createDestination. */
  openDestination?: (input: DestinationInput) => StorageDestination;
  /** Told when a caller posted a fresh user token for a project (the runner hands it to waiting OBO token sources). */
  onUserAssertion?: (projectId: string, assertion: string) => void;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity?: ApiIdentity;
  }
}

const PUBLIC_ROUTES = new Set(['/api/v1/config', '/api/v1/health', '/api/v1/openapi.json']);

/** The stored destination and its secret, merged back into a DestinationInput (never returned). */
export function destinationInputOf(project: Project, secret: { accountKey?: string; sasUrl?: string; connectionString?: string }): DestinationInput {
  const d = project.destination;
  return {
    ...(d.credential === 'sasUrl' ? {} : { accountName: d.accountName }),
    container: d.container, storageCloud: d.storageCloud,
    ...(d.blobEndpoint ? { blobEndpoint: d.blobEndpoint } : {}),
    ...secret,
  };
}

/** Opens a DestinationInput with storage/ (validated; no network yet). @throws ApiError 400 when the stored destination no longer validates */
function defaultOpenDestination(input: DestinationInput): StorageDestination {
  const v = validateDestination(input);
  if (!v.ok) throw invalid(v.errors[0].field, v.errors[0].message);
  return createDestination(v.config);
}

/** The package version: the nearest package.json above this file named "outport" (sources or dist/). */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = require(path.join(dir, 'package.json')) as { name?: string; version?: string };
      if (pkg.name === 'outport' && pkg.version) return pkg.version;
    } catch { /* none here */ }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

const lower = (s: string): string => s.trim().toLowerCase();
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Builds the API (routes registered, not listening): call `app.listen({port, host})` or `app.inject`.
 * @throws TypeError for a config without auth.tenantId or auth.clientId
 */
export async function buildApi(config: ApiConfig, deps: ApiDeps): Promise<FastifyInstance> {
  if (!config.auth?.tenantId || !config.auth?.clientId) throw new TypeError('api config: auth.tenantId and auth.clientId are required');
  const logger = config.logger === false ? false : (config.logger ?? createApiLogger());
  const app = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;
  const { store, queue } = deps.backend;
  const openDestination = deps.openDestination ?? defaultOpenDestination;
  const version = config.version ?? packageVersion();
  const keepAliveMs = config.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Outport worker API', version, description: 'Export Microsoft 365 mailboxes and archives to PST files in your Azure Blob container (docs/api.md).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err);
    if (api.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: api.code, field: api.details.field, status: api.status }, 'request refused');
    for (const [k, v] of Object.entries(api.details.headers ?? {})) void reply.header(k, v);
    void reply.code(api.status).type('application/json').send(api.toBody());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send(new ApiError(404, 'NotFound', `no route ${req.method} ${req.url.split('?')[0]}`).toBody());
  });

  // CORS for configured origins only (Fetch standard "CORS protocol"): the preflight is answered
  // before authentication (it carries no token); credentials are bearer tokens, never cookies.
  const origins = new Set((config.allowedOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()));
  if (origins.size) {
    app.addHook('onRequest', async (req, reply) => {
      const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
      if (!origin || !origins.has(origin.toLowerCase()) || !req.url.startsWith('/api/')) return;
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        await reply.code(204)
          .header('access-control-allow-methods', 'GET, POST, PATCH, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type, accept')
          .header('access-control-max-age', '600')
          .send();
      }
    });
  }

  // Authentication: every /api/v1 route but the public ones.
  app.addHook('onRequest', async (req, reply) => {
    if (reply.sent) return;
    const url = req.url.split('?')[0];
    if (!url.startsWith('/api/') || PUBLIC_ROUTES.has(url)) return;
    req.identity = await validateBearerToken(req.headers.authorization, config.auth);
  });

  const who = (req: FastifyRequest): ApiIdentity => {
    if (!req.identity) throw new ApiError(401, 'InvalidToken', 'an Authorization: Bearer <token> header is required');
    return req.identity;
  };
  const admin = (req: FastifyRequest): boolean => isAdmin(who(req), config.auth);

  /** The project if the caller may see it: admins any of their tenant, users their own (others → 404, no existence leak). */
  const visibleProject = async (req: FastifyRequest, projectId: string): Promise<Project> => {
    const id = who(req);
    const project = await store.getProject(id.tid, projectId);
    if (!admin(req) && lower(project.createdBy) !== lower(id.oid)) throw new ApiError(404, 'NotFound', `no project ${projectId}`);
    return project;
  };

  /** A source the caller may export: users their own mailbox (by id or address), admins any. */
  const authorizeSource = (req: FastifyRequest, source: string, field: string): void => {
    try {
      authorizeMailbox(who(req), GUID.test(source) ? { userId: source } : { address: source }, config.auth);
    } catch (err) {
      const e = toApiError(err);
      throw new ApiError(e.status, e.code, `${field}: ${e.message}`, { field });
    }
  };

  /**
   * Keeps the caller's token as the project's OBO assertion (delegated projects) and tells the runner.
   * Only the project's creator's token: an admin acting on a user's delegated project must not
   * replace the user's chain with their own.
   */
  const keepAssertion = async (req: FastifyRequest, project: Project): Promise<void> => {
    if (project.authMode !== 'delegated') return;
    const id = who(req);
    if (id.kind !== 'user' || lower(id.oid) !== lower(project.createdBy)) return;
    await store.setUserAssertion(id.tid, project.id, id.rawToken, id.expiresOnMs);
    deps.onUserAssertion?.(project.id, id.rawToken);
  };

  /** Validates a destination input with storage/validate.ts (400 naming the field; nothing created). */
  const checkDestination = (input: DestinationInput): void => {
    const v = validateDestination(input, 'destination');
    if (!v.ok) throw invalid(v.errors[0].field, v.errors[0].message);
    if (v.config.kind !== 'azure') throw invalid('destination', 'a project exports to an Azure Blob container');
  };

  const withProject = <T extends { Params: { projectId: string } }>(handler: (req: FastifyRequest<T>, reply: FastifyReply, project: Project) => Promise<unknown>) =>
    async (req: FastifyRequest<T>, reply: FastifyReply): Promise<unknown> => handler(req, reply, await visibleProject(req, (req.params as { projectId: string }).projectId));

  // Open event streams, ended before the server closes (a hijacked stream would keep close() waiting).
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => { for (const end of [...streams]) end(); streams.clear(); });

  const sec = { security: [{ bearer: [] }] };
  const tags = (t: string) => ({ tags: [t] });

  // --- public -------------------------------------------------------------------------------
  app.get('/api/v1/config', { schema: { ...tags('meta'), security: [], response: { 200: S.configResponse } } }, async () => ({
    tenantId: config.auth.tenantId, authorityUrl: config.publicConfig.authorityUrl, clientId: config.auth.clientId,
    apiScope: config.publicConfig.apiScope ?? `api://${config.auth.clientId}/${config.auth.requiredScope ?? DEFAULT_API_SCOPE}`,
    cloud: config.publicConfig.cloud, sandbox: config.publicConfig.sandbox,
    ...(config.publicConfig.sandbox && config.publicConfig.sandboxSignIn ? { sandboxSignIn: { tokenUrl: config.publicConfig.sandboxSignIn.tokenUrl } } : {}),
  }));
  app.get('/api/v1/health', { schema: { ...tags('meta'), security: [], response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, version: { type: 'string' } } } } } }, async () => ({ ok: true, version }));
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // --- identity ------------------------------------------------------------------------------
  app.get('/api/v1/me', { schema: { ...tags('identity'), ...sec, response: { 200: S.meResponse, ...S.errorResponses } } }, async (req) => {
    const id = who(req);
    if (id.kind !== 'user') throw new ApiError(403, 'Forbidden', 'GET /me needs a user\'s token');
    const { client } = deps.graph.delegated(id.rawToken);
    const user = await client.get<{ id: string; displayName?: string; mail?: string; userPrincipalName?: string }>('/me?$select=id,displayName,mail,userPrincipalName');
    const ids = await getMailboxIds(client, user.id);
    const info = async (mailboxId: string): Promise<{ mailboxId: string; itemCount: number; sizeBytes: number }> => {
      let itemCount = 0;
      let sizeBytes = 0;
      for await (const f of walkFolders(client, mailboxId)) {
        itemCount += f.totalItemCount ?? 0;
        sizeBytes += typeof f.sizeInBytes === 'number' ? f.sizeInBytes : 0;
      }
      return { mailboxId, itemCount, sizeBytes };
    };
    return {
      user: { id: user.id, displayName: user.displayName ?? '', mail: user.mail ?? '', userPrincipalName: user.userPrincipalName ?? '' },
      isAdmin: isAdmin(id, config.auth),
      mailboxes: { primary: await info(ids.primaryMailboxId), archive: ids.inPlaceArchiveMailboxId ? await info(ids.inPlaceArchiveMailboxId) : null },
    };
  });

  app.get<{ Querystring: { search?: string; top?: string } }>('/api/v1/users', {
    schema: { ...tags('identity'), ...sec, querystring: S.usersQuery, response: { 200: S.listOf(S.graphUser), ...S.errorResponses } },
  }, async (req) => {
    requireAdmin(who(req), config.auth);
    const top = req.query.top ? Number(req.query.top) : 25;
    const client: GraphClient = deps.graph.app();
    const search = req.query.search?.trim();
    for await (const page of listUserPages(client, { ...(search ? { search } : {}), top })) {
      return { value: page.value.slice(0, top).map((u) => ({ id: u.id ?? '', displayName: u.displayName ?? '', mail: u.mail ?? '', userPrincipalName: u.userPrincipalName ?? '' })) };
    }
    return { value: [] };
  });

  // --- projects ------------------------------------------------------------------------------
  app.post<{ Body: { name: string; authMode?: 'delegated' | 'application'; destination: DestinationInput; options?: ProjectOptions } }>('/api/v1/projects', {
    schema: { ...tags('projects'), ...sec, body: S.projectInput, response: { 201: S.project, ...S.errorResponses } },
  }, async (req, reply) => {
    const id = who(req);
    const body = req.body;
    checkDestination(body.destination);
    // Default: users export with their own delegated permissions; admins (and app callers) with the app's.
    const authMode = body.authMode ?? (id.kind === 'app' || isAdmin(id, config.auth) ? 'application' : 'delegated');
    if (authMode === 'application') requireAdmin(id, config.auth);
    const project = await store.createProject({ tenantId: id.tid, createdBy: id.oid, name: body.name.trim(), authMode, destination: body.destination as never, ...(body.options ? { options: body.options } : {}) });
    await keepAssertion(req, project);
    req.log.info({ projectId: project.id, authMode }, 'project created');
    return reply.code(201).send(project);
  });

  app.get('/api/v1/projects', { schema: { ...tags('projects'), ...sec, response: { 200: S.listOf(S.project), ...S.errorResponses } } }, async (req) => {
    const id = who(req);
    return { value: await store.listProjects(id.tid, admin(req) ? undefined : { createdBy: id.oid }) };
  });

  app.get<{ Params: { projectId: string } }>('/api/v1/projects/:projectId', {
    schema: { ...tags('projects'), ...sec, params: S.projectParams, response: { 200: S.project, ...S.errorResponses } },
  }, withProject(async (_req, _reply, project) => project));

  app.patch<{ Params: { projectId: string }; Body: { name?: string; authMode?: 'delegated' | 'application'; destination?: DestinationInput; options?: ProjectOptions } }>('/api/v1/projects/:projectId', {
    schema: { ...tags('projects'), ...sec, params: S.projectParams, body: S.projectPatch, response: { 200: S.project, ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => {
    const id = who(req);
    if (req.body.destination) checkDestination(req.body.destination);
    if (req.body.authMode === 'application') requireAdmin(id, config.auth);
    const updated = await store.updateProject(id.tid, project.id, { ...req.body, ...(req.body.name !== undefined ? { name: req.body.name.trim() } : {}) } as never);
    await keepAssertion(req, updated);
    return updated;
  }));

  app.delete<{ Params: { projectId: string } }>('/api/v1/projects/:projectId', {
    schema: { ...tags('projects'), ...sec, params: S.projectParams, response: { 204: { type: 'null' }, ...S.errorResponses } },
  }, withProject(async (req, reply, project) => {
    await store.deleteProject(who(req).tid, project.id);
    return reply.code(204).send();
  }));

  // --- items ---------------------------------------------------------------------------------
  app.post<{ Params: { projectId: string }; Body: { items: ItemInput[] } }>('/api/v1/projects/:projectId/items', {
    schema: { ...tags('items'), ...sec, params: S.projectParams, body: S.itemsInput, response: { 201: S.listOf(S.item), ...S.errorResponses } },
  }, withProject(async (req, reply, project) => {
    // One collector over the rows, remembering the row of each item ("both" adds two for one row).
    const collector = new ItemCollector();
    const rowOfItem: number[] = [];
    req.body.items.forEach((input, i) => {
      const before = collector.items.length;
      collector.add(input, i + 1);
      for (let k = before; k < collector.items.length; k++) rowOfItem.push(i + 1);
    });
    if (collector.errors.length) {
      const rows = [...collector.errors].sort((x, y) => x.row - y.row);
      const first = rows[0];
      const field = `items[${first.row - 1}].${first.field}`;
      throw new ApiError(400, 'InvalidRequest', `${field}: ${first.message}${rows.length > 1 ? ` (and ${rows.length - 1} more row${rows.length > 2 ? 's' : ''}: see rows)` : ''}`, { field, rows });
    }
    collector.items.forEach((it, k) => authorizeSource(req, it.source, `items[${rowOfItem[k] - 1}].source`));
    const accepted = collector.items;
    const added = await store.addItems(who(req).tid, project.id, accepted);
    return reply.code(201).send({ value: added });
  }));

  app.post<{ Params: { projectId: string }; Body: string }>('/api/v1/projects/:projectId/items/csv', {
    bodyLimit: CSV_BODY_LIMIT_BYTES,
    schema: {
      ...tags('items'), ...sec, params: S.projectParams,
      consumes: ['text/csv'],
      response: { 201: S.listOf(S.item), ...S.errorResponses },
    },
  }, withProject(async (req, reply, project) => {
    if (typeof req.body !== 'string') throw new ApiError(415, 'UnsupportedMediaType', 'send the CSV as Content-Type: text/csv');
    const parsed = await parseItemsCsv(req.body);
    if (parsed.errors.length) {
      const first = parsed.errors[0];
      throw new ApiError(400, 'InvalidRequest', `${parsed.errors.length} CSV row${parsed.errors.length === 1 ? '' : 's'} refused; first: row ${first.row} ${first.field}: ${first.message}`, { field: 'csv', rows: parsed.errors });
    }
    parsed.items.forEach((it) => authorizeSource(req, it.source, 'csv'));
    const added = await store.addItems(who(req).tid, project.id, parsed.items);
    return reply.code(201).send({ value: added });
  }));

  app.get<{ Params: { projectId: string } }>('/api/v1/projects/:projectId/items', {
    schema: { ...tags('items'), ...sec, params: S.projectParams, response: { 200: S.listOf(S.item), ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => ({ value: await store.listItems(who(req).tid, project.id) })));

  app.delete<{ Params: { projectId: string; itemId: string } }>('/api/v1/projects/:projectId/items/:itemId', {
    schema: { ...tags('items'), ...sec, params: S.itemParams, response: { 204: { type: 'null' }, ...S.errorResponses } },
  }, withProject(async (req, reply, project) => {
    await store.removeItem(who(req).tid, project.id, req.params.itemId);
    return reply.code(204).send();
  }));

  // --- actions -------------------------------------------------------------------------------
  const itemsResponse = { 202: S.listOf(S.item), ...S.errorResponses };
  app.post<{ Params: { projectId: string }; Body: { itemIds?: string[] } }>('/api/v1/projects/:projectId/actions/verify', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.itemIdsInput, response: itemsResponse },
  }, withProject(async (req, reply, project) => {
    await keepAssertion(req, project);
    const value = await queue.enqueue({ tenantId: who(req).tid, projectId: project.id, action: 'verify', ...(req.body?.itemIds ? { itemIds: req.body.itemIds } : {}) });
    return reply.code(202).send({ value });
  }));

  app.post<{ Params: { projectId: string }; Body: { itemIds?: string[]; pass: 'full' | 'prestage' | 'incremental'; olderThanDays?: number } }>('/api/v1/projects/:projectId/actions/export', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.exportInput, response: itemsResponse },
  }, withProject(async (req, reply, project) => {
    const b = req.body;
    if (b.pass === 'prestage' && b.olderThanDays === undefined) throw invalid('olderThanDays', 'olderThanDays is required with pass "prestage" (export only items older than this many days)');
    if (b.pass !== 'prestage' && b.olderThanDays !== undefined) throw invalid('olderThanDays', 'olderThanDays goes only with pass "prestage"');
    await keepAssertion(req, project);
    const value = await queue.enqueue({ tenantId: who(req).tid, projectId: project.id, action: b.pass, ...(b.itemIds ? { itemIds: b.itemIds } : {}), ...(b.olderThanDays !== undefined ? { olderThanDays: b.olderThanDays } : {}) });
    return reply.code(202).send({ value });
  }));

  app.post<{ Params: { projectId: string }; Body: { itemIds?: string[] } }>('/api/v1/projects/:projectId/actions/retry-errors', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.itemIdsInput, response: itemsResponse },
  }, withProject(async (req, reply, project) => {
    await keepAssertion(req, project);
    const value = await queue.enqueue({ tenantId: who(req).tid, projectId: project.id, action: 'retry-errors', ...(req.body?.itemIds ? { itemIds: req.body.itemIds } : {}) });
    return reply.code(202).send({ value });
  }));

  app.post<{ Params: { projectId: string }; Body: { itemIds?: string[] } }>('/api/v1/projects/:projectId/actions/cancel', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.itemIdsInput, response: itemsResponse },
  }, withProject(async (req, reply, project) => {
    const value = await queue.cancel(who(req).tid, project.id, req.body?.itemIds);
    return reply.code(202).send({ value });
  }));

  app.post<{ Params: { projectId: string }; Body: { confirm: string } }>('/api/v1/projects/:projectId/actions/delete-container', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.deleteContainerInput, response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' } } }, ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => {
    if (req.body.confirm !== project.destination.container) {
      throw invalid('confirm', `confirm must be the container's name, "${project.destination.container}", typed again`);
    }
    const items = await store.listItems(who(req).tid, project.id);
    if (items.some((i) => i.state === 'Running' || i.state === 'Queued' || i.state === 'Verifying')) {
      throw new ApiError(409, 'Conflict', 'an item is queued or running: cancel it before deleting the container');
    }
    const dest = openDestination(destinationInputOf(project, await store.destinationSecret(project.id)));
    await dest.deleteContainer();
    req.log.info({ projectId: project.id }, 'container deleted');
    return { deleted: true };
  }));

  app.post<{ Params: { projectId: string } }>('/api/v1/projects/:projectId/auth', {
    schema: { ...tags('actions'), ...sec, params: S.projectParams, body: S.emptyInput, response: itemsResponse },
  }, withProject(async (req, reply, project) => {
    const id = who(req);
    if (project.authMode !== 'delegated') throw new ApiError(409, 'Conflict', 'the project uses application permissions: no user token is needed');
    // The delegated chain is the creator's: only their fresh token continues it.
    if (id.kind !== 'user' || lower(id.oid) !== lower(project.createdBy)) {
      throw new ApiError(403, 'Forbidden', 'only the user who created this project can renew its sign-in (its exports run with their delegated permissions)');
    }
    await store.setUserAssertion(id.tid, project.id, id.rawToken, id.expiresOnMs);
    deps.onUserAssertion?.(project.id, id.rawToken);
    const value = await queue.resumeAuth(id.tid, project.id);
    return reply.code(202).send({ value });
  }));

  // --- progress and results ------------------------------------------------------------------
  app.get<{ Params: { projectId: string } }>('/api/v1/projects/:projectId/progress', {
    schema: { ...tags('progress'), ...sec, params: S.projectParams, response: { 200: S.listOf(S.itemProgress), ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => ({ value: await queue.progress(who(req).tid, project.id) })));

  app.get<{ Params: { projectId: string } }>('/api/v1/projects/:projectId/events', {
    schema: { ...tags('progress'), ...sec, params: S.projectParams, produces: ['text/event-stream'], response: S.errorResponses },
  }, withProject(async (req, reply, project) => {
    const tid = who(req).tid;
    const raw = reply.raw;
    const send = (text: string): void => { if (!raw.destroyed && !raw.writableEnded) raw.write(text); };
    const event = (p: unknown): void => send(`event: progress\ndata: ${JSON.stringify(p)}\n\n`);
    const sub = await queue.subscribe(tid, project.id, event);
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    send(': connected\n\n');
    for (const p of await queue.progress(tid, project.id)) event(p);
    const timer = setInterval(() => send(': keep-alive\n\n'), keepAliveMs);
    const close = (): void => {
      clearInterval(timer);
      void sub.close();
      if (!raw.writableEnded) raw.end();
    };
    streams.add(close);
    req.raw.on('close', () => { streams.delete(close); close(); });
  }));

  app.get<{ Params: { projectId: string }; Querystring: { format?: 'json' | 'csv' } }>('/api/v1/projects/:projectId/statistics', {
    schema: { ...tags('results'), ...sec, params: S.projectParams, querystring: S.statisticsQuery, produces: ['application/json', 'text/csv'], response: { 200: S.statisticsResponse, ...S.errorResponses } },
  }, withProject(async (req, reply, project) => {
    const stats = await store.statistics(who(req).tid, project.id);
    const wantsCsv = req.query.format === 'csv' || (req.query.format === undefined && /\btext\/csv\b/i.test(req.headers.accept ?? ''));
    if (wantsCsv) {
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="outport-statistics-${project.id}.csv"`)
        .serializer((x: unknown) => x as string).send(statisticsCsv(stats.value));
    }
    return stats;
  }));

  app.get<{ Params: { projectId: string; itemId: string } }>('/api/v1/projects/:projectId/items/:itemId/errors', {
    schema: { ...tags('results'), ...sec, params: S.itemParams, response: { 200: S.listOf(S.itemError), ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => ({ value: await store.listErrors(who(req).tid, project.id, req.params.itemId) })));

  app.get<{ Params: { projectId: string; itemId: string } }>('/api/v1/projects/:projectId/items/:itemId/parts', {
    schema: { ...tags('results'), ...sec, params: S.itemParams, response: { 200: S.listOf(S.part), ...S.errorResponses } },
  }, withProject(async (req, _reply, project) => {
    const id = who(req);
    const item: Item = await store.getItem(id.tid, project.id, req.params.itemId);
    const parts = await store.listParts(id.tid, project.id, item.id);
    const mayRead = isAdmin(id, config.auth) || isOwnMailbox(id, GUID.test(item.source) ? { userId: item.source } : { address: item.source });
    if (!mayRead || parts.length === 0) return { value: parts };
    const dest = openDestination(destinationInputOf(project, await store.destinationSecret(project.id)));
    const value = [];
    for (const p of parts) {
      const url = await dest.readUrl(p.name, DOWNLOAD_URL_MINUTES);
      value.push(url ? { ...p, url } : p);
    }
    return { value };
  }));

  // --- the add-in's static files -------------------------------------------------------------
  if (config.addinDir && existsSync(path.join(config.addinDir))) serveStatic(app, path.resolve(config.addinDir));

  await app.ready();
  return app;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.xml': 'application/xml', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8', '.map': 'application/json',
};

/** Serves files under `root` at `/…` (GET only, no directory listing, no path outside root). */
function serveStatic(app: FastifyInstance, root: string): void {
  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const rel = decodeURIComponent((req.params as { '*': string })['*'] || 'taskpane.html');
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      throw new ApiError(404, 'NotFound', `no file ${rel}`);
    }
    const etag = `"${createHash('sha1').update(`${file}:${statSync(file).mtimeMs}`).digest('hex').slice(0, 16)}"`;
    return reply.type(MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream').header('etag', etag).send(createReadStream(file));
  });
}
