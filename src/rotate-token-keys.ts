import { ConfigError, loadConfig } from "./config.ts";
import { openConfiguredDatabase } from "./db/connect.ts";
import { SlackInstallations } from "./bot/slack/installations.ts";
import { TokenCipher } from "./bot/slack/token-cipher.ts";

// `npm run rotate-token-keys`: seals every stored bot token again with the first (newest) of
// SLACK_TOKEN_KEYS, so the older keys can then be dropped. Running it again re-seals nothing.
// A token no configured key opens is named on stderr, left as it is, and the exit code is 1.
const tokens = (n: number): string => `${n} bot token${n === 1 ? "" : "s"}`;

try {
  const config = loadConfig();
  if (config.slack.tokenKeys === undefined) throw new ConfigError("SLACK_TOKEN_KEYS: is not set (rotate-token-keys seals every stored bot token with its first key)");
  const cipher = new TokenCipher(config.slack.tokenKeys);
  const database = await openConfiguredDatabase(config);
  try {
    const report = await new SlackInstallations(database.db, cipher).resealTokens();
    const already = `${report.alreadyCurrent} ${report.alreadyCurrent === 1 ? "was" : "were"} already under it`;
    process.stdout.write(`re-sealed ${tokens(report.resealed)} under key ${report.keyId}; ${already}\n`);
    for (const { reason } of report.unreadable) process.stderr.write(`edgebot: left as it is: ${reason}\n`);
    if (report.unreadable.length > 0) {
      process.stderr.write(`edgebot: ${tokens(report.unreadable.length)} not re-sealed: add the keys named above to SLACK_TOKEN_KEYS and run again, or install edgebot again in those workspaces\n`);
      process.exitCode = 1;
    }
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(`edgebot: ${(error as Error).message}\n`);
  process.exitCode = error instanceof ConfigError ? 2 : 1;
}
