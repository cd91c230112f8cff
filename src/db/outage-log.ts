import type { Logger } from "pino";
import { isDatabaseUnreachable } from "./errors.ts";

/**
 * Tells a background worker's log about a database outage once when it begins and once when it
 * ends, not on every try in between: a worker polling an absent database would otherwise log
 * the same failure every second until it comes back.
 */
export class OutageLog {
  private since: number | undefined;
  private failures = 0;

  constructor(
    private readonly logger: Logger,
    /** What pauses, as the log says it: "the outbox", "the job queue". */
    private readonly worker: string,
  ) {}

  /** Whether the database was unreachable at the last try. */
  get ongoing(): boolean {
    return this.since !== undefined;
  }

  /** Tries in a row that met an unreachable database (0 when it answered last). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Notes a failure; true when it was the database being unreachable (logged only if it begins an outage). */
  failed(error: unknown): boolean {
    if (!isDatabaseUnreachable(error)) return false;
    this.failures += 1;
    if (this.since === undefined) {
      this.since = Date.now();
      this.logger.warn({ reason: (error as Error).message }, `the database cannot be reached; ${this.worker} pauses until it is back`);
    }
    return true;
  }

  /** Notes that the database answered; logs the end of an outage if there was one. */
  succeeded(): void {
    this.failures = 0;
    if (this.since === undefined) return;
    this.logger.info({ pausedMs: Date.now() - this.since }, `the database is back; ${this.worker} goes on`);
    this.since = undefined;
  }
}
