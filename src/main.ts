import { ConfigError, loadConfig, slackMode } from "./config.ts";
import type { Platform } from "./core/platform.ts";
import { reconcileRepositories } from "./core/reconciliation.ts";
import { openConfiguredDatabase } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { RepositoryLockPool } from "./db/repository-locks.ts";
import { waitForDatabase } from "./db/wait-for-database.ts";
import { createDnsVerifier } from "./dns/verify.ts";
import { startJobQueue } from "./jobs/queue.ts";
import { createLogger } from "./logger.ts";
import { Repositories } from "./repos/repositories.ts";
import type { Serving } from "./serving.ts";
import { listenForStop } from "./stop.ts";

async function main(): Promise<number> {
  const config = loadConfig();
  const inSlack = slackMode(config.slack) !== "shell";
  // The shell's terminal shows replies, so only warnings and errors are logged there by default.
  const logger = createLogger(config.logLevel ?? (inSlack ? "info" : "warn"));
  // The surface's modules (Bolt and its HTTP stack, or the shell) load while the database is
  // asked: start-up waits on both at once (docs/BENCHMARKS.md, Start-up).
  const loadingSurface: Promise<(serving: Serving) => Promise<void>> = inSlack
    ? import("./serve-slack.ts").then((module) => module.serveSlack)
    : import("./serve-shell.ts").then((module) => module.serveShell);
  // Awaited below; this keeps a failure to load from counting as unhandled before then.
  loadingSurface.catch(() => undefined);

  const database = await openConfiguredDatabase(config, logger);
  // On a Postgres server several processes may share GIT_ROOT: git writes to one application take its lock.
  const repositoryLocks = database.url === undefined ? undefined : new RepositoryLockPool(database.url);
  try {
    await waitForDatabase(database, { timeoutSeconds: config.databaseConnectTimeoutSeconds, logger });
    const applied = await migrateToLatest(database.db);
    logger.info({ database: database.kind, migrations: applied }, "database ready");
    const repositories = new Repositories(config.gitRoot);
    const platform: Platform = { db: database.db, repositories, dns: createDnsVerifier(config), ...(repositoryLocks ? { repositoryLocks } : {}) };
    const reconciled = await reconcileRepositories(platform, logger.child({ component: "repositories" }));
    logger.info(Object.fromEntries(Object.entries(reconciled).map(([step, names]) => [step, names.length])), "repositories reconciled with the database");
    // Background work runs on the job queue, each job in one of the processes sharing the
    // database. Both surfaces need it, and it starts while the surface's modules load.
    const startingJobs = startJobQueue({ platform, logger: logger.child({ component: "jobs" }) });
    // Awaited by the surface, or below; this keeps a failure from counting as unhandled before then.
    startingJobs.catch(() => undefined);
    try {
      const serve = await loadingSurface;
      await serve({ platform, config, logger, stop: listenForStop(logger), database, jobs: startingJobs });
    } finally {
      await startingJobs.then((jobs) => jobs.stop(), () => undefined);
    }
  } finally {
    await repositoryLocks?.close();
    await database.close();
  }
  logger.info("stopped");
  return 0;
}

// A setting edgebot cannot run with (a bad value, a token Slack refuses, a DATA_DIR in use)
// is one line and exit 2; anything else is one line and exit 1. Neither prints a stack trace.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`edgebot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
