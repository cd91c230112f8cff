import { sql } from "kysely";
import type { Logger } from "pino";
import { ConfigError, withoutCredentials } from "../config.ts";
import { isDatabaseUnreachable, lastingDatabaseRefusal } from "./errors.ts";
import type { DatabaseHandle } from "./connect.ts";

export interface WaitForDatabaseOptions {
  /** How long to keep trying (DATABASE_CONNECT_TIMEOUT_S); 0 tries once. */
  timeoutSeconds: number;
  logger: Logger;
  /** The first pause between tries; it doubles up to `maxDelayMs` (default 500 ms). */
  firstDelayMs?: number;
  /** The longest pause between tries (default 5 s). */
  maxDelayMs?: number;
}

/**
 * Waits for a Postgres server that is not reachable yet (starting with edgebot, restarting,
 * failing over), trying with backoff and logging each try, for up to `timeoutSeconds`.
 * Throws a ConfigError naming DATABASE_URL when the time is up, and at once when the server
 * refuses in a way that waiting will not change (wrong password, no such database). The
 * embedded database is always there.
 */
export async function waitForDatabase(database: DatabaseHandle, options: WaitForDatabaseOptions): Promise<void> {
  if (database.kind !== "postgres") return;
  const where = withoutCredentials(database.url ?? "");
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let delayMs = options.firstDelayMs ?? 500;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`select 1`.execute(database.db);
      if (attempt > 1) options.logger.info({ attempt }, "database reachable");
      return;
    } catch (error) {
      const refusal = lastingDatabaseRefusal(error);
      if (refusal !== undefined) throw new ConfigError(`DATABASE_URL: Postgres at ${where} refused edgebot: ${refusal} (${oneLine(error)})`);
      const reason = oneLine(error);
      const left = deadline - Date.now();
      if (left <= 0) {
        const why = isDatabaseUnreachable(error) ? "could not reach" : "could not use";
        throw new ConfigError(`DATABASE_URL: ${why} Postgres at ${where} within DATABASE_CONNECT_TIMEOUT_S=${options.timeoutSeconds} (${reason})`);
      }
      const waitMs = Math.min(delayMs, left);
      options.logger.warn({ attempt, retryInMs: waitMs, reason }, "database not reachable yet; trying again");
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 5000);
    }
  }
}

// An AggregateError (a host with several addresses) has an empty message of its own.
function oneLine(error: unknown): string {
  const { message, errors } = error as { message?: unknown; errors?: unknown };
  const text = typeof message === "string" && message !== "" ? message : Array.isArray(errors) ? errors.map(oneLine).join("; ") : String(error);
  return withoutCredentials(text).replace(/\s+/g, " ").trim();
}
