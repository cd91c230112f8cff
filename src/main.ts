import path from "node:path";
import { runShell } from "./bot/shell.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
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
  // The shell's terminal shows replies; only warnings and errors are logged there by default.
  const logger = createLogger(config.logLevel ?? "warn");
  const slackConfigured = Object.values(config.slack).some((value) => value !== undefined && value !== config.slack.apiUrl);
  if (slackConfigured) {
    process.stderr.write("edgebot: the Slack surface is not part of this build yet; unset the SLACK_* variables to use the local shell\n");
    return 2;
  }

  const database = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, "pglite") });
  try {
    const applied = await migrateToLatest(database.db);
    logger.info({ database: database.kind, migrations: applied }, "database ready");
    const repositories = new Repositories(config.gitRoot);
    const leftovers = await repositories.removeLeftovers();
    if (leftovers.length > 0) logger.warn({ leftovers }, "removed repositories left over from interrupted deletions");
    await runShell({
      platform: { db: database.db, repositories },
      user: config.localUser,
      slashCommand: config.slashCommand,
      logger,
      input: process.stdin,
      output: process.stdout,
      interactive: process.stdin.isTTY === true,
    });
  } finally {
    await database.close();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`edgebot: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
