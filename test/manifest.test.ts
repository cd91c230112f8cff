import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { botEvents } from "../src/bot/slack/manifest.ts";
import { botScopes, webApiScopes } from "../src/bot/slack/scopes.ts";
import { loadConfig } from "../src/config.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const manifestPath = path.join(projectRoot, "manifest.yml");

/** `npm run manifest -- <args>` as a person runs it: what it printed, and how it ended. */
async function printManifest(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/manifest.ts", ...args], { cwd: projectRoot, env: { PATH: process.env.PATH ?? "", ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Every file under `dir` whose name ends in .ts. */
async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith(".ts")).map((entry) => path.join(entry.parentPath, entry.name));
}

describe("the Slack app manifest", () => {
  it("manifest.yml is what npm run manifest prints: Socket Mode, for development", async () => {
    const printed = await printManifest([]);
    expect(printed.code).toBe(0);
    expect(await readFile(manifestPath, "utf8")).toBe(printed.stdout);
    const manifest = parse(printed.stdout);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.request_url).toBeUndefined();
    expect(manifest.features.slash_commands[0].url).toBeUndefined();
  });

  it("declares the slash command edgebot answers, escaped as the grammar expects", async () => {
    const manifest = parse(await readFile(manifestPath, "utf8"));
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe(loadConfig({}).slashCommand);
    expect(command.should_escape).toBe(true);
    expect(command.usage_hint.length).toBeLessThanOrEqual(1000);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(botEvents);
    expect(manifest.features.bot_user.display_name).toBe("edgebot");
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it("for HTTP, fills in the request URLs and the OAuth redirect at the public URL, with SLASH_COMMAND's command", async () => {
    const printed = await printManifest(["--url", "https://bot.example.com/"], { SLASH_COMMAND: "/deploy" });
    expect(printed.code).toBe(0);
    const manifest = parse(printed.stdout);
    const events = "https://bot.example.com/slack/events";
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: "/deploy", url: events });
    expect(manifest.settings.event_subscriptions.request_url).toBe(events);
    expect(manifest.settings.interactivity).toEqual({ is_enabled: true, request_url: events, message_menu_options_url: events });
    expect(manifest.oauth_config.redirect_urls).toEqual(["https://bot.example.com/slack/oauth_redirect"]);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.oauth_config.scopes.bot).toEqual(botScopes);
  });

  it("answers a URL Slack could not use with one line and exit 2, printing no manifest", async () => {
    for (const [url, problem] of [
      ["http://bot.example.com", "--url must use https"],
      ["bot.example.com", "--url must be a URL like https://bot.example.com"],
      ["https://bot.example.com/?a=1", "no user, password, query or fragment"],
    ] as const) {
      const printed = await printManifest(["--url", url]);
      expect(printed.code).toBe(2);
      expect(printed.stdout).toBe("");
      expect(printed.stderr).toContain(problem);
    }
  });

  it("asks for exactly the scopes of the Web API methods the code calls, and no more", async () => {
    // Every Web API method named anywhere in src/: a call the scope table does not list fails here.
    const named = new Set<string>();
    for (const file of await sourceFiles(path.join(projectRoot, "src"))) {
      for (const match of (await readFile(file, "utf8")).matchAll(/["'`]((?:apps|auth|chat|conversations|files|im|oauth|reactions|team|users|views)\.[a-zA-Z.]+)["'`]/g)) named.add(match[1]!);
    }
    // The token checks at start: auth.test needs no scope, apps.connections.open is the app-level token's.
    const tokenChecks = ["auth.test", "apps.connections.open"];
    expect([...named].filter((method) => !tokenChecks.includes(method)).sort()).toEqual(Object.keys(webApiScopes).sort());

    const manifest = parse(await readFile(manifestPath, "utf8"));
    expect(manifest.oauth_config.scopes.bot).toEqual(["commands", "chat:write", "channels:join", "users:read", "users:read.email"]);
    expect(manifest.oauth_config.scopes.bot).toEqual(botScopes);
  });
});
