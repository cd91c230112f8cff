import { CompiledQuery, type Kysely } from "kysely";
import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { expireInvitations } from "../core/invitations.ts";
import type { Database } from "../db/schema.ts";

/** Background work on pg-boss, a job queue kept in the same Postgres (or embedded PGlite) database. */
export interface JobQueue {
  /** Runs a job now instead of at its next scheduled time. */
  runNow(job: ScheduledJob): Promise<void>;
  /** Stops taking jobs and waits for those in progress. */
  stop(): Promise<void>;
}

/** The jobs edgebot runs on a schedule, and when (cron, UTC). */
export const scheduledJobs = {
  /** Invitations 48 hours old expire, and the messages showing them are edited. */
  "invitations-expire": "* * * * *",
} as const;

export type ScheduledJob = keyof typeof scheduledJobs;

/**
 * Starts pg-boss on edgebot's database and registers the scheduled jobs. pg-boss keeps its
 * tables in its own schema; several edgebot processes sharing a database share the work, and a
 * scheduled job runs once a slot, in one of them. It reaches the database through Kysely, so on
 * the embedded database it waits its turn on PGlite's single connection like everything else.
 */
export async function startJobQueue(options: { db: Kysely<Database>; logger: Logger; pollingIntervalSeconds?: number }): Promise<JobQueue> {
  const { db, logger } = options;
  const boss = new PgBoss({
    db: {
      executeSql: async (text: string, values?: unknown[]) => ({ rows: (await db.executeQuery(CompiledQuery.raw(text, values ?? []))).rows }),
    },
    schema: "pgboss",
  });
  boss.on("error", (error) => logger.error({ err: error }, "job queue error"));
  await boss.start();

  const handlers: Record<ScheduledJob, () => Promise<void>> = {
    "invitations-expire": async () => {
      const expired = await expireInvitations(db);
      if (expired.length > 0) logger.info({ invitations: expired.map((invitation) => invitation.id) }, "invitations expired");
    },
  };
  for (const [name, cron] of Object.entries(scheduledJobs) as Array<[ScheduledJob, string]>) {
    await boss.createQueue(name);
    await boss.schedule(name, cron, undefined, { tz: "UTC" });
    await boss.work(name, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async () => {
      await handlers[name]();
    });
  }

  return {
    async runNow(job) {
      await boss.send(job, {});
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true });
    },
  };
}
