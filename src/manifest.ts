// `npm run manifest [-- --url https://bot.example.com]`: prints the Slack app manifest as YAML.
// Without --url it is the Socket Mode manifest for development (manifest.yml); with it, the
// HTTP one, whose request URLs and OAuth redirect are at that public URL. The slash command is
// SLASH_COMMAND's (default /edge).
import { parseArgs } from "node:util";
import { Document } from "yaml";
import { publicBaseUrl, slackManifest } from "./bot/slack/manifest.ts";
import { scopePurpose } from "./bot/slack/scopes.ts";
import { loadConfig } from "./config.ts";

try {
  const { values } = parseArgs({ options: { url: { type: "string" } }, strict: true });
  const publicUrl = values.url === undefined ? undefined : publicBaseUrl(values.url);
  const manifest = slackManifest({ slashCommand: loadConfig().slashCommand, ...(publicUrl ? { publicUrl } : {}) });
  const document = new Document(manifest);
  document.commentBefore = publicUrl
    ? ` Slack app manifest for edgebot over HTTP at ${publicUrl} (npm run manifest -- --url ${publicUrl}).\n Create the app from it at api.slack.com/apps ("Create New App" → "From an app manifest").`
    : ` Slack app manifest for edgebot in Socket Mode (npm run manifest; for HTTP: npm run manifest -- --url https://<your host>).\n Create the app from it at api.slack.com/apps ("Create New App" → "From an app manifest"); docs/SLACK.md walks through it.`;
  const scopes = document.getIn(["oauth_config", "scopes", "bot"], true) as { items: Array<{ value: string; comment?: string }> };
  for (const item of scopes.items) item.comment = ` ${scopePurpose(item.value)}`;
  process.stdout.write(document.toString({ lineWidth: 0 }));
} catch (error) {
  process.stderr.write(`edgebot manifest: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
