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
