/** True when Postgres refused a write because of a unique constraint (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (pgError?.code !== "23505") return false;
  if (constraint === undefined) return true;
  // PGlite does not always fill `constraint`; its message names it.
  return pgError.constraint === constraint || String(pgError.message ?? "").includes(constraint);
}

/** True when Postgres chose this transaction as a deadlock's victim (SQLSTATE 40P01); running it again may succeed. */
export function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "40P01";
}

/** What a person is told when a command meets a database that cannot be reached. */
export const databaseUnreachableMessage = "edgebot can't reach its database right now; nothing was changed, try again in a minute";

// Socket failures on the way to the server, or of a connection that was open.
const unreachableSocketCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
// The server closed the session (admin_shutdown, crash_shutdown) or is not taking any yet (cannot_connect_now).
const unreachableSqlStates = new Set(["57P01", "57P02", "57P03"]);
// What pg and pg-pool say, without a code, when a connection ends or cannot be made in time.
const unreachableMessages = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)/;

/**
 * True when an error means the database cannot be reached now (server down, restarting, or a
 * connection dropped): a failure of the way there, not of the statement, so it is worth trying
 * again later. Looks through `cause` and an AggregateError's `errors` (a host with several addresses).
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return someInChain(error, (candidate) => {
    const { code, message } = candidate as { code?: unknown; message?: unknown };
    if (typeof code === "string" && (unreachableSocketCodes.has(code) || unreachableSqlStates.has(code) || code.startsWith("08"))) return true;
    return typeof message === "string" && unreachableMessages.test(message);
  });
}

// Refusals that waiting will not change: the wrong password, a database that does not exist, a role or host not allowed.
const lastingRefusals: Record<string, string> = {
  "28P01": "the password was refused",
  "28000": "the server does not allow this user or host",
  "3D000": "the database does not exist",
};

/** Why the server refused the connection for good (its SQLSTATE says waiting will not help); undefined for anything else. */
export function lastingDatabaseRefusal(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? lastingRefusals[code] : undefined;
}

function someInChain(error: unknown, test: (candidate: object) => boolean, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  if (test(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (someInChain(cause, test, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((inner) => someInChain(inner, test, depth + 1));
}
