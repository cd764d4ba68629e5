// Long-polling workers wait here until a job they can serve is announced. A waiter is registered
// *before* its claim attempt, so an announcement that lands between a miss and the wait is not lost.
// Announcing n jobs wakes at most n matching waiters (oldest first), so 16 idle workers do not all
// stampede for one job; a woken waiter that loses the race simply waits again.

interface Waiter {
  models: ReadonlySet<string>;
  maxPixels: number;
  wake: () => void;
}

export interface PendingWait {
  /** Resolves when woken, when the timeout passes, or when the signal aborts. */
  readonly done: Promise<void>;
  /** Stops waiting; false when it had already ended (woken, timed out or aborted). */
  cancel(): boolean;
}

export class PopWaiters {
  private readonly waiters = new Set<Waiter>();

  get size(): number {
    return this.waiters.size;
  }

  register(
    models: readonly string[],
    maxPixels: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): PendingWait {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const waiter: Waiter = { models: new Set(models), maxPixels, wake: () => finish() };
    const timer = setTimeout(() => finish(), Math.max(0, timeoutMs));
    const onAbort = () => finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      if (!this.waiters.delete(waiter)) return false;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
      return true;
    };
    this.waiters.add(waiter);
    if (signal?.aborted) finish();
    return { done, cancel: finish };
  }

  /** Wakes up to `count` waiters that serve `model` and fit `pixels`. */
  notify(model: string, count: number, pixels: number): void {
    let left = count;
    for (const w of this.waiters) {
      if (left <= 0) break;
      if (w.models.has(model) && w.maxPixels >= pixels) {
        w.wake();
        left--;
      }
    }
  }

  /** Wakes everyone, to re-check the queue (after lost notifications, expired leases, shutdown). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w.wake();
  }
}
