/**
 * The worker wiring (issue 4 parts 4-5): a jobs/runner.ts {@link Runner} whose `buildDeps` turns a
 * claimed job into what runExport / verifyItem need:
 *
 * - Graph: the tenant config's cloud; tokens by the project's `authMode` — `application`: client
 *   credentials (graph/tenant-client.ts); `delegated`: On-Behalf-Of the user's token for the worker
 *   API, the one stored with the project (ProjectStore.userAssertion, kept by the API when the user
 *   created the project, started an action or posted `…/auth`). When that chain expires the OBO token
 *   source throws AuthExpired and the runner moves the job to WaitingForAuth; `POST …/auth` stores a
 *   fresh token and resumes it, and {@link WorkerHandle.onUserAssertion} hands the fresh token to
 *   token sources of jobs still running.
 * - Destination: the project's stored destination and its decrypted secret, validated by
 *   storage/validate.ts and opened with storage/createDestination (the container is created and
 *   marked by `ensure()` before an export pass: runExport expects it to exist).
 * - Checkpoint: the queue's, bound to the lease (the Runner's default).
 *
 * One MailboxGate (inside {@link GraphAccess}) is shared by every job of the process.
 */
import { GraphSource } from '../graph/source';
import { TokenSourceCodes, TokenSourceError, type OnBehalfOfTokenSource } from '../graph/msal-token-sources';
import type { ClaimedJob, JobBackend } from '../jobs/contract';
import { runExport } from '../export/run';
import { Runner, type JobDeps, type RunnerLogger, type RunnerOptions } from '../jobs/runner';
import { graphVerifySource } from '../jobs/verify';
import { createDestination } from '../storage';
import type { Destination } from '../storage/destination';
import { validateDestination, type DestinationInput } from '../storage/validate';
import type { GraphAccess } from './graph-access';
import { destinationInputOf } from './server';

/** Options of {@link startWorker}. */
export interface WorkerOptions extends Partial<Omit<RunnerOptions, 'queue' | 'buildDeps'>> {
  backend: JobBackend;
  graph: GraphAccess;
  /** Opens a destination (tests wrap it); default storage createDestination after validation. */
  openDestination?: (input: DestinationInput) => Destination;
  logger?: RunnerLogger;
}

/** A started worker. */
export interface WorkerHandle {
  readonly runner: Runner;
  /** The API calls this when a user posts a fresh token for a project: running delegated jobs take it. */
  onUserAssertion(projectId: string, assertion: string): void;
  /** Stops claiming and lets running jobs finish (graceful) or releases them. */
  stop(options?: { graceful?: boolean; timeoutMs?: number }): Promise<void>;
}

/** storage/validate then createDestination. @throws Error naming the field when the stored destination no longer validates */
function defaultOpen(input: DestinationInput): Destination {
  const v = validateDestination(input);
  if (!v.ok) throw Object.assign(new Error(`${v.errors[0].field}: ${v.errors[0].message}`), { code: 'DestinationInvalid' });
  return createDestination(v.config);
}

/**
 * Builds a job's deps (exported for tests and for `outport serve`'s one-process wiring).
 * @param live registry of running delegated token sources by project, for fresh tokens
 */
export function jobDepsBuilder(options: Pick<WorkerOptions, 'backend' | 'graph' | 'openDestination'>, live: Map<string, Set<OnBehalfOfTokenSource>>) {
  const open = options.openDestination ?? defaultOpen;
  const { store } = options.backend;
  return async (claimed: ClaimedJob, signal?: AbortSignal): Promise<JobDeps> => {
    const { project } = claimed;
    const destination = open(destinationInputOf(project, await store.destinationSecret(project.id)));
    // Export passes write parts: the container is created (and marked as Outport's) when missing.
    // A verify job only probes (jobs/verify.ts reports a missing container as its finding).
    if (claimed.job.action !== 'verify') await destination.ensure(signal);
    let client;
    let close: (() => Promise<void>) | undefined;
    if (project.authMode === 'application') {
      client = options.graph.app();
    } else {
      const stored = await store.userAssertion(project.id);
      if (!stored) throw new TokenSourceError(TokenSourceCodes.AuthExpired, 'no user token is stored for this project: open the add-in to sign in again');
      const { client: c, tokenSource } = options.graph.delegated(stored.assertion, {
        // When the token service refuses the held assertion, look for a fresher one the add-in posted since.
        getUserAssertion: async () => (await store.userAssertion(project.id))?.assertion,
      });
      client = c;
      let set = live.get(project.id);
      if (!set) live.set(project.id, (set = new Set()));
      set.add(tokenSource);
      close = async () => {
        set!.delete(tokenSource);
        if (set!.size === 0 && live.get(project.id) === set) live.delete(project.id);
      };
    }
    return { source: new GraphSource(client), destination, verify: graphVerifySource(client), ...(close ? { close } : {}) };
  };
}

/** Starts a Runner on the backend's queue with the wiring above. */
export function startWorker(options: WorkerOptions): WorkerHandle {
  const live = new Map<string, Set<OnBehalfOfTokenSource>>();
  const { backend, graph, openDestination, ...runnerOptions } = options;
  // runExport passed in (not the runner's lazy `import()`, which the tsx CommonJS loader of bin/outport.js cannot resolve).
  const runner = new Runner({ runExport, ...runnerOptions, queue: backend.queue, buildDeps: jobDepsBuilder({ backend, graph, openDestination }, live) });
  runner.start();
  return {
    runner,
    onUserAssertion(projectId, assertion) {
      for (const ts of live.get(projectId) ?? []) {
        try { ts.replaceAssertion(assertion); } catch { /* not a JWT: the API validated it, so never */ }
      }
    },
    stop: (o) => runner.stop(o),
  };
}
