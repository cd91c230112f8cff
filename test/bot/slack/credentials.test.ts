import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../../src/db/connect.ts";
import { openTestDatabase } from "../../support/database.ts";
import { startEdgebot } from "../../support/edgebot-process.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { FakeSocketMode, testAppToken } from "../../support/fake-socket-mode.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../../support/slack-app.ts";
import { until } from "../../support/until.ts";

/** A loopback port nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Slack credentials checked at start", { timeout: 120_000 }, () => {
  let dataDir: string;
  let serverDatabase: DatabaseHandle | undefined;
  let env: Record<string, string>;
  const fake = new FakeSlack();
  const refusedBotToken = "xoxb-revoked-long-ago";
  const refusedAppToken = "xapp-1-A0EDGEBOT-refused";

  beforeAll(async () => {
    await fake.start();
    fake.on("auth.test", (call) => (call.token === refusedBotToken ? { body: { ok: false, error: "invalid_auth" } } : undefined));
    fake.on("apps.connections.open", (call) => (call.token === refusedAppToken ? { body: { ok: false, error: "invalid_auth" } } : undefined));
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-credentials-"));
    env = { DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "info", SLACK_SIGNING_SECRET: testSigningSecret };
    if (process.env.TEST_DATABASE_URL) {
      serverDatabase = await openTestDatabase();
      env.DATABASE_URL = serverDatabase.url!;
    }
  });

  afterAll(async () => {
    await fake.stop();
    await serverDatabase?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("exits 2 with one line naming SLACK_BOT_TOKEN when Slack refuses the bot token, before listening", async () => {
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: refusedBotToken, SLACK_API_URL: fake.apiUrl, LOG_LEVEL: "silent" });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe("edgebot: SLACK_BOT_TOKEN: Slack refused it (invalid_auth); set a valid token from the app's settings\n");
    expect(fake.callsOf("auth.test").some((call) => call.token === refusedBotToken)).toBe(true);
  });

  it("exits 2 naming SLACK_APP_TOKEN when Slack refuses Socket Mode's app token", async () => {
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testBotToken, SLACK_APP_TOKEN: refusedAppToken, SLACK_API_URL: fake.apiUrl, LOG_LEVEL: "silent" });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe("edgebot: SLACK_APP_TOKEN: Slack refused it (invalid_auth); set a valid token from the app's settings\n");
  });

  it("refuses a token of the wrong kind before asking Slack, without repeating it", async () => {
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testAppToken, SLACK_API_URL: fake.apiUrl });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe("edgebot: SLACK_BOT_TOKEN: must be a bot token, starting with xoxb- (OAuth & Permissions, Bot User OAuth Token)\n");
  });

  it("waits for a Slack it cannot reach, logging each try, and serves once Slack answers", async () => {
    const port = await closedPort();
    const later = new FakeSlack();
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testBotToken, SLACK_API_URL: `http://127.0.0.1:${port}/api/` });
    try {
      await until(() => (run.stderr().match(/Slack did not answer the token check/g)?.length ?? 0) >= 2 || undefined, { what: "two logged tries", timeoutMs: 45_000 });
      expect(run.child.exitCode).toBeNull();
      expect(run.stderr()).not.toContain("edgebot listening");
      expect(run.stderr()).not.toMatch(/\n\s+at /); // no stack trace

      await later.start(port);
      const listeningOn = await run.listening();
      later.addUser({ id: "ULATE", teamId: "T0TEST", email: "late@example.com", name: "late" });
      const { body, responseId } = slashCommandBody(later, { text: "org list", userId: "ULATE" });
      expect((await signedRequest(`http://127.0.0.1:${listeningOn}`, body)).status).toBe(200);
      await later.waitFor(() => later.responses.get(responseId)?.[0], 10_000);
      expect(run.stderr()).toContain('"msg":"Slack accepted the bot token"');
    } finally {
      run.child.kill("SIGTERM");
      await run.exited;
      await later.stop();
    }
    expect(await run.exited).toBe(0);
  });

  it("stops cleanly when asked to while it is still waiting for Slack", async () => {
    const port = await closedPort();
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testBotToken, SLACK_API_URL: `http://127.0.0.1:${port}/api/` });
    await until(() => run.stderr().includes("Slack did not answer the token check") || undefined, { what: "a logged try", timeoutMs: 45_000 });
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain('"msg":"stopped"');
    expect(run.stderr()).not.toContain("edgebot listening");
  });

  it("checks the bot token and the app token in Socket Mode before listening", async () => {
    const socketMode = await new FakeSocketMode(fake).start();
    const before = fake.callsOf("auth.test").length;
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testBotToken, SLACK_APP_TOKEN: testAppToken, SLACK_API_URL: fake.apiUrl });
    try {
      await run.listening();
      expect(fake.callsOf("auth.test").slice(before).some((call) => call.token === testBotToken)).toBe(true);
      expect(fake.callsOf("apps.connections.open").some((call) => call.token === testAppToken)).toBe(true);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    await socketMode.stop();
  });
});
