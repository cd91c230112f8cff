import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import { createSlackApp, type SlackApp } from "../../../src/bot/slack/app.ts";
import type { Platform } from "../../../src/core/platform.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { FakeSocketMode, testAppToken } from "../../support/fake-socket-mode.ts";
import { appHomeOpenedBody, slashCommandBody, testBotToken, testSigningSecret, testTeam, viewOf, viewSubmissionPayload } from "../../support/slack-app.ts";
import { unique, useWorld } from "../../support/world.ts";

/** The real Bolt App in Socket Mode, with its health server on loopback (on a free port unless one is given). */
async function startSocketModeApp(platform: Platform, fake: FakeSlack, port = 0): Promise<{ slack: SlackApp; url: string }> {
  const slack = createSlackApp({
    platform,
    config: {
      port: 0,
      slashCommand: "/edge",
      slack: { signingSecret: testSigningSecret, botToken: testBotToken, appToken: testAppToken, clientId: undefined, clientSecret: undefined, stateSecret: undefined, tokenKeys: undefined, apiUrl: fake.apiUrl },
    },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    clientRetries: 0,
  });
  const listening = await slack.start({ port, host: "127.0.0.1" });
  return { slack, url: `http://127.0.0.1:${listening.port}` };
}

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const world = useWorld();
const fake = new FakeSlack();
const socketMode = new FakeSocketMode(fake);
let slack: SlackApp;
let url: string;

beforeAll(async () => {
  await fake.start();
  await socketMode.start();
  ({ slack, url } = await startSocketModeApp(world.platform, fake));
});

afterAll(async () => {
  await slack?.stop();
  await socketMode.stop();
  await fake.stop();
});

/** A Slack user the fake knows, with a profile email. */
function slackUser(name = unique("sam")): { id: string; email: string } {
  const id = `U${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
  const email = `${name}@example.com`;
  fake.addUser({ id, teamId: testTeam, email, name });
  return { id, email };
}

/** Types `/edge <text>` as `userId`, delivered over the socket; returns the envelope id and the response URL's id. */
function typeOverSocket(userId: string, text: string): { envelopeId: string; responseId: string } {
  const { body, responseId } = slashCommandBody(fake, { text, userId });
  return { envelopeId: socketMode.pushSlashCommand(body), responseId };
}

/** The answer's text as the user reads it, without Slack's markup. */
function seen(answer: Record<string, unknown>): string {
  return plainText({ text: String(answer.text), blocks: [] });
}

describe("edgebot in Socket Mode", () => {
  it("opens its connection with the app token, and makes every other Web API call with the bot token", async () => {
    const opened = fake.callsOf("apps.connections.open");
    expect(opened).toHaveLength(1);
    expect(opened[0]!.token).toBe(testAppToken);
    expect(socketMode.connections).toHaveLength(1);
    const authTest = await fake.waitFor(() => fake.callsOf("auth.test")[0]);
    expect(authTest.token).toBe(testBotToken);
  });

  it("acknowledges /edge help by its envelope id and answers it on the response URL", async () => {
    const { envelopeId, responseId } = typeOverSocket(slackUser().id, "help");
    const ack = await socketMode.waitFor(() => socketMode.acksOf(envelopeId)[0]);
    // A plain ack: the answer goes to the response URL, not into the ack.
    expect(ack.payload ?? {}).toEqual({});
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
    expect(answer.response_type).toBe("ephemeral");
    for (const command of ["org create", "app create", "env create", "domain add"]) expect(answer.text).toContain(command);
    expect(socketMode.acksOf(envelopeId)).toHaveLength(1);
  });

  it("acknowledges before the work: the ack does not wait for a slow Slack profile", async () => {
    const dee = slackUser();
    fake.delay("users.info", 1000);
    try {
      const org = unique("slow");
      const { envelopeId, responseId } = typeOverSocket(dee.id, `org create ${org}`);
      const pushedAt = socketMode.sent.find((envelope) => envelope.envelopeId === envelopeId)!.at;
      const ack = await socketMode.waitFor(() => socketMode.acksOf(envelopeId)[0]);
      expect(ack.at - pushedAt).toBeLessThan(500);
      expect(fake.responses.get(responseId)).toBeUndefined();
      const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
      expect(Date.now() - pushedAt).toBeGreaterThanOrEqual(1000);
      expect(seen(answer)).toMatch(new RegExp(`Created org ${org} `));
    } finally {
      fake.delay("users.info", 0);
    }
  });

  it("opens a form and takes its submission over the socket, the modal's answer riding in the ack", async () => {
    const ola = slackUser();
    const opened = fake.callsOf("views.open").length;
    typeOverSocket(ola.id, "org create");
    const view = viewOf(await fake.waitFor(() => fake.callsOf("views.open")[opened]));
    expect(view.callback_id).toBe("form:org create");

    const org = unique("socketform");
    const bad = socketMode.push("interactive", viewSubmissionPayload({ view, viewId: "VSOCKET1", userId: ola.id, fill: { slug: "Not A Slug" } }));
    expect((await socketMode.waitFor(() => socketMode.acksOf(bad)[0])).payload).toMatchObject({ response_action: "errors", errors: { slug: expect.stringMatching(/org slug/) } });
    const good = socketMode.push("interactive", viewSubmissionPayload({ view, viewId: "VSOCKET1", userId: ola.id, fill: { slug: org } }));
    expect((await socketMode.waitFor(() => socketMode.acksOf(good)[0])).payload).toEqual({ response_action: "clear" });
    expect(await world.platform.db.selectFrom("orgs").select("slug").where("slug", "=", org).execute()).toEqual([{ slug: org }]);
  });

  it("creates an org from /edge org create, owned by the Slack user who typed it", async () => {
    const sam = slackUser();
    const org = unique("acme");
    const { responseId } = typeOverSocket(sam.id, `org create ${org}`);
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
    expect(seen(answer)).toMatch(new RegExp(`^✓ Created org ${org} `));

    const row = await world.platform.db
      .selectFrom("orgs as o")
      .innerJoin("memberships as m", "m.org_id", "o.id")
      .innerJoin("users as u", "u.id", "m.user_id")
      .innerJoin("user_identities as i", "i.user_id", "u.id")
      .select(["u.email", "m.role", "i.team_id", "i.chat_user_id"])
      .where("o.slug", "=", org)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ email: sam.email, role: "owner", team_id: testTeam, chat_user_id: sam.id });
    const audit = await world.platform.db.selectFrom("audit_events").select("action").where("org_slug", "=", org).execute();
    expect(audit).toEqual([{ action: "org.create" }]);
  });

  it("publishes the Home tab when a person opens it", async () => {
    const ivy = slackUser();
    const envelopeId = socketMode.pushEvent(appHomeOpenedBody({ userId: ivy.id }));
    await socketMode.waitFor(() => socketMode.acksOf(envelopeId)[0]);
    const publish = await fake.waitFor(() => fake.callsOf("views.publish").find((call) => call.args.user_id === ivy.id));
    const view = (typeof publish.args.view === "string" ? JSON.parse(publish.args.view) : publish.args.view) as { type: string; blocks: unknown[] };
    expect(publish.token).toBe(testBotToken);
    expect(view.type).toBe("home");
    expect(JSON.stringify(view.blocks)).toContain("/edge org create");
  });

  it("answers /healthz and /readyz on its HTTP port, and takes no Slack requests there", async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ok: true }]);
    expect((await fetch(`${url}/slack/events`, { method: "POST" })).status).toBe(404);
  });

  it("reconnects when Slack asks it to, and goes on answering over the new connection", async () => {
    const opened = fake.callsOf("apps.connections.open").length;
    const connections = socketMode.connections.length;
    const closed = socketMode.closeCodes.length;
    socketMode.askToReconnect();
    // The client waits about five seconds before it opens a new connection.
    const fresh = await socketMode.waitFor(() => socketMode.connections.length > connections && socketMode.openConnection, 15_000);
    expect(fresh).toBe(socketMode.connections.at(-1));
    expect(socketMode.closeCodes.slice(closed)).toEqual([1000]);
    const reopened = fake.callsOf("apps.connections.open").slice(opened);
    expect(reopened.map((call) => call.token)).toEqual([testAppToken]);

    const { envelopeId, responseId } = typeOverSocket(slackUser().id, "help");
    await socketMode.waitFor(() => socketMode.acksOf(envelopeId)[0]);
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
    expect(answer.text).toContain("org create");
  });

  it("closes its socket with a normal closure on stop, and stops answering /healthz", async () => {
    const connections = socketMode.connections.length;
    const closed = socketMode.closeCodes.length;
    const own = await startSocketModeApp(world.platform, fake);
    expect(socketMode.connections).toHaveLength(connections + 1);
    expect((await fetch(`${own.url}/healthz`)).status).toBe(200);

    await own.slack.stop();
    // 1000 is the normal closure the client sends in its close frame; a dropped socket shows 1006.
    expect(await socketMode.waitFor(() => socketMode.closeCodes.length > closed && socketMode.closeCodes.slice(closed))).toEqual([1000]);
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
  });

  it("refuses to start with an app token Slack rejects, saying why, and leaves its port free", async () => {
    const rejecting = await new FakeSlack().start();
    try {
      rejecting.replyOnce("apps.connections.open", { body: { ok: false, error: "invalid_auth" } });
      const port = await freePort();
      await expect(startSocketModeApp(world.platform, rejecting, port)).rejects.toThrow(/invalid_auth/);
      expect(rejecting.callsOf("apps.connections.open").map((call) => call.token)).toEqual([testAppToken]);
      // The health server it opened first is closed again: the port can be taken.
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
      await new Promise((resolve) => server.close(resolve));
    } finally {
      await rejecting.stop();
    }
  });
});
