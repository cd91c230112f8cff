import { pendingMigrations } from "../db/migrate.ts";
import type { Platform } from "./platform.ts";

/** The migrations this code knows that the database has not run, asked within `timeoutMs`. */
export function migrationsPending(platform: Platform, timeoutMs: number): Promise<string[]> {
  return withinMs(pendingMigrations(platform.db), timeoutMs);
}

/** `work`, or a rejection once `timeoutMs` has passed without its answer. */
async function withinMs<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
