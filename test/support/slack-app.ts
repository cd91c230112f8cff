import { createHmac, randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import { createSlackApp, slackEventsPath, type SlackApp } from "../../src/bot/slack/app.ts";
import type { Platform } from "../../src/core/platform.ts";
import { FakeSlack } from "./fake-slack.ts";
import { useWorld, type World } from "./world.ts";

export const testSigningSecret = "test-signing-secret-0123456789abcdef";
export const testBotToken = "xoxb-test-bot-token";
export const testTeam = "T0TEST";
/** Multi-workspace mode's app credentials and token key. */
export const testOAuth = {
  clientId: "1111.2222",
  clientSecret: "test-client-secret-0123456789abcdef",
  stateSecret: "test-state-secret-0123456789abcdef",
  tokenKey: Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex"),
};

/** The real Bolt App on loopback, talking to a fake Slack, over a fresh test database. */
export interface SlackTestBed {
  world: World;
  fake: FakeSlack;
  slack: SlackApp;
  /** The App's base URL, like http://127.0.0.1:54321. */
  url: string;
}

export interface SlackAppMode {
  /** Multi-workspace OAuth (SLACK_CLIENT_* and SLACK_TOKEN_KEY) instead of one workspace's bot token. */
  multiWorkspace?: boolean;
}

/** Boots the real Bolt App on 127.0.0.1, on a free port, against `fake` and `platform`. */
export async function startSlackApp(platform: Platform, fake: FakeSlack, mode: SlackAppMode = {}): Promise<{ slack: SlackApp; url: string }> {
  const oneWorkspace = { botToken: testBotToken, clientId: undefined, clientSecret: undefined, stateSecret: undefined, tokenKey: undefined };
  const slack = createSlackApp({
    platform,
    config: {
      port: 0,
      slashCommand: "/edge",
      slack: { signingSecret: testSigningSecret, appToken: undefined, apiUrl: fake.apiUrl, ...(mode.multiWorkspace ? { botToken: undefined, ...testOAuth } : oneWorkspace) },
    },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    clientRetries: 0,
  });
  const { port } = await slack.start({ port: 0, host: "127.0.0.1" });
  return { slack, url: `http://127.0.0.1:${port}` };
}

/** A test file's Slack test bed: database, fake Slack and Bolt App, stopped after the file. */
export function useSlackApp(mode: SlackAppMode = {}): SlackTestBed {
  const world = useWorld();
  const bed = { world, fake: new FakeSlack() } as SlackTestBed;
  beforeAll(async () => {
    await bed.fake.start();
    Object.assign(bed, await startSlackApp(world.platform, bed.fake, mode));
  });
  afterAll(async () => {
    await bed.slack?.stop();
    await bed.fake.stop();
  });
  return bed;
}

/** Headers Slack signs a request with: `v0:<timestamp>:<body>` under HMAC-SHA256 of the signing secret. */
export function signedHeaders(body: string, options: { timestamp?: number; secret?: string; contentType?: string; retryNum?: number } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", options.secret ?? testSigningSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return {
    "content-type": options.contentType ?? "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestamp),
    "x-slack-signature": signature,
    ...(options.retryNum !== undefined ? { "x-slack-retry-num": String(options.retryNum), "x-slack-retry-reason": "http_timeout" } : {}),
  };
}

/** Posts `body` to the App's Slack endpoint, signed as Slack signs it. */
export function signedRequest(url: string, body: string, options: Parameters<typeof signedHeaders>[1] = {}): Promise<Response> {
  return fetch(`${url}${slackEventsPath}`, { method: "POST", headers: signedHeaders(body, options), body });
}

/** A slash command as Slack posts it: form-encoded, with a response URL on the fake Slack. */
export function slashCommandBody(fake: FakeSlack, input: { text: string; userId: string; teamId?: string; responseId?: string; command?: string }): { body: string; responseId: string } {
  const responseId = input.responseId ?? randomBytes(6).toString("hex");
  const body = new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: input.teamId ?? testTeam,
    team_domain: "acme-agency",
    channel_id: "C0GENERAL",
    channel_name: "general",
    user_id: input.userId,
    user_name: input.userId.toLowerCase(),
    command: input.command ?? "/edge",
    text: input.text,
    api_app_id: "A0EDGEBOT",
    is_enterprise_install: "false",
    response_url: fake.responseUrl(responseId),
    trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
  }).toString();
  return { body, responseId };
}

/** An event as the Events API posts it: JSON, an `event_callback` from `teamId`. */
export function eventBody(input: { teamId?: string; event: Record<string, unknown> }): string {
  const teamId = input.teamId ?? testTeam;
  return JSON.stringify({
    token: "deprecated-verification-token",
    team_id: teamId,
    api_app_id: "A0EDGEBOT",
    type: "event_callback",
    event_id: `Ev${randomBytes(6).toString("hex").toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    event: { event_ts: `${Date.now() / 1000}`, ...input.event },
    authorizations: [{ team_id: teamId, user_id: "UBOT", is_bot: true, is_enterprise_install: false }],
  });
}

/** An `app_home_opened` event as the Events API posts it: JSON, for the Home tab of `userId`. */
export function appHomeOpenedBody(input: { userId: string; teamId?: string; tab?: "home" | "messages" }): string {
  return eventBody({ teamId: input.teamId, event: { type: "app_home_opened", user: input.userId, channel: "D0HOME", tab: input.tab ?? "home" } });
}
