import { sql } from "kysely";
import { repositoryLockSpace } from "../db/repository-locks.ts";
import type { Platform, Tx } from "./platform.ts";

/**
 * Git writes to one application's repository (an edit, a promotion, an environment made or
 * deleted, a split, a deletion, an accepted push, maintenance) go one at a time across every
 * process sharing the database and GIT_ROOT, in addition to git's own ref locks.
 */

/**
 * Takes application `applicationId`'s repository lock until the transaction ends. Call it first in
 * the transaction, before any row lock, so that a writer waiting for it holds nothing another needs.
 */
export async function lockRepository(tx: Tx, applicationId: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(${repositoryLockSpace}, ${applicationId})`.execute(tx);
}

/**
 * Runs `work` (outside any transaction: a push, maintenance) holding the repository lock, where
 * the platform has repository locks (a Postgres server); the embedded database is one process's.
 */
export function withRepositoryLock<T>(platform: Platform, applicationId: number, work: () => Promise<T>): Promise<T> {
  return platform.repositoryLocks ? platform.repositoryLocks.hold(applicationId, work) : work();
}
