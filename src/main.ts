import { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { runShell } from "./bot/shell.ts";
import { createSlackApp, slackEventsPath } from "./bot/slack/app.ts";
import { outboxClientOptions, startOutboxWorker } from "./bot/slack/outbox.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { openConfiguredDatabase } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import type { Platform } from "./core/platform.ts";
import { createDnsVerifier, type DnsVerifier } from "./dns/verify.ts";
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
  if (config.slack.clientId || config.slack.clientSecret || config.slack.stateSecret) {
    process.stderr.write("edgebot: multi-workspace Slack (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET) is not built yet; unset them and run one workspace with SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN\n");
    return 2;
  }
  const inSlack = config.slack.signingSecret !== undefined && config.slack.botToken !== undefined;
  // The shell's terminal shows replies, so only warnings and errors are logged there by default.
  const logger = createLogger(config.logLevel ?? (inSlack ? "info" : "warn"));

  const database = await openConfiguredDatabase(config);
  try {
    const applied = await migrateToLatest(database.db);
    logger.info({ database: database.kind, migrations: applied }, "database ready");
    const repositories = new Repositories(config.gitRoot);
    const leftovers = await repositories.removeLeftovers();
    if (leftovers.length > 0) logger.warn({ leftovers }, "removed repositories left over from interrupted deletions");
    const platform = { db: database.db, repositories };
    const dns = createDnsVerifier(config);
    if (inSlack) {
      await serveSlack(platform, dns, config, logger);
    } else {
      await runShell({
        platform,
        dns,
        user: config.localUser,
        slashCommand: config.slashCommand,
        logger,
        input: process.stdin,
        output: process.stdout,
        interactive: process.stdin.isTTY === true,
      });
    }
  } finally {
    await database.close();
  }
  return 0;
}

/** Runs the Slack app until SIGINT or SIGTERM, then stops taking requests. */
async function serveSlack(platform: Platform, dns: DnsVerifier, config: Config, logger: Logger): Promise<void> {
  const slack = createSlackApp({ platform, dns, config, logger });
  const { port } = await slack.start();
  // Notifications go out through their own client: the outbox owns its retries and rate-limit waits.
  const outbox = startOutboxWorker({
    db: platform.db,
    client: new webApi.WebClient(config.slack.botToken, { ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}), ...outboxClientOptions }),
    logger: logger.child({ component: "outbox" }),
  });
  logger.info({ mode: slack.mode, port, path: slack.mode === "http" ? slackEventsPath : undefined, health: "/healthz", slashCommand: config.slashCommand }, `edgebot listening on port ${port}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "stopping");
  await slack.stop();
  await outbox.stop();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`edgebot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
