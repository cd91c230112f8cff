import type { Logger } from "pino";
import { printNotifications, runShell } from "./bot/shell.ts";
import { createSlackApp, slackEventsPath, slackInstallPath, type SlackApp } from "./bot/slack/app.ts";
import { singleWorkspaceToken, startOutboxWorker, type BotTokenLookup } from "./bot/slack/outbox.ts";
import { ConfigError, loadConfig, slackMode, type Config } from "./config.ts";
import { openConfiguredDatabase } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import type { Platform } from "./core/platform.ts";
import { reconcileRepositories } from "./core/reconciliation.ts";
import { createDnsVerifier, type DnsVerifier } from "./dns/verify.ts";
import { GitHttp, serveGitHttp } from "./git/http.ts";
import { startJobQueue } from "./jobs/queue.ts";
import { createLogger } from "./logger.ts";
import { Repositories } from "./repos/repositories.ts";

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`edgebot: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const inSlack = slackMode(config.slack) !== "shell";
  // The shell's terminal shows replies, so only warnings and errors are logged there by default.
  const logger = createLogger(config.logLevel ?? (inSlack ? "info" : "warn"));

  const database = await openConfiguredDatabase(config);
  try {
    const applied = await migrateToLatest(database.db);
    logger.info({ database: database.kind, migrations: applied }, "database ready");
    const repositories = new Repositories(config.gitRoot);
    const platform = { db: database.db, repositories };
    const reconciled = await reconcileRepositories(platform, logger.child({ component: "repositories" }));
    logger.info(Object.fromEntries(Object.entries(reconciled).map(([step, names]) => [step, names.length])), "repositories reconciled with the database");
    const dns = createDnsVerifier(config);
    if (inSlack) {
      await serveSlack(platform, dns, config, logger);
    } else {
      await shell(platform, dns, config, logger);
    }
  } finally {
    await database.close();
  }
  return 0;
}

/**
 * The local shell, with git over HTTP on 127.0.0.1 so a newcomer can clone and push locally; a
 * push's announcement is printed as soon as it is recorded. A port already taken leaves the shell without git.
 */
async function shell(platform: Platform, dns: DnsVerifier, config: Config, logger: Logger): Promise<void> {
  const git = new GitHttp({ platform, logger: logger.child({ component: "git" }), onPushed: () => void printNotifications(platform.db, process.stdout) });
  const host = "127.0.0.1";
  const served = await serveGitHttp(git, { port: config.gitHttpPort, host }).catch((error: unknown) => {
    logger.warn({ err: error, port: config.gitHttpPort }, "git over HTTP is off: its port is not free (set GIT_HTTP_PORT)");
    return undefined;
  });
  try {
    await runShell({
      platform,
      dns,
      user: config.localUser,
      slashCommand: config.slashCommand,
      logger,
      input: process.stdin,
      output: process.stdout,
      interactive: process.stdin.isTTY === true,
      ...(served ? { gitBaseUrl: `http://${host}:${served.port}` } : {}),
    });
  } finally {
    await served?.close();
    await git.close();
  }
}

/** Runs the Slack app until SIGINT or SIGTERM, then stops taking requests. */
async function serveSlack(platform: Platform, dns: DnsVerifier, config: Config, logger: Logger): Promise<void> {
  // Background work (DNS re-checks, invitations expiring, repository maintenance) runs on the job
  // queue, each job in one of the processes sharing the database. Commands schedule through it.
  const jobs = await startJobQueue({ platform, dns, logger: logger.child({ component: "jobs" }) });
  const withJobs: Platform = { ...platform, rechecks: jobs.rechecks, maintenance: jobs.maintenance };
  const git = new GitHttp({ platform: withJobs, logger: logger.child({ component: "git" }) });
  const slack = createSlackApp({ platform: withJobs, dns, config, logger, git });
  const { port } = await slack.start();
  // Notifications go out through their own clients: the outbox owns its retries and rate-limit waits.
  const outbox = startOutboxWorker({
    db: platform.db,
    botTokenFor: outboxTokens(slack, config),
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    logger: logger.child({ component: "outbox" }),
  });
  logger.info(
    { mode: slack.mode, port, path: slack.mode === "socket" ? undefined : slackEventsPath, install: slack.installations ? slackInstallPath : undefined, health: "/healthz", git: slack.mode === "socket" ? undefined : "/git/<org>/<app>.git", slashCommand: config.slashCommand },
    `edgebot listening on port ${port}`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "stopping");
  await slack.stop();
  await git.close();
  await jobs.stop();
  await outbox.stop();
}

/** One workspace posts with its bot token; many post with each channel's workspace's installation. */
function outboxTokens(slack: SlackApp, config: Config): BotTokenLookup {
  const { installations } = slack;
  if (installations) return (teamId) => installations.botTokenFor(teamId);
  return singleWorkspaceToken(config.slack.botToken!);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`edgebot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
