import { until } from "../../support/until.ts";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { botScopes } from "../../../src/bot/slack/scopes.ts";
import { startOutboxWorker, type OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import { TokenCipher } from "../../../src/bot/slack/token-cipher.ts";
import type { FakeWorkspace } from "../../support/fake-slack.ts";
import { eventBody, fakeWorkspace, installWorkspace, returnFromSlack, signedRequest, slashCommandBody, startInstall, stateCookie, testOAuth, useSlackApp } from "../../support/slack-app.ts";
import { unique } from "../../support/world.ts";

const bed = useSlackApp({ multiWorkspace: true });
const workers: OutboxWorker[] = [];

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
});

const workspace = () => fakeWorkspace(bed);
const install = (installed: FakeWorkspace) => installWorkspace(bed, installed);

async function installationRows(teamId: string) {
  return bed.world.platform.db.selectFrom("slack_installations").selectAll().where("team_id", "=", teamId).execute();
}

/** Types `/edge <text>` as a new user of `teamId`; resolves with the answer the response URL received. */
async function typeIn(teamId: string, text: string, userId = unique("U").toUpperCase()): Promise<{ answer: Record<string, unknown>; userId: string }> {
  bed.fake.addUser({ id: userId, teamId, email: `${userId.toLowerCase()}@example.com`, name: userId.toLowerCase() });
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId, teamId });
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  return { answer: await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]), userId };
}

describe("installing edgebot in a workspace (multi-workspace OAuth)", () => {
  it("sends the admin from /slack/install to Slack's consent page with the client id and scopes, and a state cookie", async () => {
    const { response, authorize, cookie } = await startInstall(bed);

    expect(response.status).toBe(302);
    expect(`${authorize.origin}${authorize.pathname}`).toBe("https://slack.com/oauth/v2/authorize");
    expect(authorize.searchParams.get("client_id")).toBe(testOAuth.clientId);
    expect(authorize.searchParams.get("scope")?.split(",")).toEqual(botScopes);
    const state = authorize.searchParams.get("state");
    expect(state).toBeTruthy();
    expect(cookie).toBe(`${stateCookie}=${state}`);
    expect(response.headers.get("set-cookie")).toMatch(/HttpOnly/i);
  });

  it("exchanges the code through SLACK_API_URL and stores the installation with its bot token encrypted", async () => {
    const alpha = workspace();

    const response = await install(alpha);

    expect(response.status).toBe(200);
    const exchange = bed.fake.callsOf("oauth.v2.access").find((call) => call.args.code === alpha.code);
    expect(exchange?.args).toMatchObject({ client_id: testOAuth.clientId, client_secret: testOAuth.clientSecret });
    const rows = await installationRows(alpha.teamId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ enterprise_id: null, is_enterprise_install: false, bot_id: alpha.botId, bot_user_id: alpha.botUserId, installer_user_id: alpha.installerUserId });
    expect(rows[0]!.bot_scopes.split(",")).toEqual(botScopes);
    // At rest the token is header (format, key id), IV, tag and ciphertext: not the token, and not readable without the key.
    const stored = Buffer.from(rows[0]!.bot_token);
    expect(stored.toString("latin1")).not.toContain(alpha.botToken);
    expect(stored.toString("latin1")).not.toContain(alpha.botToken.slice(5));
    expect(stored.length).toBe(8 + 12 + 16 + Buffer.byteLength(alpha.botToken));
    expect(new TokenCipher(testOAuth.tokenKeys).decrypt(stored, { team: alpha.teamId })).toBe(alpha.botToken);
  });

  it("answers a workspace's slash command with that workspace's bot token, and another's with its own", async () => {
    const [alpha, beta] = [workspace(), workspace()];
    await install(alpha);
    await install(beta);

    const fromAlpha = await typeIn(alpha.teamId, "help");
    const fromBeta = await typeIn(beta.teamId, "help");

    expect(String(fromAlpha.answer.text)).toContain("org create");
    expect(bed.fake.callsOf("users.info").filter((call) => call.args.user === fromAlpha.userId).map((call) => call.token)).toEqual([alpha.botToken]);
    expect(bed.fake.callsOf("users.info").filter((call) => call.args.user === fromBeta.userId).map((call) => call.token)).toEqual([beta.botToken]);
    expect(new Set([...(await installationRows(alpha.teamId)), ...(await installationRows(beta.teamId))].map((row) => Buffer.from(row.bot_token).toString("hex"))).size).toBe(2);
  });

  it("finds an invited email among the people of every workspace where edgebot is installed", async () => {
    const [agency, client] = [workspace(), workspace()];
    await install(agency);
    await install(client);
    const org = unique("acme");
    const { userId: owner } = await typeIn(agency.teamId, `org create ${org}`);
    const clientUser = unique("U").toUpperCase();
    const email = `${clientUser.toLowerCase()}@client.example`;
    bed.fake.addUser({ id: clientUser, teamId: client.teamId, email, name: "Client" });

    const { body, responseId } = slashCommandBody(bed.fake, { text: `member invite ${org} ${email}`, userId: owner, teamId: agency.teamId });
    await signedRequest(bed.url, body);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    expect(String(answer.text)).toContain(`is now viewer of *${org}*`);
    // Asked in the agency's workspace first, with its token, then found in the client's, with theirs.
    const asked = bed.fake.callsOf("users.lookupByEmail").filter((call) => call.args.email === email).map((call) => call.token);
    expect(asked[0]).toBe(agency.botToken);
    expect(asked.at(-1)).toBe(client.botToken);
    const identity = await bed.world.platform.db.selectFrom("user_identities").select(["team_id", "chat_user_id"]).where("chat_user_id", "=", clientUser).executeTakeFirstOrThrow();
    expect(identity).toEqual({ team_id: client.teamId, chat_user_id: clientUser });
  });

  it("replaces the installation when a workspace installs again", async () => {
    const alpha = workspace();
    await install(alpha);
    const reinstalled = { ...alpha, code: unique("code-"), botToken: `xoxb-${unique("new")}` };
    bed.fake.addWorkspace(reinstalled);

    expect((await install(reinstalled)).status).toBe(200);

    const rows = await installationRows(alpha.teamId);
    expect(rows).toHaveLength(1);
    expect(new TokenCipher(testOAuth.tokenKeys).decrypt(rows[0]!.bot_token, { team: alpha.teamId })).toBe(reinstalled.botToken);
    const { userId } = await typeIn(alpha.teamId, "help");
    expect(bed.fake.callsOf("users.info").filter((call) => call.args.user === userId).map((call) => call.token)).toEqual([reinstalled.botToken]);
  });

  it("refuses a return from Slack with a forged, missing or cookie-less state, and stores nothing", async () => {
    const gamma = workspace();
    const { authorize, cookie } = await startInstall(bed);
    const state = authorize.searchParams.get("state")!;

    const forged = await returnFromSlack(bed, { code: gamma.code, state: "forged-state" }, `${stateCookie}=forged-state`);
    const missing = await returnFromSlack(bed, { code: gamma.code }, cookie);
    const withoutCookie = await returnFromSlack(bed, { code: gamma.code, state });
    const otherBrowser = await returnFromSlack(bed, { code: gamma.code, state }, `${stateCookie}=someone-elses-state`);

    expect([forged.status, missing.status, withoutCookie.status, otherBrowser.status]).toEqual([400, 400, 400, 400]);
    expect(bed.fake.callsOf("oauth.v2.access").filter((call) => call.args.code === gamma.code)).toEqual([]);
    expect(await installationRows(gamma.teamId)).toEqual([]);
  });

  it("forgets a workspace's installation when edgebot is uninstalled there, and then answers nothing from it", async () => {
    const alpha = workspace();
    await install(alpha);

    const uninstalled = eventBody({ teamId: alpha.teamId, event: { type: "app_uninstalled" } });
    expect((await signedRequest(bed.url, uninstalled, { contentType: "application/json" })).status).toBe(200);

    await until(async () => (await installationRows(alpha.teamId)).length === 0, { what: "the installation", timeoutMs: 5000, everyMs: 20 });
    const userId = unique("U").toUpperCase();
    const { body, responseId } = slashCommandBody(bed.fake, { text: "help", userId, teamId: alpha.teamId });
    await signedRequest(bed.url, body);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bed.fake.responses.get(responseId)).toBeUndefined();
  });

  it("forgets the installation when its bot token is revoked", async () => {
    const alpha = workspace();
    await install(alpha);

    const revoked = eventBody({ teamId: alpha.teamId, event: { type: "tokens_revoked", tokens: { bot: [alpha.botUserId] } } });
    expect((await signedRequest(bed.url, revoked, { contentType: "application/json" })).status).toBe(200);

    await until(async () => (await installationRows(alpha.teamId)).length === 0, { what: "the installation", timeoutMs: 5000, everyMs: 20 });
  });

  it("posts a notification for a channel set in a workspace with that workspace's token", async () => {
    const [alpha, beta] = [workspace(), workspace()];
    await install(alpha);
    await install(beta);
    const org = unique("org");
    const channel = `C${unique("OPS").toUpperCase()}`;
    const owner = unique("U").toUpperCase();
    await typeIn(alpha.teamId, `org create ${org}`, owner);
    const { answer } = await typeIn(alpha.teamId, `org channel ${org} <#${channel}|ops>`, owner);
    expect(String(answer.text)).toContain(`<#${channel}>`);
    await typeIn(alpha.teamId, `app create www.${org}.example --org ${org}`, owner);

    const worker = startOutboxWorker({ platform: bed.world.platform, botTokenFor: (teamId) => bed.slack.installations!.botTokenFor(teamId), slackApiUrl: bed.fake.apiUrl, logger: pino({ level: "silent" }), pollMs: 60_000 });
    workers.push(worker);
    // Messages of earlier tests in this file (a new member's welcome) may be due as well.
    expect(await worker.deliverDue()).toBeGreaterThanOrEqual(1);

    const posts = bed.fake.callsOf("chat.postMessage").filter((call) => call.args.channel === channel);
    expect(posts.map((call) => call.token)).toEqual([alpha.botToken]);
  });
});
