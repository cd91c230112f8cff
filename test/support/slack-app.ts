import { createHmac, randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import type { Kysely } from "kysely";
import { createSlackApp, slackEventsPath, slackInstallPath, slackOAuthRedirectPath, type SlackApp } from "../../src/bot/slack/app.ts";
import { singleWorkspaceToken, startOutboxWorker, type OutboxWorker } from "../../src/bot/slack/outbox.ts";
import type { Database } from "../../src/db/schema.ts";
import type { Platform } from "../../src/core/platform.ts";
import type { DnsVerifier } from "../../src/dns/verify.ts";
import { idleDnsVerifier } from "./dns-server.ts";
import { FakeSlack, type FakeWorkspace } from "./fake-slack.ts";
import { registerUser, type User } from "../../src/core/users.ts";
import { unique, useWorld, type TestUser, type World } from "./world.ts";

export const testSigningSecret = "test-signing-secret-0123456789abcdef";
export const testBotToken = "xoxb-test-bot-token";
export const testTeam = "T0TEST";
/** Multi-workspace mode's app credentials and token keys. */
export const testOAuth = {
  clientId: "1111.2222",
  clientSecret: "test-client-secret-0123456789abcdef",
  stateSecret: "test-state-secret-0123456789abcdef",
  tokenKeys: [Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex")],
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
  /** The DNS verifier commands check with (default: the platform's, else one whose resolver nothing serves). */
  dns?: DnsVerifier;
  /** How long a config edit's submission waits for its commit (default: the App's own). */
  editWaitMs?: number;
}

/** Boots the real Bolt App on 127.0.0.1, on a free port, against `fake` and `platform`. */
export async function startSlackApp(platform: Omit<Platform, "dns"> & Partial<Pick<Platform, "dns">>, fake: FakeSlack, mode: SlackAppMode = {}): Promise<{ slack: SlackApp; url: string }> {
  const oneWorkspace = { botToken: testBotToken, clientId: undefined, clientSecret: undefined, stateSecret: undefined, tokenKeys: undefined };
  const slack = createSlackApp({
    platform: { ...platform, dns: mode.dns ?? platform.dns ?? idleDnsVerifier() },
    config: {
      port: 0,
      slashCommand: "/edge",
      slack: { signingSecret: testSigningSecret, appToken: undefined, apiUrl: fake.apiUrl, ...(mode.multiWorkspace ? { botToken: undefined, ...testOAuth } : oneWorkspace) },
    },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    clientRetries: 0,
    ...(mode.editWaitMs === undefined ? {} : { editWaitMs: mode.editWaitMs }),
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

/** The cookie Bolt's installer keeps the OAuth state in. */
export const stateCookie = "slack-app-oauth-state";

/** A workspace the fake Slack will let install edgebot, with its own bot token. */
export function fakeWorkspace(bed: SlackTestBed): FakeWorkspace {
  const teamId = unique("T").toUpperCase();
  const made = { teamId, code: unique("code-"), botToken: `xoxb-${unique("tok")}`, botUserId: `${teamId}BOT`, botId: `B${teamId}`, installerUserId: `U${teamId}ADMIN` };
  bed.fake.addWorkspace(made);
  return made;
}

/** An admin's browser visiting /slack/install: the redirect to Slack, and the state cookie it was given. */
export async function startInstall(bed: SlackTestBed): Promise<{ response: Response; authorize: URL; cookie: string }> {
  const response = await fetch(`${bed.url}${slackInstallPath}`, { redirect: "manual" });
  const authorize = new URL(response.headers.get("location") ?? "about:blank");
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  return { response, authorize, cookie };
}

/** Slack sending the admin's browser back with `code` and `state`, carrying `cookie`. */
export function returnFromSlack(bed: SlackTestBed, query: { code: string; state?: string }, cookie?: string): Promise<Response> {
  const params = new URLSearchParams({ code: query.code, ...(query.state === undefined ? {} : { state: query.state }) });
  return fetch(`${bed.url}${slackOAuthRedirectPath}?${params}`, { redirect: "manual", headers: cookie ? { cookie } : {} });
}

/** The whole install of edgebot in `installed` (multi-workspace mode), as its admin clicks through it. */
export async function installWorkspace(bed: SlackTestBed, installed: FakeWorkspace): Promise<Response> {
  const { authorize, cookie } = await startInstall(bed);
  return returnFromSlack(bed, { code: installed.code, state: authorize.searchParams.get("state")! }, cookie);
}

/**
 * The outbox worker posting to the fake Slack, delivering only when a test calls `deliverDue`,
 * so each test sees exactly what its own steps sent.
 */
export function manualOutbox(db: Kysely<Database>, fake: FakeSlack): OutboxWorker {
  return startOutboxWorker({ platform: { db }, botTokenFor: singleWorkspaceToken(testBotToken), slackApiUrl: fake.apiUrl, logger: pino({ level: "silent" }), pollMs: 3_600_000 });
}

/** A Slack user the fake knows (users.info answers with their email), registered in edgebot under the same identity. */
export async function addSlackPerson(bed: SlackTestBed, name = unique("ana")): Promise<{ id: string; email: string; actor: TestUser; user: User }> {
  const id = `U${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
  const email = `${name}@example.com`;
  bed.fake.addUser({ id, teamId: testTeam, email, name });
  const user = await registerUser(bed.world.platform, { teamId: testTeam, chatUserId: id, email, displayName: name });
  return { id, email, actor: { ...user, userId: user.id }, user };
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

/** An interaction (button, menu, modal submission) as Slack posts it: `payload=<json>`, form-encoded. */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** What every interaction payload starts with: its type, the workspace, the person, the app. */
function interactionEnvelope(type: string, userId: string, teamId: string): Record<string, unknown> {
  return {
    type,
    team: { id: teamId, domain: "acme-agency" },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: teamId },
    api_app_id: "A0EDGEBOT",
    token: "deprecated-verification-token",
    trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
  };
}

/** A modal as edgebot opened it (`views.open`'s `view` argument). */
export interface OpenedView {
  callback_id?: string;
  private_metadata?: string;
  title?: { text: string };
  blocks: Array<{ type: string; block_id?: string; element?: { type: string; action_id: string; initial_value?: string; initial_option?: { value: string } } }>;
}

/** The view of a recorded `views.open` or `views.update` call. */
export function viewOf(call: { args: Record<string, unknown> }): OpenedView {
  const view = call.args.view;
  return (typeof view === "string" ? JSON.parse(view) : view) as OpenedView;
}

/**
 * A `view_submission` of `view` as Slack sends it when a person submits the modal: each input
 * keeps its initial value unless `fill` gives one (by block id); pickers send the option chosen.
 */
export function viewSubmissionPayload(input: { view: OpenedView; viewId: string; userId: string; teamId?: string; fill?: Record<string, string | null> }): Record<string, unknown> {
  const teamId = input.teamId ?? testTeam;
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of input.view.blocks) {
    if (block.type !== "input" || block.block_id === undefined || block.element === undefined) continue;
    const element = block.element;
    const filled = input.fill && block.block_id in input.fill ? input.fill[block.block_id] : undefined;
    const given = filled !== undefined ? filled : element.type === "plain_text_input" ? (element.initial_value ?? null) : (element.initial_option?.value ?? null);
    values[block.block_id] = {
      [element.action_id]:
        element.type === "plain_text_input"
          ? { type: element.type, value: given }
          : element.type === "users_select"
            ? { type: element.type, selected_user: given }
            : { type: element.type, selected_option: given === null ? null : { text: { type: "plain_text", text: given }, value: given } },
    };
  }
  return {
    ...interactionEnvelope("view_submission", input.userId, teamId),
    view: {
      id: input.viewId,
      team_id: teamId,
      type: "modal",
      callback_id: input.view.callback_id,
      private_metadata: input.view.private_metadata ?? "",
      blocks: input.view.blocks,
      state: { values },
      hash: randomBytes(6).toString("hex"),
      title: input.view.title ?? { type: "plain_text", text: "form" },
      app_id: "A0EDGEBOT",
      bot_id: "BBOT",
      root_view_id: input.viewId,
      previous_view_id: null,
      clear_on_close: false,
      notify_on_close: false,
    },
    response_urls: [],
  };
}

/** A click on a button (or a menu entry, with `overflow`) in the Home tab, or in a message when `responseUrl` is given. */
export function blockActionPayload(input: { userId: string; actionId: string; value: string; overflow?: boolean; responseUrl?: string; teamId?: string }): Record<string, unknown> {
  const teamId = input.teamId ?? testTeam;
  const action = input.overflow
    ? { type: "overflow", action_id: input.actionId, block_id: "b1", selected_option: { text: { type: "plain_text", text: "entry" }, value: input.value }, action_ts: `${Date.now() / 1000}` }
    : { type: "button", action_id: input.actionId, block_id: "b1", text: { type: "plain_text", text: "button" }, value: input.value, action_ts: `${Date.now() / 1000}` };
  return {
    ...interactionEnvelope("block_actions", input.userId, teamId),
    container: input.responseUrl ? { type: "message", message_ts: "1.000001", channel_id: "C0GENERAL", is_ephemeral: true } : { type: "view", view_id: "VHOME" },
    ...(input.responseUrl ? { response_url: input.responseUrl, channel: { id: "C0GENERAL", name: "general" } } : { view: { id: "VHOME", type: "home", team_id: teamId } }),
    actions: [action],
  };
}

/** What Slack asks when a person types into an external select: the options matching `value`. */
export function blockSuggestionPayload(input: { userId: string; actionId: string; value: string; teamId?: string }): Record<string, unknown> {
  const teamId = input.teamId ?? testTeam;
  return {
    type: "block_suggestion",
    user: { id: input.userId, username: input.userId.toLowerCase(), name: input.userId.toLowerCase(), team_id: teamId },
    team: { id: teamId, domain: "acme-agency" },
    api_app_id: "A0EDGEBOT",
    token: "deprecated-verification-token",
    action_id: input.actionId,
    block_id: input.actionId === "pick_org" ? "--org" : "app",
    value: input.value,
    container: { type: "view", view_id: "VFORM" },
  };
}

/** An `app_home_opened` event as the Events API posts it: JSON, for the Home tab of `userId`. */
export function appHomeOpenedBody(input: { userId: string; teamId?: string; tab?: "home" | "messages" }): string {
  return eventBody({ teamId: input.teamId, event: { type: "app_home_opened", user: input.userId, channel: "D0HOME", tab: input.tab ?? "home" } });
}
