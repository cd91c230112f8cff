/**
 * Waiting for a fake server to receive something: the fake calls `arrived()` whenever it
 * receives anything, and `waitFor` checks its condition then (and every 200 ms at the latest).
 */
export class Arrivals {
  private waiters: Array<() => void> = [];

  constructor(
    /** What the fake is, for the timeout's message. */
    private readonly fake: string,
  ) {}

  arrived(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async waitFor<T>(condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = condition();
      if (value) return value;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${this.fake} to receive what was expected`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
