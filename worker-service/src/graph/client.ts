/**
 * The Graph client: @microsoft/microsoft-graph-client's middleware pipeline (Middleware / Context,
 * one concern a file under ./middleware), assembled explicitly (the SDK's default chain adds its
 * RedirectHandler only where `require` exists, and its fluent GraphRequest re-parses URLs: it
 * understands only https and re-encodes query strings, which breaks nextLinks from the http sandbox).
 *
 * Chain, top to bottom:
 *   ErrorHandler → RedirectHandler → RetryHandler → AuthHandler → MailboxGateHandler → final
 * so each redirect hop is retried on its own, each attempt gets a current token (only on the
 * Graph host), and only the HTTP exchange itself holds a place in the mailbox's gate. The final
 * handler is HttpHandler (node:http/https with keep-alive; middleware/HttpHandler.ts says why not
 * the SDK's fetch-based HTTPMessageHandler), shared by every client of the process, unless a test
 * passes its own.
 */
import { Client, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { GraphCloud, graphApiRoot } from './clouds';
import { GraphClientCodes, GraphError, safePath } from './errors';
import { MailboxGate, MailboxGateOptions } from './mailbox-gate';
import { AuthHandler } from './middleware/AuthHandler';
import { ErrorHandler } from './middleware/ErrorHandler';
import { HttpHandler } from './middleware/HttpHandler';
import { MailboxGateHandler } from './middleware/MailboxGateHandler';
import { materializeBody, responseBytes, stateOf } from './middleware/context';
import { RedirectHandler, RedirectHandlerOptions } from './middleware/RedirectHandler';
import { RetryHandler, RetryHandlerOptions } from './middleware/RetryHandler';
import type { TokenSource } from './token-source';

/** Graph API versions Outport calls: v1.0, and beta for `inPlaceArchiveMailboxId`. */
export type GraphVersion = 'v1.0' | 'beta';

/** GraphClient settings. */
export interface GraphClientOptions {
  cloud: GraphCloud;
  tokenSource: TokenSource;
  /** Default API version for relative paths; default v1.0. */
  version?: GraphVersion;
  /** A shared gate (one per worker process), or settings for a new one. */
  gate?: MailboxGate | MailboxGateOptions;
  retry?: RetryHandlerOptions;
  redirect?: RedirectHandlerOptions;
  /** Token scopes; default `[cloud.graphScope]`. */
  scopes?: readonly string[];
  /** The handler that performs HTTP; default the process's shared HttpHandler (node:http/https). Tests pass a fake. */
  finalHandler?: Middleware;
}

/** Per-call settings. */
export interface GraphCallOptions {
  /** Default GET. */
  method?: string;
  /** Extra request headers (e.g. `ConsistencyLevel: eventual`, `Prefer: odata.maxpagesize=100`). */
  headers?: Record<string, string>;
  /** A string/bytes body is sent as is; anything else as JSON (with Content-Type application/json). */
  body?: unknown;
  signal?: AbortSignal;
  /** API version for a relative path; default the client's. Ignored for absolute URLs. */
  version?: GraphVersion;
}

/** A successful (2xx) response, its body read in full. */
export interface GraphResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  /** Redirect hops followed. */
  hops: number;
  /** HTTP attempts made (retries and hops included). */
  attempts: number;
  text(): string;
  bytes(): Uint8Array;
  /** @throws GraphError InvalidResponse when the body is not JSON */
  json<T = unknown>(): T;
}

let sharedHttp: HttpHandler | undefined;
/** The process's HttpHandler (one pool of kept-alive sockets per host for all clients, as fetch's global dispatcher). */
export function defaultHttpHandler(): HttpHandler {
  return (sharedHttp ??= new HttpHandler());
}

/** A Graph client for one identity and cloud. All requests share the gate given (or created). */
export class GraphClient {
  readonly cloud: GraphCloud;
  readonly gate: MailboxGate;
  readonly version: GraphVersion;
  /** The middleware chain, top first (for `Client.initWithMiddleware` and tests). */
  readonly middleware: readonly Middleware[];

  constructor(options: GraphClientOptions) {
    this.cloud = options.cloud;
    this.version = options.version ?? 'v1.0';
    this.gate = options.gate instanceof MailboxGate ? options.gate : new MailboxGate(options.gate);
    const chain: Middleware[] = [
      new ErrorHandler(),
      new RedirectHandler(options.redirect),
      new RetryHandler(options.retry),
      new AuthHandler({
        tokenSource: options.tokenSource,
        scopes: options.scopes ?? [options.cloud.graphScope],
        tokenHosts: new Set([new URL(options.cloud.graphBaseUrl).host.toLowerCase()]),
      }),
      new MailboxGateHandler({ gate: this.gate }),
      options.finalHandler ?? defaultHttpHandler(),
    ];
    for (let i = 0; i + 1 < chain.length; i++) chain[i].setNext?.(chain[i + 1]);
    this.middleware = chain;
  }

  /** An absolute URL for a path relative to the versioned root (`/users/x` → `https://graph.microsoft.com/v1.0/users/x`);
   *  absolute http(s) URLs (nextLink, deltaLink, Location) are returned unchanged. */
  resolveUrl(pathOrUrl: string, version: GraphVersion = this.version): string {
    if (/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
    return `${graphApiRoot(this.cloud, version)}/${pathOrUrl.replace(/^\/+/, '')}`;
  }

  /**
   * Sends one request through the chain.
   * @returns the 2xx response, body read
   * @throws GraphError (Graph's code and status; Aborted; NetworkError; TooManyRedirects)
   */
  async request(pathOrUrl: string, options: GraphCallOptions = {}): Promise<GraphResponse> {
    const headers = new Headers(options.headers);
    let body: RequestInit['body'];
    if (options.body === undefined || options.body === null) body = undefined;
    else if (typeof options.body === 'string' || options.body instanceof Uint8Array) body = options.body as RequestInit['body'];
    else {
      body = JSON.stringify(options.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    const context: Context = {
      request: this.resolveUrl(pathOrUrl, options.version),
      options: { method: (options.method ?? 'GET').toUpperCase(), headers, body, signal: options.signal },
    };
    await this.middleware[0].execute(context);
    const res = context.response!;
    const url = typeof context.request === 'string' ? context.request : context.request.url;
    const bytes = await responseBytes(res);
    const state = stateOf(context);
    const method = context.options?.method ?? 'GET';
    return {
      status: res.status,
      headers: res.headers,
      url,
      hops: state.hops,
      attempts: state.attempts,
      bytes: () => bytes,
      // A Buffer view of the body, not a copy (exportItems answers run to hundreds of KB).
      text: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
      json: <T>() => {
        try { return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as T; } catch (err) {
          throw new GraphError({
            code: GraphClientCodes.InvalidResponse, statusCode: res.status, method, path: safePath(url),
            requestId: res.headers.get('request-id') ?? undefined, clientRequestId: state.clientRequestId, attempts: state.attempts, cause: err,
          });
        }
      },
    };
  }

  /** GET and parse JSON. @throws GraphError */
  async get<T = unknown>(pathOrUrl: string, options: Omit<GraphCallOptions, 'method' | 'body'> = {}): Promise<T> {
    return (await this.request(pathOrUrl, { ...options, method: 'GET' })).json<T>();
  }

  /** POST a JSON body and parse the JSON answer (undefined for an empty body). @throws GraphError */
  async post<T = unknown>(pathOrUrl: string, body: unknown, options: Omit<GraphCallOptions, 'method' | 'body'> = {}): Promise<T> {
    const res = await this.request(pathOrUrl, { ...options, method: 'POST', body });
    return (res.bytes().length === 0 ? undefined : res.json<T>()) as T;
  }

  /**
   * The SDK's fluent client over the same chain (`sdk().api('/users/x').get()`), for code that
   * prefers it. Errors arrive as Outport's GraphError. Its URL parsing handles https only: use
   * `request()` for nextLinks from a custom http base URL.
   */
  sdk(): Client {
    const base = new URL(this.cloud.graphBaseUrl);
    // The SDK reads `context.response` with res.json()/text(): give it a Response with a body stream.
    const materialize: Middleware = {
      execute: async (context: Context) => {
        await this.middleware[0].execute(context);
        if (context.response) context.response = materializeBody(context.response);
      },
    };
    return Client.initWithMiddleware({
      middleware: [materialize],
      baseUrl: this.cloud.graphBaseUrl + '/',
      defaultVersion: this.version,
      customHosts: new Set([base.host.toLowerCase()]),
    });
  }
}
