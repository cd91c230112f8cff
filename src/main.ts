import { EventEmitter } from "node:events";
import path from "node:path";
import type { Logger } from "pino";
import { runShell } from "./bot/shell.ts";
import { createSlackApp, slackEventsPath, slackInstallPath, type HttpRoute, type SlackApp } from "./bot/slack/app.ts";
import { checkSlackCredentials, type BotIdentity } from "./bot/slack/credentials.ts";
import { singleWorkspaceToken, startOutboxWorker, type BotTokenLookup } from "./bot/slack/outbox.ts";
import { ConfigError, loadConfig, slackMode, type Config } from "./config.ts";
import { openConfiguredDatabase, type DatabaseHandle } from "./db/connect.ts";
import { RepositoryLockPool } from "./db/repository-locks.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { waitForDatabase } from "./db/wait-for-database.ts";
import { gitPathPrefix } from "./core/clone-urls.ts";
import type { Platform } from "./core/platform.ts";
import { reconcileRepositories } from "./core/reconciliation.ts";
import { createDnsVerifier } from "./dns/verify.ts";
import { GitHttp } from "./git-http/git-http.ts";
import { serveGitHttp } from "./git-http/standalone-server.ts";
import { startJobQueue, type JobQueue } from "./jobs/queue.ts";
import { createLogger } from "./logger.ts";
import { collectProcessMetrics, gaugeOnScrape, metricsHandler, serveMetrics } from "./metrics.ts";
import { outboxBacklog, outboxChannel } from "./core/notifications.ts";
import { Repositories } from "./repos/repositories.ts";

async function main(): Promise<number> {
  const config = loadConfig();
  const inSlack = slackMode(config.slack) !== "shell";
  // The shell's terminal shows replies, so only warnings and errors are logged there by default.
  const logger = createLogger(config.logLevel ?? (inSlack ? "info" : "warn"));

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
    const stop = listenForStop(logger);
    if (inSlack) {
      await serveSlack(platform, config, logger, stop, database);
    } else {
      await shell(platform, config, logger, stop);
    }
  } finally {
    await repositoryLocks?.close();
    await database.close();
  }
  logger.info("stopped");
  return 0;
}

/** SIGINT or SIGTERM, once asked: `signal` aborts, `asked` resolves. A second one stops the process at once. */
interface StopRequest {
  signal: AbortSignal;
  asked: Promise<NodeJS.Signals>;
}

function listenForStop(logger: Logger): StopRequest {
  const controller = new AbortController();
  const asked = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        logger.warn({ signal }, "asked again to stop: exiting without waiting");
        process.exit(1);
      }
      logger.info({ signal }, "stopping");
      controller.abort();
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  return { signal: controller.signal, asked };
}

/**
 * The local shell, with git over HTTP on 127.0.0.1 so a newcomer can clone and push locally, and
 * the job queue, so DNS re-checks, expiries and maintenance run while it is open. What a push or a
 * job announces is printed as soon as it is recorded, above the prompt. A port already taken
 * leaves the shell without git. On a terminal, its history is kept in DATA_DIR/shell-history.
 */
async function shell(platform: Platform, config: Config, logger: Logger, stop: StopRequest): Promise<void> {
  const notifications = new EventEmitter();
  const announce = () => notifications.emit("due");
  const jobs = await startJobQueue({ platform, logger: logger.child({ component: "jobs" }), onJobsDone: announce });
  const withJobs: Platform = { ...platform, rechecks: jobs.rechecks, maintenance: jobs.maintenance };
  const git = new GitHttp({
    platform: withJobs,
    logger: logger.child({ component: "git" }),
    maxPushBytes: config.gitMaxPushBytes,
    onPushed: announce,
  });
  const host = "127.0.0.1";
  const served = await serveGitHttp(git, { port: config.gitHttpPort, host }).catch((error: unknown) => {
    logger.warn({ err: error, port: config.gitHttpPort }, "git over HTTP is off: its port is not free (set GIT_HTTP_PORT)");
    return undefined;
  });
  try {
    await runShell({
      platform: withJobs,
      user: config.localUser,
      slashCommand: config.slashCommand,
      logger,
      input: process.stdin,
      output: process.stdout,
      interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
      historyFile: path.join(config.dataDir, "shell-history"),
      notifications,
      // A stop ends the input: the command being run finishes and is answered, and the shell returns.
      signal: stop.signal,
      ...(served ? { gitBaseUrl: `http://${host}:${served.port}` } : {}),
    });
  } finally {
    await served?.close();
    await git.close();
    await jobs.stop();
  }
}

/**
 * Runs the Slack app until SIGINT or SIGTERM. The bot token (and Socket Mode's app token) is
 * checked with Slack before anything listens. A stop takes no more requests, lets the commands
 * in progress finish and answer (for up to SHUTDOWN_TIMEOUT_S), then stops the job queue and
 * the outbox, whose delivery in flight ends before it returns, so no message stays claimed.
 */
async function serveSlack(platform: Platform, config: Config, logger: Logger, stop: StopRequest, database: DatabaseHandle): Promise<void> {
  // Background work (DNS re-checks, invitations expiring, repository maintenance) runs on the job
  // queue, each job in one of the processes sharing the database. Commands schedule through it.
  // It starts before edgebot listens: started beside the token check instead, a database that
  // dropped its connections while it started made the process exit after it had said it was
  // listening (test/db/terminated-connections.test.ts).
  const jobs = await startJobQueue({ platform, logger: logger.child({ component: "jobs" }) });
  const withJobs: Platform = { ...platform, rechecks: jobs.rechecks, maintenance: jobs.maintenance };
  const git = new GitHttp({ platform: withJobs, logger: logger.child({ component: "git" }), maxPushBytes: config.gitMaxPushBytes });
  try {
    const mode = slackMode(config.slack);
    let botIdentity: BotIdentity | undefined;
    if (mode !== "oauth") {
      // Multi-workspace mode has no token of its own: each workspace's comes with its installation.
      botIdentity = await checkSlackCredentials(
        { botToken: config.slack.botToken!, appToken: mode === "socket" ? config.slack.appToken : undefined, apiUrl: config.slack.apiUrl },
        { logger: logger.child({ component: "slack" }), signal: stop.signal },
      ).catch((error: unknown) => {
        if (stop.signal.aborted) return undefined;
        throw error;
      });
      if (botIdentity === undefined) return;
      logger.info({ team: botIdentity.teamId, botUser: botIdentity.botUserId }, "Slack accepted the bot token");
    }
    // Git over HTTP is served on the Slack app's HTTP server too, and the metrics, when only METRICS_TOKEN is set.
    const gitRoute: HttpRoute = { pathPrefix: gitPathPrefix, methods: ["GET", "POST"], handle: git.handle };
    if (config.metrics) watchWithMetrics(platform, database, jobs);
    const metricsRoute: HttpRoute[] = config.metrics && config.metrics.port === undefined ? [{ pathPrefix: "/metrics", exact: true, methods: ["GET"], handle: metricsHandler(config.metrics.token) }] : [];
    const slack = createSlackApp({ platform: withJobs, config, logger, httpRoutes: [gitRoute, ...metricsRoute], ...(botIdentity ? { botIdentity } : {}) });
    const { port } = await slack.start();
    const metricsServer = config.metrics?.port === undefined ? undefined : await serveMetrics({ port: config.metrics.port, host: config.metrics.host, token: config.metrics.token }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      throw code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES" ? new ConfigError(`METRICS_PORT: cannot listen on ${config.metrics?.host}:${config.metrics?.port} (${code})`) : error;
    });
    if (config.metrics) logger.info({ metrics: metricsServer ? `http://${config.metrics.host}:${metricsServer.port}/metrics` : `port ${port}, /metrics, with METRICS_TOKEN` }, "serving metrics");
    // Notifications go out through a speaker of their own: the outbox owns its retries and rate-limit waits.
    const outbox = startOutboxWorker({
      platform,
      botTokenFor: outboxTokens(slack, config),
      ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
      logger: logger.child({ component: "outbox" }),
    });
    // Woken by the transaction that writes a notification (migrations/0014), as it commits; the poll stays as the fallback.
    const unlisten = await database.listen(outboxChannel, () => outbox.wake());
    logger.info(
      { mode: slack.mode, port, path: slack.mode === "socket" ? undefined : slackEventsPath, install: slack.installations ? slackInstallPath : undefined, health: "/healthz", git: slack.mode === "socket" ? undefined : "/git/<org>/<app>.git", slashCommand: config.slashCommand },
      `edgebot listening on port ${port}`,
    );
    await stop.asked;
    const { unfinished } = await slack.stop({ drainMs: config.shutdownTimeoutS * 1000 });
    if (unfinished > 0) logger.warn({ unfinished, shutdownTimeoutS: config.shutdownTimeoutS }, "stopped waiting for requests still in progress (SHUTDOWN_TIMEOUT_S)");
    await unlisten();
    await outbox.stop();
    metricsServer?.server.close();
  } finally {
    await git.close();
    await jobs.stop();
  }
}

/**
 * Turns the metrics on: the process's own, and those read from the database when Prometheus
 * scrapes (the outbox's backlog, the job queue's depth, the connection pool's use).
 */
function watchWithMetrics(platform: Platform, database: DatabaseHandle, jobs: JobQueue): void {
  collectProcessMetrics();
  const backlog = () => outboxBacklog(platform.db);
  gaugeOnScrape({ name: "edgebot_outbox_depth", help: "Notifications waiting to be delivered to Slack" }, async () => [{ value: (await backlog()).depth }]);
  gaugeOnScrape({ name: "edgebot_outbox_oldest_age_seconds", help: "How long the oldest notification waiting to be delivered has waited" }, async () => [{ value: (await backlog()).oldestAgeSeconds }]);
  gaugeOnScrape({ name: "edgebot_job_queue_depth", help: "Jobs waiting to run, by queue", labelNames: ["queue"] }, async () =>
    (await jobs.depths()).map(({ queue, waiting }) => ({ labels: { queue }, value: waiting })),
  );
  const { poolUse } = database;
  if (poolUse) {
    gaugeOnScrape({ name: "edgebot_db_pool_connections", help: "Postgres connections of the pool, by state (in_use, idle) and the pool's maximum (max)", labelNames: ["state"] }, async () => {
      const use = poolUse();
      return [
        { labels: { state: "in_use" }, value: use.total - use.idle },
        { labels: { state: "idle" }, value: use.idle },
        { labels: { state: "max" }, value: use.max },
      ];
    });
    gaugeOnScrape({ name: "edgebot_db_pool_waiting", help: "Statements waiting for a Postgres connection of the pool" }, async () => [{ value: poolUse().waiting }]);
  }
}

/** One workspace posts with its bot token; many post with each channel's workspace's installation. */
function outboxTokens(slack: SlackApp, config: Config): BotTokenLookup {
  const { installations } = slack;
  if (installations) return (teamId) => installations.botTokenFor(teamId);
  return singleWorkspaceToken(config.slack.botToken!);
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
