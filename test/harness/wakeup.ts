// Waiting on a socket's state with a deadline: the socket's handlers call `notify()` when
// something changed, and a waiter re-checks its condition each time.

export class Wakeup {
  private waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  /**
   * Resolves with the first value `check` returns other than undefined, or with `onTimeout`
   * once `timeoutMs` have passed.
   */
  async until<T>(check: () => T | undefined, timeoutMs: number, onTimeout: T): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) return onTimeout;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
