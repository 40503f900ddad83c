/**
 * A typed client of the worker HTTP API v1 (docs/api.md). Every call carries
 * `Authorization: Bearer <token for the worker API>`; a 401 is retried once with a freshly acquired
 * token. Failures are {@link ApiError} (the API's `{error:{code,message,field?,rows?}}`) or
 * {@link NetworkError}. The progress stream is read with fetch + eventsource-parser because
 * EventSource cannot send the Authorization header.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError, NetworkError } from './errors';
import type {
  ApiConfig, Health, Item, ItemError, ItemInput, ItemProgress, Me, Part, Pass, Project, ProjectInput, Statistics, User,
} from './types';

/** Supplies bearer tokens for the worker API scope; `forceRefresh` skips any cache (after a 401 or for WaitingForAuth). */
export type TokenSource = (options?: { forceRefresh?: boolean }) => Promise<string>;

export interface ApiClientOptions {
  /** Origin (and optional path prefix) of the worker, e.g. "https://outport.example.com"; "" = the pane's own origin. */
  baseUrl: string;
  getToken: TokenSource;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const PREFIX = '/api/v1';

/** Reads an error body into an ApiError; a body that is not the API's JSON gives code "HttpError". */
async function toApiError(res: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch { /* the body is gone: status alone */ }
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string; rows?: ApiError['rows'] } };
    if (body.error && typeof body.error.code === 'string') {
      return new ApiError(res.status, body.error.code, body.error.message ?? body.error.code, body.error.field, body.error.rows);
    }
  } catch { /* not JSON */ }
  return new ApiError(res.status, 'HttpError', `The service answered ${res.status} ${res.statusText}`.trim());
}

/** The worker API. One instance per signed-in session. */
export class ApiClient {
  private readonly baseUrl: string;
  private readonly getToken: TokenSource;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.getToken = options.getToken;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Absolute URL of an API path ("/projects/…"). */
  url(path: string): string {
    return `${this.baseUrl}${PREFIX}${path}`;
  }

  /** One request; `auth: false` for the anonymous routes. Retries once on 401 with a fresh token. */
  private async send(method: string, path: string, init: { body?: BodyInit; contentType?: string; accept?: string; auth?: boolean; signal?: AbortSignal } = {}): Promise<Response> {
    const url = this.url(path);
    const attempt = async (forceRefresh: boolean): Promise<Response> => {
      const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
      if (init.contentType) headers['content-type'] = init.contentType;
      if (init.auth !== false) headers.authorization = `Bearer ${await this.getToken({ forceRefresh })}`;
      try {
        return await this.fetchImpl(url, { method, headers, body: init.body, signal: init.signal });
      } catch (err) {
        if ((err as { name?: string })?.name === 'AbortError') throw err;
        throw new NetworkError(url, { cause: err });
      }
    };
    let res = await attempt(false);
    if (res.status === 401 && init.auth !== false) res = await attempt(true);
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    const res = await this.send(method, path, body === undefined ? { auth } : { body: JSON.stringify(body), contentType: 'application/json', auth });
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  /** `GET /config` (anonymous). */
  config(): Promise<ApiConfig> { return this.json('GET', '/config', undefined, false); }
  /** `GET /health` (anonymous). */
  health(): Promise<Health> { return this.json('GET', '/health', undefined, false); }
  /** `GET /me`: the caller, whether an admin, and their mailbox sizes. */
  me(): Promise<Me> { return this.json('GET', '/me'); }

  /** `GET /users?search=&top=` (admins): type-ahead on displayName and mail; `top` ≤ 50. */
  async searchUsers(search: string, top = 10, signal?: AbortSignal): Promise<User[]> {
    const q = new URLSearchParams({ search, top: String(Math.min(50, Math.max(1, top))) });
    const res = await this.send('GET', `/users?${q}`, { signal });
    return ((await res.json()) as { value: User[] }).value;
  }

  createProject(input: ProjectInput): Promise<Project> { return this.json('POST', '/projects', input); }
  async listProjects(): Promise<Project[]> { return (await this.json<{ value: Project[] }>('GET', '/projects')).value; }
  getProject(id: string): Promise<Project> { return this.json('GET', `/projects/${encodeURIComponent(id)}`); }
  updateProject(id: string, patch: Partial<ProjectInput>): Promise<Project> { return this.json('PATCH', `/projects/${encodeURIComponent(id)}`, patch); }
  deleteProject(id: string): Promise<void> { return this.json('DELETE', `/projects/${encodeURIComponent(id)}`); }

  /** `POST items`: all valid or nothing added (ApiError with `rows`). */
  async addItems(projectId: string, items: ItemInput[]): Promise<Item[]> {
    return (await this.json<{ value: Item[] }>('POST', `/projects/${encodeURIComponent(projectId)}/items`, { items })).value;
  }

  /** `POST items/csv`: `source,destination` lines; bad rows come back as ApiError.rows (row 1 = first line). */
  async addItemsCsv(projectId: string, csv: string): Promise<Item[]> {
    const res = await this.send('POST', `/projects/${encodeURIComponent(projectId)}/items/csv`, { body: csv, contentType: 'text/csv' });
    return ((await res.json()) as { value: Item[] }).value;
  }

  async listItems(projectId: string): Promise<Item[]> {
    return (await this.json<{ value: Item[] }>('GET', `/projects/${encodeURIComponent(projectId)}/items`)).value;
  }

  deleteItem(projectId: string, itemId: string): Promise<void> {
    return this.json('DELETE', `/projects/${encodeURIComponent(projectId)}/items/${encodeURIComponent(itemId)}`);
  }

  private async action(projectId: string, name: string, body: unknown): Promise<Item[]> {
    const res = await this.json<{ value?: Item[] } | undefined>('POST', `/projects/${encodeURIComponent(projectId)}/actions/${name}`, body);
    return res?.value ?? [];
  }

  /** Checks credentials and mailbox access per item (state Verifying, then Verified or Failed with checks). */
  verify(projectId: string, itemIds?: string[]): Promise<Item[]> { return this.action(projectId, 'verify', { itemIds }); }
  /** Queues a pass; `olderThanDays` with prestage exports items older than that many days. */
  export(projectId: string, pass: Pass, itemIds?: string[], olderThanDays?: number): Promise<Item[]> {
    return this.action(projectId, 'export', { itemIds, pass, olderThanDays });
  }
  /** Re-exports the items that failed in the last pass (409 RetryNotAllowed when there were none). */
  retryErrors(projectId: string, itemIds?: string[]): Promise<Item[]> { return this.action(projectId, 'retry-errors', { itemIds }); }
  cancel(projectId: string, itemIds?: string[]): Promise<Item[]> { return this.action(projectId, 'cancel', { itemIds }); }

  /** Deletes the container (only one Outport created: 409 ContainerNotOurs otherwise); `confirm` = its name. */
  async deleteContainer(projectId: string, confirm: string): Promise<boolean> {
    const res = await this.json<{ deleted: boolean }>('POST', `/projects/${encodeURIComponent(projectId)}/actions/delete-container`, { confirm });
    return res.deleted;
  }

  /** Hands the worker a fresh assertion (the bearer token itself): items WaitingForAuth resume. */
  async reauthorize(projectId: string): Promise<Item[]> {
    const url = `/projects/${encodeURIComponent(projectId)}/auth`;
    // Always a token acquired now, not a cached one near its end: the worker's OBO needs its whole lifetime.
    const token = await this.getToken({ forceRefresh: true });
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(url), { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
    } catch (err) {
      throw new NetworkError(this.url(url), { cause: err });
    }
    if (!res.ok) throw await toApiError(res);
    return ((await res.json()) as { value: Item[] }).value;
  }

  async progress(projectId: string): Promise<ItemProgress[]> {
    return (await this.json<{ value: ItemProgress[] }>('GET', `/projects/${encodeURIComponent(projectId)}/progress`)).value;
  }

  statistics(projectId: string): Promise<Statistics> { return this.json('GET', `/projects/${encodeURIComponent(projectId)}/statistics`); }

  /** The statistics as CSV text (cells the API already guarded against formula injection). */
  async statisticsCsv(projectId: string): Promise<string> {
    const res = await this.send('GET', `/projects/${encodeURIComponent(projectId)}/statistics?format=csv`, { accept: 'text/csv' });
    return res.text();
  }

  async itemErrors(projectId: string, itemId: string): Promise<ItemError[]> {
    return (await this.json<{ value: ItemError[] }>('GET', `/projects/${encodeURIComponent(projectId)}/items/${encodeURIComponent(itemId)}/errors`)).value;
  }

  /** PST parts of an item; `url` (read-only SAS, 15 min) only for admins and the mailbox's owner. */
  async parts(projectId: string, itemId: string): Promise<Part[]> {
    return (await this.json<{ value: Part[] }>('GET', `/projects/${encodeURIComponent(projectId)}/items/${encodeURIComponent(itemId)}/parts`)).value;
  }

  /**
   * Reads `GET …/events` until the server ends it or `signal` aborts, calling `onProgress` for each
   * `event: progress`. Resolves when the stream ends (the caller reconnects); rejects with ApiError
   * or NetworkError on failure. Abort resolves quietly.
   */
  async streamProgress(projectId: string, onProgress: (p: ItemProgress) => void, signal: AbortSignal): Promise<void> {
    let res: Response;
    try {
      res = await this.send('GET', `/projects/${encodeURIComponent(projectId)}/events`, { accept: 'text/event-stream', signal });
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
    if (!res.body) return;
    const parser = createParser({
      onEvent: (ev: EventSourceMessage) => {
        if ((ev.event ?? 'message') !== 'progress') return;
        try {
          onProgress(JSON.parse(ev.data) as ItemProgress);
        } catch { /* a malformed event is skipped; the next one carries the full state */ }
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (signal.aborted) return;
      throw new NetworkError(this.url(`/projects/${projectId}/events`), { cause: err });
    } finally {
      reader.releaseLock?.();
    }
  }
}
