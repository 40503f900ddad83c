/**
 * The listeners of {@link JobQueue.onWork} in one backend process (jobs/contract.ts): both backends
 * keep them here and call {@link WorkHintListeners.notify} when a hint arrives (SQLite: after its own
 * committed change; BullMQ: on a message of its Redis work channel).
 */
export class WorkHintListeners {
  readonly #listeners = new Set<() => void>();

  /** Number of listeners. */
  get size(): number { return this.#listeners.size; }

  /** Adds a listener. @returns stops it */
  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** Calls every listener now; a listener's exception is its own and is swallowed (contract). */
  notify(): void {
    for (const l of this.#listeners) {
      try { l(); } catch { /* the listener's own failure */ }
    }
  }

  /** Drops every listener (backend closed). */
  clear(): void { this.#listeners.clear(); }
}
