import type { Logger } from "pino";
import { databaseUnreachableMessage, isDatabaseUnreachable } from "../core/outages.ts";
import { failureAnswer } from "../core/request-ids.ts";

/**
 * Logs a failure none of the typed errors describe, as `what` failed. A database that cannot
 * be reached is expected during an outage: a warning with its reason, not an error with a stack.
 * Says which of the two it was.
 */
export function logFailure(error: unknown, log: Logger, what: string): "database_unreachable" | "unexpected" {
  if (isDatabaseUnreachable(error)) {
    log.warn({ reason: (error as Error).message, code: (error as { code?: unknown }).code }, `${what}: the database cannot be reached`);
    return "database_unreachable";
  }
  log.error({ err: error }, what);
  return "unexpected";
}

/**
 * Logs a failure (see `logFailure`) and says what to tell the person: that the database is away,
 * or `otherwise` with the request's reference, which leads to its log lines.
 */
export function explainFailure(error: unknown, log: Logger, input: { what: string; otherwise: string }): string {
  return logFailure(error, log, input.what) === "database_unreachable" ? databaseUnreachableMessage : failureAnswer(input.otherwise);
}
