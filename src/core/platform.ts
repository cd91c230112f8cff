import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { AlreadyDone } from "./errors.ts";
import type { Repositories } from "../repos/repositories.ts";
import type { ChallengeVerdict, DnsAdvice, Verdict } from "../dns/verify.ts";

/** A transaction of the platform's database. */
export type Tx = Transaction<Database>;

/** What every core operation works with: the database, the application repositories and DNS. */
export interface Platform {
  db: Kysely<Database>;
  repositories: Repositories;
  /** Where hostnames are checked against DNS (go-live, re-checks, claims, `dns check`): one for the process. */
  dns: DnsChecker;
  /**
   * Set for a request that must take effect once however often it arrives (see
   * `onceForRequest`): the change records it in its own transaction.
   */
  requestKey?: string;
  /** Where people not yet known can be looked up by email (a chat workspace); absent in the shell. */
  directory?: PeopleDirectory;
  /** Where background DNS re-checks are scheduled (the job queue); absent where nothing runs them (the shell). */
  rechecks?: RecheckQueue;
  /** Where repository maintenance is scheduled after a change adds commits (the job queue); absent in the shell. */
  maintenance?: MaintenanceQueue;
  /** Repository locks held outside a transaction (see repository-locks.ts); absent on the embedded database, which one process has. */
  repositoryLocks?: RepositoryLocks;
}

/** Holds an application's repository lock while work outside a transaction runs (db/repository-locks.ts). */
export interface RepositoryLocks {
  hold<T>(applicationId: number, work: () => Promise<T>): Promise<T>;
}

/** What checks hostnames against DNS; `DnsVerifier` (src/dns/verify.ts) is one. Hostnames are normalized. */
export interface DnsChecker {
  /** Whether one hostname points at the edge. */
  verify(hostname: string): Promise<Verdict>;
  /** Verdicts for many hostnames, in their order. */
  verifyAll(hostnames: string[]): Promise<Verdict[]>;
  /** As `verifyAll`, for a large batch (a page of the daily sweep): asked off the main thread where the checker can. */
  verifyInBulk(hostnames: string[]): Promise<Verdict[]>;
  /** Whether `_edgebot-challenge.<hostname>` holds `token` in a TXT record (a hostname claim's proof). */
  verifyChallenge(hostname: string, token: string): Promise<ChallengeVerdict>;
  /** The records a hostname needs, without asking DNS (when it could not be asked): the CNAME, and what an apex needs instead. */
  plainAdvice(hostname: string): DnsAdvice;
}

/** A background re-check of one environment's DNS, as the job queue carries it. */
export interface Recheck {
  environmentId: number;
  /** 1 for the first re-check of an environment awaiting DNS, counting up; 0 for the daily check of a live one. */
  attempt: number;
  /** When the environment began awaiting DNS (ISO 8601): its re-checks stop 48 hours later. */
  since: string;
  /** Who asked for the go-live; told directly when neither the application nor the org has a channel. */
  askedBy: number | null;
}

/**
 * A background look for a hostname claim's TXT record: the same backoff and 48 hours as an
 * environment's re-checks (see `nextRecheck`), on the same queue.
 */
export interface ClaimRecheck {
  claimId: number;
  /** 1 for the first look, counting up. */
  attempt: number;
  /** When the claim was made or asked again (ISO 8601): the looks stop 48 hours later. */
  since: string;
  /** Who asked for the claim; told directly when neither the application nor the org has a channel. */
  askedBy: number | null;
}

/**
 * Where re-checks wait their turn (the job queue). A re-check is scheduled in the transaction
 * that decides it, so it exists exactly when that decision commits. An environment (or a
 * claim) has at most one re-check waiting: scheduling another while one waits does nothing.
 */
export interface RecheckQueue {
  /** Resolves to when the re-check now waiting is due: this one, or the one that already waited. */
  schedule(tx: Tx, recheck: Recheck | ClaimRecheck, afterSeconds: number): Promise<Date | void>;
}

/**
 * Schedules housekeeping of an application's repository (packing loose objects, writing the
 * commit-graph) a while after a change, in the change's own transaction: one waits per
 * repository, however many changes come meanwhile.
 */
export interface MaintenanceQueue {
  schedule(tx: Tx, applicationId: number): Promise<void>;
}

/**
 * People edgebot has not met yet but a chat workspace knows: `introduce` registers the person
 * with that email when the workspace has one, and does nothing otherwise.
 */
export interface PeopleDirectory {
  introduce(email: string): Promise<void>;
}

/**
 * The platform for one request identified by `key`, like a submitted form: its change commits
 * together with the key, and the same key again is refused with `AlreadyDone`. A change that
 * fails records nothing, so the request can be corrected and sent again. Reads ignore the key.
 */
export function onceForRequest(platform: Platform, key: string): Platform {
  return { ...platform, requestKey: key };
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
    result = await platform.db.transaction().execute(async (tx) => {
      if (platform.requestKey !== undefined) await recordRequestKey(tx, platform.requestKey);
      return change(tx, undo);
    });
  } catch (error) {
    await undo.rollback();
    throw error;
  }
  await undo.committed();
  return result;
}

// First in the transaction: the same key in flight elsewhere makes this insert wait for that
// transaction, then fail if it committed or go on if it rolled back.
async function recordRequestKey(tx: Tx, key: string): Promise<void> {
  try {
    await tx.insertInto("request_keys").values({ key }).execute();
  } catch (error) {
    if (isUniqueViolation(error, "request_keys_pkey")) throw new AlreadyDone("this was already done: it was submitted twice");
    throw error;
  }
}
