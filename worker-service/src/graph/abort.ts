/**
 * AbortSignal helpers shared by the Graph client's middleware: sleeps and waits that end early,
 * with the signal's reason, when the caller cancels.
 */

/** The error an aborted wait rejects with: the signal's reason (a DOMException "AbortError" by default). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** @throws the signal's reason when it is already aborted */
export function throwIfAborted(signal: AbortSignal | null | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Waits `delayMs` (setTimeout, so jest fake timers drive it).
 * @throws the signal's reason when aborted before or during the wait (the timer is cleared)
 */
export function sleep(delayMs: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) { reject(abortReason(signal)); return; }
    const onAbort = (): void => { clearTimeout(timer); reject(abortReason(signal!)); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, delayMs));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
