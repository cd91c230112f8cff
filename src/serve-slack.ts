import { createSlackApp, slackEventsPath, slackInstallPath, type HttpRoute, type SlackApp } from "./bot/slack/app.ts";
import { checkSlackCredentials, type BotIdentity } from "./bot/slack/credentials.ts";
import { singleWorkspaceToken, startOutboxWorker, type BotTokenLookup } from "./bot/slack/outbox.ts";
import { ConfigError, slackMode, type Config } from "./config.ts";
import { gitPathPrefix } from "./core/clone-urls.ts";
import { outboxBacklog, outboxChannel } from "./core/notifications.ts";
import type { Platform } from "./core/platform.ts";
import type { DatabaseHandle } from "./db/connect.ts";
import { GitHttp } from "./git-http/git-http.ts";
import type { JobQueue } from "./jobs/queue.ts";
import { collectProcessMetrics, gaugeOnScrape, metricsHandler, serveMetrics } from "./metrics.ts";
import type { Serving } from "./serving.ts";

/**
 * Runs the Slack app until SIGINT or SIGTERM. The bot token (and Socket Mode's app token) is
 * checked with Slack before anything listens. A stop takes no more requests, lets the commands
 * in progress finish and answer (for up to SHUTDOWN_TIMEOUT_S), then stops the outbox, whose
 * delivery in flight ends before it returns, so no message stays claimed; main then stops the
 * job queue.
 */
export async function serveSlack({ platform, config, logger, stop, database, jobs: startingJobs }: Serving): Promise<void> {
  // Slack is asked about the token while the job queue starts, and edgebot listens only once both
  // are done: a job queue still starting after "listening" made the process exit then when the
  // database dropped its connections (test/db/terminated-connections.test.ts).
  const mode = slackMode(config.slack);
  const [queueStart, tokenCheck] = await Promise.allSettled([
    startingJobs,
    // Multi-workspace mode has no token of its own: each workspace's comes with its installation.
    mode === "oauth"
      ? Promise.resolve(undefined)
      : checkSlackCredentials(
          { botToken: config.slack.botToken!, appToken: mode === "socket" ? config.slack.appToken : undefined, apiUrl: config.slack.apiUrl },
          { logger: logger.child({ component: "slack" }), signal: stop.signal },
        ),
  ]);
  if (queueStart.status === "rejected") throw queueStart.reason;
  const jobs = queueStart.value;
  const withJobs: Platform = { ...platform, rechecks: jobs.rechecks, maintenance: jobs.maintenance };
  const git = new GitHttp({ platform: withJobs, logger: logger.child({ component: "git" }), maxPushBytes: config.gitMaxPushBytes });
  try {
    if (tokenCheck.status === "rejected") {
      // Asked to stop while Slack was asked: nothing to serve.
      if (stop.signal.aborted) return;
      throw tokenCheck.reason;
    }
    const botIdentity: BotIdentity | undefined = tokenCheck.value;
    if (botIdentity) logger.info({ team: botIdentity.teamId, botUser: botIdentity.botUserId }, "Slack accepted the bot token");
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
