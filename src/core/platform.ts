import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import type { Repositories } from "../repos/repositories.ts";

/** A transaction of the platform's database. */
export type Tx = Transaction<Database>;

/** What every core operation works with: the database and the application repositories. */
export interface Platform {
  db: Kysely<Database>;
  repositories: Repositories;
}

/** The user on whose behalf an operation runs. */
export interface Actor {
  userId: number;
}

/** Steps outside the database that a transaction has taken, undone if it does not commit. */
export class UndoLog {
  private readonly undoSteps: Array<() => Promise<void>> = [];
  private readonly afterCommitSteps: Array<() => Promise<void>> = [];

  /** Registers how to undo a step already taken. */
  onRollback(step: () => Promise<void>): void {
    this.undoSteps.push(step);
  }

  /** Registers a step to take only once the transaction has committed. */
  afterCommit(step: () => Promise<void>): void {
    this.afterCommitSteps.push(step);
  }

  async rollback(): Promise<void> {
    for (const step of this.undoSteps.reverse()) await step().catch(() => undefined);
  }

  async committed(): Promise<void> {
    for (const step of this.afterCommitSteps) await step().catch(() => undefined);
  }
}

/**
 * Runs a change as one transaction. Git steps taken inside it register their undo, so a
 * failure anywhere, the commit included, leaves database and disk as they were.
 */
export async function inTransaction<T>(
  platform: Platform,
  change: (tx: Tx, undo: UndoLog) => Promise<T>,
): Promise<T> {
  const undo = new UndoLog();
  let result: T;
  try {
    result = await platform.db.transaction().execute((tx) => change(tx, undo));
  } catch (error) {
    await undo.rollback();
    throw error;
  }
  await undo.committed();
  return result;
}
