/**
 * A project kept live: its items, and each item's progress from the event stream
 * (`GET …/events`, reconnecting after 2 s when it ends or fails), with the item list re-read when
 * an item changes state. When an item waits for authorization (WaitingForAuth: the worker's
 * On-Behalf-Of assertion ran out, FACTS.md "Authentication"), the pane POSTs `…/auth` with a
 * freshly acquired token, at most once every 30 s.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import { describeError } from '../api/errors';
import type { Item, ItemProgress, Project } from '../api/types';

/** Wait before reconnecting the event stream. */
export const RECONNECT_DELAY_MS = 2000;
/** Least time between two automatic re-authorizations. */
export const REAUTH_INTERVAL_MS = 30_000;
/** Item list re-read while something runs (a safety net under the stream). */
export const POLL_MS = 10_000;

const ACTIVE = new Set(['Verifying', 'Queued', 'Running', 'WaitingForAuth']);

export interface LiveProject {
  project?: Project;
  items: Item[];
  progress: Record<string, ItemProgress>;
  error?: string;
  /** False after the event stream failed, until it works again. */
  live: boolean;
  /** Message of the last automatic re-authorization, if any. */
  reauth?: string;
  refresh(): Promise<void>;
}

/** Loads and follows a project. */
export function useLiveProject(api: ApiClient, projectId: string): LiveProject {
  const [project, setProject] = useState<Project>();
  const [items, setItems] = useState<Item[]>([]);
  const [progress, setProgress] = useState<Record<string, ItemProgress>>({});
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(true);
  const [reauth, setReauth] = useState<string>();
  const states = useRef(new Map<string, string>());
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>();
  const lastReauth = useRef(0);

  const refresh = useCallback(async () => {
    try {
      const [p, list, prog] = await Promise.all([api.getProject(projectId), api.listItems(projectId), api.progress(projectId)]);
      setProject(p);
      setItems(list);
      states.current = new Map(list.map((i) => [i.id, i.state]));
      setProgress((old) => ({ ...old, ...Object.fromEntries(prog.map((x) => [x.itemId, x])) }));
      setError(undefined);
    } catch (err) {
      setError(describeError(err));
    }
  }, [api, projectId]);

  useEffect(() => { void refresh(); }, [refresh]);

  // The event stream.
  useEffect(() => {
    const ctl = new AbortController();
    const onEvent = (p: ItemProgress): void => {
      setProgress((old) => ({ ...old, [p.itemId]: p }));
      if (states.current.get(p.itemId) !== p.state) {
        states.current.set(p.itemId, p.state);
        clearTimeout(refreshTimer.current);
        refreshTimer.current = setTimeout(() => void refresh(), 300);
      }
    };
    void (async () => {
      while (!ctl.signal.aborted) {
        try {
          await api.streamProgress(projectId, onEvent, ctl.signal);
          setLive(true); // a stream that ended normally (server restart, proxy timeout) is simply reopened
        } catch {
          setLive(false);
        }
        if (ctl.signal.aborted) break;
        await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
      }
    })();
    return () => { ctl.abort(); clearTimeout(refreshTimer.current); };
  }, [api, projectId, refresh]);

  // Polling while something is active.
  const anyActive = items.some((i) => ACTIVE.has(progress[i.id]?.state ?? i.state));
  useEffect(() => {
    if (!anyActive) return undefined;
    const t = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(t);
  }, [anyActive, refresh]);

  // WaitingForAuth → a fresh token.
  const waiting = items.some((i) => (progress[i.id]?.state ?? i.state) === 'WaitingForAuth');
  useEffect(() => {
    if (!waiting || Date.now() - lastReauth.current < REAUTH_INTERVAL_MS) return;
    lastReauth.current = Date.now();
    api.reauthorize(projectId).then(
      (resumed) => { setReauth(`Signed in again: ${resumed.length} ${resumed.length === 1 ? 'export resumes' : 'exports resume'}.`); void refresh(); },
      (err) => setReauth(`The exports wait for you to sign in again: ${describeError(err)}`),
    );
    // `items` in the dependencies: each re-read while still waiting may retry (throttled above).
  }, [waiting, items, api, projectId, refresh]);

  return { project, items, progress, error, live, reauth, refresh };
}
