import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { botScopes } from "../src/bot/slack/app.ts";
import { loadConfig } from "../src/config.ts";

const manifestPath = fileURLToPath(new URL("../manifest.yml", import.meta.url));

describe("manifest.yml", () => {
  it("declares the slash command edgebot answers, escaped as the grammar expects", async () => {
    const manifest = parse(await readFile(manifestPath, "utf8"));
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe(loadConfig({}).slashCommand);
    expect(command.should_escape).toBe(true);
    expect(command.usage_hint.length).toBeLessThanOrEqual(1000);
  });

  it("asks for the scopes edgebot uses and no more", async () => {
    const manifest = parse(await readFile(manifestPath, "utf8"));
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(["channels:join", "chat:write", "commands", "im:write", "users:read", "users:read.email"]);
  });

  it("asks for the same scopes as a multi-workspace install does", async () => {
    const manifest = parse(await readFile(manifestPath, "utf8"));
    expect([...botScopes].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });

  it("turns on Socket Mode, interactivity, the bot user and the App Home event", async () => {
    const manifest = parse(await readFile(manifestPath, "utf8"));
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(["app_home_opened", "app_uninstalled", "tokens_revoked"]);
    expect(manifest.features.bot_user.display_name).toBe("edgebot");
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });
});
