/**
 * The sandbox tenant's HTTP server (fastify on 127.0.0.1): the token service at the root, Graph under
 * `/v1.0` and `/beta`, and `/_sandbox/stats`. Every Graph request goes through, in order: token
 * validation (401), the mailbox's limits (429 MailboxConcurrency / ApplicationThrottled), latency,
 * injected faults (429, 503, 504, connection reset), then the route (403 for missing permissions,
 * 308 for auxiliary archive content). Nothing here is visible to a client as "sandbox": it is Graph
 * at another base URL.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyRequest } from 'fastify';
import { registerAuthRoutes } from './auth-routes';
import { registerBatchRoute } from './batch-route';
import { stateOf, type SandboxApp, type SandboxContext, type SandboxRequestState } from './context';
import { FaultInjector, type FaultOptions } from './faults';
import { GraphErrors, SandboxGraphError, requestIdOf, sendGraphError } from './graph-errors';
import { stableGuid } from './ids';
import { registerMailboxRoutes, SandboxRedirect } from './mailbox-routes';
import { registerRestMailRoutes } from './rest-mail-routes';
import { registerRestPimRoutes } from './rest-pim-routes';
import { buildTenant, type SeedOptions } from './seed';
import type { SandboxTenant, SandboxUser } from './tenant';
import { MailboxThrottle, type MailboxStats, type ThrottleOptions } from './throttle';
import { startTokenServiceTls, type SandboxTlsListener } from './tls';
import { DEFAULT_APP_ROLES, DEFAULT_DELEGATED_SCOPES, GRAPH_APP_ID, TokenIssuer } from './tokens';
import { registerUserRoutes } from './users-routes';

/** Options of {@link startSandbox}. Every knob has a CLI flag (`outport sandbox --help`). */
export interface SandboxOptions extends SeedOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Host to listen on; default 127.0.0.1. */
  host?: string;
  /**
   * Graph's service time per request, ms: an answer leaves no earlier than this long after its
   * request arrived — the sandbox's own work (token check, building and serialising the answer)
   * counts inside it, as Exchange's work counts inside Graph's latency. The request holds the
   * mailbox's concurrency place all that time. Default 0 (answers as fast as the sandbox can).
   */
  latencyMs?: number;
  faults?: FaultOptions;
  throttle?: ThrottleOptions;
  /** Page size without `Prefer: odata.maxpagesize` / `$top`; default 10 (Graph's for mailbox items). */
  defaultPageSize?: number;
  /** Largest page; default 1000. */
  maxPageSize?: number;
  /** Roles of the tenant's app (client credentials); default {@link DEFAULT_APP_ROLES}. */
  appRoles?: readonly string[];
  /** Delegated scopes consented for the app; default {@link DEFAULT_DELEGATED_SCOPES}. */
  delegatedScopes?: readonly string[];
  /** More app registrations (e.g. one lacking roles, for permission tests). */
  extraApps?: readonly SandboxApp[];
  /** A tenant built already (tests that start several servers on one seed). */
  tenant?: SandboxTenant;
  /**
   * Also serve the token service over HTTPS (self-signed certificate made at start, `tls.ts`): the
   * authority, and so every token's `iss`, becomes `https://<host>:<tlsPort>`, which MSAL needs.
   * Default false (the authority is the plain-HTTP URL).
   */
  https?: boolean;
  /** Port of the HTTPS token service; default 0 (any free port). */
  httpsPort?: number;
}

/** Counters of a running sandbox (also at `GET /_sandbox/stats`). */
export interface SandboxStats {
  /** Graph requests answered (inner `$batch` requests included). */
  requests: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
  /** Injected faults by kind (429, 503, 504, reset, malformed). */
  faults: Record<string, number>;
  /** Per mailbox id: requests, in flight, the maximum in flight ever, 429s. */
  mailboxes: Record<string, MailboxStats>;
}

/** A running sandbox. */
export interface SandboxHandle {
  /** Base URL (`http://127.0.0.1:port`): Graph is at `<url>/v1.0`, the token service at `<url>/<tenantId>/oauth2/v2.0/token`. */
  readonly url: string;
  readonly graphUrl: string;
  /** Token service root: `url`, or with `https: true` the HTTPS listener's `https://<host>:<port>`. */
  readonly authorityUrl: string;
  /** With `https: true`: the PEM certificate of the HTTPS token service (self-signed: trust it as a CA). */
  readonly caCertificate?: string;
  /**
   * The token endpoint a browser page signs test users in at (password grant): the plain-HTTP
   * listener's `<url>/<tenantId>/oauth2/v2.0/token`, which answers CORS and issues tokens with the
   * authority's issuer. A browser refuses the HTTPS listener's self-signed certificate; loopback
   * http is a secure context in browsers, so an https page may call it (no mixed-content block).
   */
  readonly signInTokenUrl: string;
  readonly tenantId: string;
  /** The tenant's app (client credentials / OBO). */
  readonly clientId: string;
  readonly clientSecret: string;
  readonly users: readonly SandboxUser[];
  readonly tenant: SandboxTenant;
  readonly issuer: TokenIssuer;
  /** A user's token for the worker API (`api://<clientId>`, scp access_as_user): the add-in's token, an OBO assertion. */
  userAssertion(mail: string, lifetimeSec?: number): Promise<string>;
  stats(): SandboxStats;
  /** Zeroes the counters (tests measure one phase). */
  resetStats(): void;
  stop(): Promise<void>;
}

function throttleKey(ctx: SandboxContext, req: FastifyRequest): string | undefined {
  const path = decodeURIComponent(req.url.split('?')[0]);
  const m = /^\/(?:v1\.0|beta)\/admin\/exchange\/mailboxes\/([^/]+)/i.exec(path);
  if (m) return ctx.tenant.mailbox(m[1])?.id ?? m[1].toLowerCase();
  const u = /^\/(?:v1\.0|beta)\/(?:users\/([^/]+)|me)\/(mailFolders|messages|contacts|contactFolders|events|calendarView|calendar|calendars|todo)\b/i.exec(path);
  if (!u) return undefined;
  const userId = u[1] ?? stateOf(req).principal?.userId;
  const user = userId ? ctx.tenant.user(userId) : undefined;
  return user?.primary?.id;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the sandbox tenant: builds (or takes) the tenant, issues a key pair, listens.
 * @throws CorpusMissingError when the corpus package is missing; listen errors (EADDRINUSE)
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const tenant = options.tenant ?? (await buildTenant(options));
  const app = Fastify({ routerOptions: { caseSensitive: false, maxParamLength: 500 }, bodyLimit: 64 * 1024 * 1024 });
  let tls: SandboxTlsListener | undefined;
  try {
    const seed = options.seed ?? 'outport-sandbox';
    const mainApp: SandboxApp = {
      clientId: stableGuid(seed, 'app'), clientSecret: `sbx~${stableGuid(seed, 'secret').replace(/-/g, '')}`, displayName: 'Outport (sandbox)',
      roles: options.appRoles ?? DEFAULT_APP_ROLES, delegatedScopes: options.delegatedScopes ?? DEFAULT_DELEGATED_SCOPES,
    };
    // The URL is known only after listen, and routes must be registered before it: the context's
    // URLs and issuer are filled in right after listen, before any request can arrive.
    const ctx = {
      tenant, issuer: undefined as unknown as TokenIssuer, apps: [mainApp, ...(options.extraApps ?? [])], graphUrl: '', authorityUrl: '',
      paging: { defaultPageSize: options.defaultPageSize ?? 10, maxPageSize: options.maxPageSize ?? 1000 },
      throttle: new MailboxThrottle(options.throttle), faults: new FaultInjector(options.faults),
      latencyMs: options.latencyMs ?? 0, innerSecret: randomUUID(),
    } satisfies { -readonly [K in keyof SandboxContext]: SandboxContext[K] };
    const byStatus: Record<string, number> = {};
    let requests = 0;

    app.setErrorHandler((err, req, reply) => {
      if (err instanceof SandboxRedirect) return reply.code(308).header('location', err.location).header('request-id', requestIdOf(req)).send();
      if (err instanceof SandboxGraphError) return sendGraphError(req, reply, err);
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status >= 400 && status < 500) return sendGraphError(req, reply, new SandboxGraphError(status, 'BadRequest', (err as Error).message));
      return sendGraphError(req, reply, new SandboxGraphError(500, 'InternalServerError', (err as Error).message));
    });
    app.setNotFoundHandler((req, reply) => {
      const seg = req.url.split('?')[0].split('/').filter(Boolean).pop() ?? '';
      return sendGraphError(req, reply, new SandboxGraphError(400, 'BadRequest', `Resource not found for the segment '${seg}'.`));
    });

    /** Waits until the request's latency has passed since it arrived (its own processing included). */
    const untilLatency = async (state: SandboxRequestState): Promise<void> => {
      if (ctx.latencyMs <= 0 || state.arrivedAt === undefined) return;
      const left = state.arrivedAt + ctx.latencyMs - performance.now();
      if (left >= 1) await sleep(left);
    };
    const isGraph = (req: FastifyRequest): boolean => /^\/(v1\.0|beta)\//i.test(req.url);
    app.addHook('onRequest', async (req, reply) => {
      if (!isGraph(req)) return;
      const state = stateOf(req);
      state.arrivedAt = performance.now();
      reply.header('request-id', requestIdOf(req));
      const inner = req.headers['x-sandbox-inner'] === ctx.innerSecret;
      const auth = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
      if (!auth) return sendGraphError(req, reply, GraphErrors.invalidToken('Access token is empty.'));
      try {
        state.principal = await ctx.issuer.verify(auth[1], [ctx.graphUrl, GRAPH_APP_ID]);
      } catch (err) {
        return sendGraphError(req, reply, err instanceof SandboxGraphError ? err : GraphErrors.invalidToken(String(err)));
      }
      const key = throttleKey(ctx, req);
      if (key) {
        const adm = ctx.throttle.enter(key);
        state.release = adm.release;
        if (!adm.ok) return sendGraphError(req, reply, new SandboxGraphError(429, adm.code, adm.message, { 'Retry-After': String(adm.retryAfterSeconds) }));
      }
      if (/\/\$batch$/i.test(req.url.split('?')[0])) return;
      const fault = ctx.faults.requestFault();
      const retryAfter = String(ctx.faults.options.retryAfterSeconds ?? 1);
      if (fault === '429') return sendGraphError(req, reply, new SandboxGraphError(429, 'TooManyRequests', 'Please retry again later.', { 'Retry-After': retryAfter }));
      if (fault === '503') return sendGraphError(req, reply, new SandboxGraphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', { 'Retry-After': retryAfter }));
      if (fault === '504' || (fault === 'reset' && inner)) return sendGraphError(req, reply, new SandboxGraphError(504, 'GatewayTimeout', 'The gateway did not receive a timely response.'));
      if (fault === 'reset') {
        await untilLatency(state);
        state.release?.();
        req.raw.socket?.destroy();
        return reply;
      }
    });
    app.addHook('onSend', async (req, reply, payload) => {
      const state = stateOf(req);
      await untilLatency(state);
      // How long the sandbox held the request (arrival to answer), for benchmarks that split a
      // request's time into Graph's part and the client's.
      if (state.arrivedAt !== undefined) reply.header('x-sandbox-service-ms', (performance.now() - state.arrivedAt).toFixed(2));
      // Released before the bytes go out: a client that reads the answer and sends the next request
      // can never find its own finished request still counted.
      stateOf(req).release?.();
      return payload;
    });
    app.addHook('onResponse', async (req, reply) => {
      stateOf(req).release?.();
      if (!isGraph(req)) return;
      requests++;
      byStatus[reply.statusCode] = (byStatus[reply.statusCode] ?? 0) + 1;
    });
    app.addHook('onRequestAbort', async (req) => { stateOf(req).release?.(); });

    registerAuthRoutes(app, ctx);
    for (const prefix of ['/v1.0', '/beta']) {
      await app.register(async (scoped) => {
        registerUserRoutes(scoped, ctx);
        registerMailboxRoutes(scoped, ctx);
        registerRestMailRoutes(scoped, ctx);
        registerRestPimRoutes(scoped, ctx);
        registerBatchRoute(scoped, ctx);
      }, { prefix });
    }
    const stats = (): SandboxStats => ({ requests, byStatus: { ...byStatus }, faults: { ...ctx.faults.counts }, mailboxes: ctx.throttle.stats() });
    app.get('/_sandbox/stats', async () => stats());
    app.post('/_sandbox/stats/reset', async () => { resetStats(); return stats(); });
    const resetStats = (): void => {
      requests = 0;
      for (const k of Object.keys(byStatus)) delete byStatus[k];
      for (const k of Object.keys(ctx.faults.counts)) delete ctx.faults.counts[k];
      ctx.throttle.resetStats();
    };
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
    const addr = app.server.address() as AddressInfo;
    const url = `http://${options.host ?? '127.0.0.1'}:${addr.port}`;
    ctx.graphUrl = url;
    tls = options.https ? await startTokenServiceTls(ctx, { host: options.host ?? '127.0.0.1', port: options.httpsPort }) : undefined;
    ctx.authorityUrl = tls?.url ?? url;
    ctx.issuer = await TokenIssuer.create({ tenantId: tenant.tenantId, authorityUrl: ctx.authorityUrl, graphUrl: url });
    const issuer = ctx.issuer;

    return {
      url, graphUrl: url, authorityUrl: ctx.authorityUrl, caCertificate: tls?.certificate.certPem, signInTokenUrl: `${url}/${tenant.tenantId}/oauth2/v2.0/token`, tenantId: tenant.tenantId, clientId: mainApp.clientId, clientSecret: mainApp.clientSecret,
      users: tenant.users, tenant, issuer,
      userAssertion: async (mail, lifetimeSec) => {
        const u = tenant.user(mail);
        if (!u) throw new Error(`no sandbox user ${mail}`);
        return issuer.userToken(u, mainApp.clientId, ['access_as_user'], `api://${mainApp.clientId}`, lifetimeSec);
      },
      stats, resetStats,
      stop: async () => { await Promise.all([app.close(), tls?.close()]); },
    };
  } catch (err) {
    await Promise.all([app.close(), tls?.close()]);
    throw err;
  }
}
