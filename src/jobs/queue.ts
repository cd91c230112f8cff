import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { CompiledQuery, sql, type Kysely } from "kysely";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { z } from "zod";
import { applicationIds } from "../core/applications.ts";
import { recheckClaim } from "../core/claims.ts";
import { checkSweepPage, liveEnvironmentPages, recheckEnvironment, recordSweepPage, type CheckedPage, type SweepPage } from "../core/dns-rechecks.ts";
import { isDeadlock, isUniqueViolation } from "../db/errors.ts";
import { AlreadyDone } from "../core/errors.ts";
import { expireInvitations } from "../core/invitations.ts";
import { expireMoves } from "../core/moves.ts";
import { onceForRequest, type ClaimRecheck, type MaintenanceQueue, type Platform, type Recheck, type RecheckQueue, type Tx } from "../core/platform.ts";
import { expireRoleRequests } from "../core/role-requests.ts";
import { OutageLog } from "../core/outages.ts";
import { newRequestId, withRequestId } from "../core/request-ids.ts";
import { withRepositoryLock } from "../core/repository-locks.ts";
import type { Database } from "../db/schema.ts";

/** Background work on pg-boss, a job queue kept in the same Postgres (or embedded PGlite) database. */
export interface JobQueue {
  /** Schedules DNS re-checks; core writes them in its own transactions. */
  rechecks: RecheckQueue;
  /** Schedules repository maintenance after changes; core writes it in its own transactions. */
  maintenance: MaintenanceQueue;
  /** Runs a scheduled job now instead of at its next scheduled time. */
  runNow(job: ScheduledJob): Promise<void>;
  /** Jobs waiting to run (due or not), by queue: what the metrics show as the queue's depth. */
  depths(): Promise<Array<{ queue: string; waiting: number }>>;
  /** Tells `listener` after each batch of jobs ends, with what it wrote committed (the shell prints the notifications it wrote). */
  onJobsDone(listener: () => void): void;
  /** Stops taking jobs and waits for those in progress. */
  stop(): Promise<void>;
}

/** The jobs edgebot runs on a schedule, and when (cron, UTC). */
export const scheduledJobs = {
  /** Invitations, role requests and application move requests 48 hours old expire, and the messages showing them are edited. */
  "invitations-expire": "* * * * *",
  /** Every live environment gets a DNS re-check, a page of them a job, so that regressions are announced. */
  "dns-daily-recheck": "17 4 * * *",
  /** Every repository gets maintenance, each its own job: those no change has scheduled it for too. */
  "repositories-weekly-maintenance": "37 3 * * 0",
} as const;

export type ScheduledJob = keyof typeof scheduledJobs;

/** The queue of single DNS re-checks: one job per environment (or hostname claim) and check, due when its backoff ends. */
export const recheckQueueName = "dns-recheck";

// What a re-check job must carry, of an environment or of a hostname claim; a job holding anything else is failed, never run.
const recheckTiming = {
  attempt: z.number().int().min(0).max(10_000),
  since: z.iso.datetime(),
  askedBy: z.number().int().positive().nullable(),
};
const recheckData = z.union([
  z.object({ environmentId: z.number().int().positive(), ...recheckTiming }),
  z.object({ claimId: z.number().int().positive(), ...recheckTiming }),
]);

/** The one re-check that may wait for an environment, or for a claim. */
function recheckKey(recheck: Recheck | ClaimRecheck): string {
  return "claimId" in recheck ? `claim:${recheck.claimId}` : `environment:${recheck.environmentId}`;
}

/** The queue of the daily sweep's pages: one job per page of live environments, each checked and written together. */
export const sweepQueueName = "dns-daily-sweep";

const sweepPageData = z.object({ afterId: z.number().int().min(0), throughId: z.number().int().positive(), since: z.iso.datetime() });

/**
 * Live environments a page of the daily sweep holds: one read, one `verifyInBulk` and one
 * transaction each. A page's DNS is asked on the verifier's thread while the page before is
 * written on the main thread; small pages keep both busy, where a long write would leave DNS
 * waiting for it (docs/BENCHMARKS.md, Daily DNS re-check sweep).
 */
const sweepPageSize = 250;
/**
 * Pages a worker takes at a time. A worker's turn lasts at least its polling interval: 64
 * pages take some 4 s at full speed, so a turn is not cut short to wait for the next.
 */
const sweepPagesPerFetch = 64;

/** The queue of repository maintenance: at most one waiting per application. */
export const maintenanceQueueName = "repository-maintenance";

const maintenanceData = z.object({ applicationId: z.number().int().positive() });

/** How long after a change its repository is maintained; the changes in between share that run. */
export const maintenanceDelaySeconds = 600;

/** Re-check jobs a worker takes at a time, run together: each job's hostnames are checked up to `DNS_CONCURRENCY` at once. */
const recheckBatchSize = 50;
/** Jobs queued per statement by the daily re-check and the weekly maintenance. */
const idsPerStatement = 1000;

/**
 * Starts pg-boss on edgebot's database and registers the scheduled jobs and the DNS re-checks.
 * pg-boss keeps its tables in its own schema. Several edgebot processes sharing a database
 * share the work: each job is taken by one of them, and a scheduled job runs once a slot. It
 * reaches the database through Kysely, so on the embedded database it waits its turn on
 * PGlite's single connection like everything else.
 */
export async function startJobQueue(options: {
  /** Its `dns` answers the re-checks. */
  platform: Platform;
  logger: Logger;
  pollingIntervalSeconds?: number;
  /** `maintenanceDelaySeconds` unless given (tests wait less). */
  maintenanceDelaySeconds?: number;
}): Promise<JobQueue> {
  const { logger } = options;
  const jobsDone = new EventEmitter();
  const pollingIntervalSeconds = options.pollingIntervalSeconds ?? 2;
  readSchedulesInUtc();
  // pg-boss keeps polling while the database is away and reports each failed poll as an error;
  // the outage is logged once instead, and its end when a statement gets through again.
  const outage = new OutageLog(logger, "the job queue");
  const boss = await startBoss(() => {
    const created = new PgBoss({ db: sqlThroughPool(options.platform.db, outage), schema: "pgboss" });
    created.on("error", (error) => {
      if (!outage.failed(error)) logger.error({ err: error }, "job queue error");
    });
    return created;
  });

  const rechecks: RecheckQueue = {
    async schedule(tx, recheck, afterSeconds) {
      // In the caller's transaction; an environment (a claim) with a re-check already waiting keeps that one.
      // Someone waits for these to go live: they come before the daily checks' backlog.
      const singletonKey = recheckKey(recheck);
      await boss.send(recheckQueueName, recheck, { startAfter: afterSeconds, singletonKey, priority: 1, db: sqlThrough(tx) });
      // When the waiting one is due, so that messages can say when the next check is.
      const { rows } = await sql<{ start_after: Date }>`select start_after from pgboss.job
        where name = ${recheckQueueName} and singleton_key = ${singletonKey} and state in ('created', 'retry') order by start_after limit 1`.execute(tx);
      return rows[0]?.start_after ?? new Date(Date.now() + afterSeconds * 1000);
    },
  };
  const maintenanceDelay = options.maintenanceDelaySeconds ?? maintenanceDelaySeconds;
  const maintenance: MaintenanceQueue = {
    async schedule(tx, applicationId) {
      // A repository with maintenance already waiting keeps that one: it will see this change too.
      await boss.send(maintenanceQueueName, { applicationId }, { startAfter: maintenanceDelay, singletonKey: `application:${applicationId}`, db: sqlThrough(tx) });
    },
  };
  const platform: Platform = { ...options.platform, rechecks, maintenance };

  // What an earlier start made is read in one go, and only what is missing or different is
  // written: each write is a round trip of start-up (docs/BENCHMARKS.md, Start-up).
  const [queues, schedules] = await Promise.all([boss.getQueues(), boss.getSchedules()]);
  const made = new Set(queues.map((queue) => queue.name));
  // One at a time: pg-boss makes a new queue's tables under locks that deadlock when made together.
  const ensureQueue = async (name: string, options?: PgBoss.Queue) => {
    if (!made.has(name)) await createQueue(boss, name, options);
  };
  // "stately": at most one re-check of an environment (of a claim) waits, and at most one runs.
  await ensureQueue(recheckQueueName, { name: recheckQueueName, policy: "stately" });
  // "stately": a page queued again while it waits (the scheduled job run twice) is not queued twice.
  await ensureQueue(sweepQueueName, { name: sweepQueueName, policy: "stately" });
  await ensureQueue(maintenanceQueueName, { name: maintenanceQueueName, policy: "stately" });
  for (const [name, cron] of Object.entries(scheduledJobs)) {
    await ensureQueue(name);
    const scheduled = schedules.find((schedule) => schedule.name === name);
    if (scheduled?.cron !== cron || scheduled.options?.tz !== "UTC") await boss.schedule(name, cron, undefined, { tz: "UTC" });
  }
  await boss.work<unknown>(recheckQueueName, { batchSize: recheckBatchSize, pollingIntervalSeconds }, async (jobs) => {
    const failed: string[] = [];
    await Promise.all(
      // Each job is a request of its own: its log lines name it (core/request-ids.ts).
      jobs.map((job) => withRequestId(newRequestId(), async () => {
        const parsed = recheckData.safeParse(job.data);
        if (!parsed.success) {
          logger.error({ job: job.id, data: job.data }, "DNS re-check job with a malformed payload; failed, not run");
          failed.push(job.id);
          return;
        }
        const subject = "claimId" in parsed.data ? { claim: parsed.data.claimId } : { environment: parsed.data.environmentId };
        try {
          // Keyed by the job: a job run again after its result was committed changes nothing.
          const once = onceForRequest(platform, `job:${job.id}`);
          const outcome = "claimId" in parsed.data ? await recheckClaim(once, parsed.data) : await recheckEnvironment(once, parsed.data);
          logger.info({ job: job.id, ...subject, attempt: parsed.data.attempt, outcome }, "DNS re-checked");
        } catch (error) {
          if (error instanceof AlreadyDone) return;
          if (!outage.failed(error)) logger.error({ err: error, job: job.id, ...subject }, "DNS re-check failed; pg-boss retries it");
          failed.push(job.id);
        }
      })),
    );
    // The batch's other jobs complete when this returns; failing these first keeps them out of that.
    if (failed.length > 0) await boss.fail(recheckQueueName, failed);
    jobsDone.emit("done");
  });

  const sweepWorker = await boss.work<unknown>(sweepQueueName, { batchSize: sweepPagesPerFetch, pollingIntervalSeconds }, async (jobs) => {
    const failed: string[] = [];
    const pages: Array<{ job: PgBoss.Job<unknown>; page: SweepPage; requestId: string }> = [];
    for (const job of jobs) {
      const parsed = sweepPageData.safeParse(job.data);
      if (parsed.success) pages.push({ job, page: parsed.data, requestId: newRequestId() });
      else {
        logger.error({ job: job.id, data: job.data }, "DNS sweep job with a malformed payload; failed, not run");
        failed.push(job.id);
      }
    }
    // One page's DNS is asked while the page before is written: one verifyInBulk at a time, so DNS_CONCURRENCY holds.
    const check = (index: number): Promise<{ checked: CheckedPage; checkMs: number } | { error: unknown }> | undefined => {
      const next = pages[index];
      const started = performance.now();
      return next && withRequestId(next.requestId, () => checkSweepPage(platform, next.page)).then((checked) => ({ checked, checkMs: Math.round(performance.now() - started) }), (error: unknown) => ({ error }));
    };
    let checking = check(0);
    for (const [index, { job, page, requestId }] of pages.entries()) {
      const found = await checking!;
      checking = check(index + 1);
      await withRequestId(requestId, async () => {
        try {
          if ("error" in found) throw found.error;
          // Keyed by the job: a page run again after its result was committed changes nothing.
          const started = performance.now();
          const outcome = await recordSweepPage(onceForRequest(platform, `job:${job.id}`), found.checked);
          const ms = { check: found.checkMs, record: Math.round(performance.now() - started) };
          logger.info({ job: job.id, afterId: page.afterId, throughId: page.throughId, outcome, ms }, "DNS sweep page re-checked");
        } catch (error) {
          if (error instanceof AlreadyDone) return;
          if (!outage.failed(error)) logger.error({ err: error, job: job.id, afterId: page.afterId, throughId: page.throughId }, "DNS sweep page failed; pg-boss retries it");
          failed.push(job.id);
        }
      });
    }
    if (failed.length > 0) await boss.fail(sweepQueueName, failed);
    jobsDone.emit("done");
  });

  await boss.work<unknown>(maintenanceQueueName, { pollingIntervalSeconds }, ([job]) => withRequestId(newRequestId(), async () => {
    if (!job) return;
    const parsed = maintenanceData.safeParse(job.data);
    if (!parsed.success) {
      logger.error({ job: job.id, data: job.data }, "repository maintenance job with a malformed payload; failed, not run");
      await boss.fail(maintenanceQueueName, job.id);
      return;
    }
    const { applicationId } = parsed.data;
    // Deleted since the change: nothing to maintain.
    if (!(await platform.repositories.exists(applicationId))) return;
    const started = performance.now();
    // Not while a push or an edit writes to it, in any process.
    await withRepositoryLock(platform, applicationId, () => platform.repositories.maintain(applicationId));
    logger.info({ job: job.id, application: applicationId, ms: Math.round(performance.now() - started) }, "repository maintained");
  }));

  /** Queues one job per id, a page of ids per statement; returns how many. */
  const queueEach = async (page: (range: { afterId: number; limit: number }) => Promise<number[]>, job: (id: number) => PgBoss.JobInsert): Promise<number> => {
    let queued = 0;
    for (let afterId = 0; ; ) {
      const ids = await page({ afterId, limit: idsPerStatement });
      if (ids.length === 0) return queued;
      await boss.insert(ids.map(job));
      queued += ids.length;
      afterId = ids.at(-1)!;
    }
  };

  const handlers: Record<ScheduledJob, () => Promise<void>> = {
    "invitations-expire": async () => {
      const expired = await expireInvitations(platform.db);
      if (expired.length > 0) logger.info({ invitations: expired.map((invitation) => invitation.id) }, "invitations expired");
      const requests = await expireRoleRequests(platform.db);
      if (requests.length > 0) logger.info({ roleRequests: requests.map((request) => request.id) }, "role requests expired");
      const moves = await expireMoves(platform.db);
      if (moves.length > 0) logger.info({ moves: moves.map((move) => move.id) }, "application move requests expired");
    },
    "dns-daily-recheck": async () => {
      const since = new Date().toISOString();
      const pages = await liveEnvironmentPages(platform, sweepPageSize);
      for (let from = 0; from < pages.length; from += idsPerStatement) {
        await boss.insert(pages.slice(from, from + idsPerStatement).map((page) => ({ name: sweepQueueName, data: { ...page, since } satisfies SweepPage, singletonKey: `live-environments:${page.afterId}-${page.throughId}` })));
        // This process starts on them now; others find them when they next poll.
        if (from === 0) boss.notifyWorker(sweepWorker);
      }
      logger.info({ pages: pages.length, pageSize: sweepPageSize }, "daily DNS re-check of live environments queued");
    },
    "repositories-weekly-maintenance": async () => {
      const queued = await queueEach(
        (page) => applicationIds(platform, page),
        (applicationId) => ({ name: maintenanceQueueName, data: { applicationId }, singletonKey: `application:${applicationId}` }),
      );
      logger.info({ repositories: queued }, "weekly repository maintenance queued");
    },
  };
  for (const name of Object.keys(scheduledJobs) as ScheduledJob[]) {
    await boss.work(name, { pollingIntervalSeconds }, () => withRequestId(newRequestId(), async () => {
      await handlers[name]();
      jobsDone.emit("done");
    }));
  }

  logger.info({ queues: [recheckQueueName, sweepQueueName, maintenanceQueueName, ...Object.keys(scheduledJobs)] }, "job queue started");
  return {
    rechecks,
    maintenance,
    async runNow(job) {
      await boss.send(job, {});
    },
    async depths() {
      const { rows } = await sql<{ name: string; waiting: string }>`select name, count(*) as waiting from pgboss.job where state in ('created', 'retry') group by name order by name`.execute(options.platform.db);
      return rows.map((row) => ({ queue: row.name, waiting: Number(row.waiting) }));
    },
    onJobsDone(listener) {
      jobsDone.on("done", listener);
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true });
    },
  };
}

/**
 * pg-boss reads its cron schedules with cron-parser, which works in luxon's default zone and
 * locale. Left to themselves, those are the machine's, and asking ICU for them is most of the
 * first schedule's reading: about 7 MB resident and tens of milliseconds of start-up
 * (docs/BENCHMARKS.md, Start-up). Every schedule here is in UTC, and nothing else uses luxon.
 */
function readSchedulesInUtc(): void {
  // cron-parser requires luxon's CommonJS build; an import would load its ES build, a second
  // copy whose settings cron-parser never reads.
  const { Settings } = createRequire(import.meta.url)("luxon") as typeof import("luxon");
  Settings.defaultZone = "utc";
  Settings.defaultLocale = "en-US";
}

/**
 * Starts pg-boss, which makes its schema on a new database. Processes starting together there
 * race to make it, and the losers' statements fail (a schema or table already there, a
 * deadlock): each tries again, with a new instance since a failed start leaves pg-boss marked as
 * starting, and finds the schema made.
 */
async function startBoss(create: () => PgBoss): Promise<PgBoss> {
  for (let attempt = 1; ; attempt += 1) {
    const boss = create();
    try {
      await boss.start();
      return boss;
    } catch (error) {
      if (!isCreationRace(error) || attempt >= 5) throw error;
      await boss.stop({ graceful: false, wait: false }).catch(() => undefined);
    }
  }
}

/** A failure of making what another process made at the same moment: a duplicate (schema, table, type, key) or a deadlock. */
function isCreationRace(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return isDeadlock(error) || isUniqueViolation(error) || code === "42P06" || code === "42P07" || code === "42710";
}

/**
 * Creates a queue unless it exists. pg-boss gives each queue its own partition of the job
 * table, and processes starting together on a new database can deadlock attaching theirs;
 * the one Postgres stops tries again and finds the queue made.
 */
async function createQueue(boss: PgBoss, name: string, options?: PgBoss.Queue): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await boss.createQueue(name, options);
      return;
    } catch (error) {
      if (!isDeadlock(error) || attempt >= 5) throw error;
    }
  }
}

/** How pg-boss runs its SQL. */
interface SqlRunner {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * pg-boss's own way into the database, through Kysely's pool. Some of its SQL is several
 * statements in one text with its own BEGIN and COMMIT (its locked maintenance commands); when
 * one of them fails (a deadlock, a lock timeout), the rest, COMMIT included, is skipped, and the
 * connection would go back to the pool inside an aborted transaction, failing everything sent on
 * it ("current transaction is aborted") until Postgres drops the session. So each text runs on
 * one connection, which a failure rolls back before it is released. `outage`, when given, hears
 * of every statement that gets through, so the end of a database outage is logged.
 */
export function sqlThroughPool(db: Kysely<Database>, outage?: OutageLog): SqlRunner {
  return {
    executeSql: (text, values) =>
      db.connection().execute(async (connection) => {
        try {
          const { rows } = await connection.executeQuery(CompiledQuery.raw(text, values ?? []));
          outage?.succeeded();
          return { rows };
        } catch (error) {
          // Outside a transaction this is only a warning.
          await connection.executeQuery(CompiledQuery.raw("ROLLBACK")).catch(() => undefined);
          throw error;
        }
      }),
  };
}

/** pg-boss's way into the caller's transaction: what it sends commits or rolls back with the rest. */
function sqlThrough(tx: Tx): SqlRunner {
  return { executeSql: async (text, values) => ({ rows: (await tx.executeQuery(CompiledQuery.raw(text, values ?? []))).rows }) };
}
