import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../../src/db/connect.ts";
import { openTestDatabase } from "../../support/database.ts";
import { startEdgebot } from "../../support/edgebot-process.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { FakeSocketMode, testAppToken } from "../../support/fake-socket-mode.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../../support/slack-app.ts";
import { until as waitUntil } from "../../support/until.ts";

// Generous: a process starting on a busy machine (tsx, then PGlite's WebAssembly) can take 20 s.
async function until<T>(condition: () => T | undefined, timeoutMs = 45_000): Promise<T> {
  return waitUntil(condition, { what: "edgebot", timeoutMs, everyMs: 50 });
}

describe("npm start with Slack variables", { timeout: 90_000 }, () => {
  let dataDir: string;
  let serverDatabase: DatabaseHandle | undefined;
  let env: Record<string, string>;
  const fake = new FakeSlack();

  beforeAll(async () => {
    await fake.start();
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-slack-"));
    env = { DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "debug", SLACK_API_URL: fake.apiUrl };
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

  it("serves Slack over HTTP, answers /edge and /healthz, delivers notifications, and stops cleanly on SIGTERM without logging secrets", async () => {
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken });
    try {
      const port = await until(() => /"port":(\d+)/.exec(run.stderr())?.[1]);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      fake.addUser({ id: "UMAIN", teamId: "T0TEST", email: "main@example.com", name: "main" });
      const { body, responseId } = slashCommandBody(fake, { text: "org create main-org", userId: "UMAIN" });
      expect((await signedRequest(url, body)).status).toBe(200);
      const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
      expect(String(answer.text)).toContain("Created org *main-org*");

      // The outbox worker runs in the process: a change in an org with a channel is announced there.
      for (const text of ["org channel main-org <#CMAINOPS|ops>", "app create www.main.example --org main-org"]) {
        const command = slashCommandBody(fake, { text, userId: "UMAIN" });
        expect((await signedRequest(url, command.body)).status).toBe(200);
        await fake.waitFor(() => fake.responses.get(command.responseId)?.[0]);
      }
      const announcement = await fake.waitFor(() => fake.callsOf("chat.postMessage").find((call) => call.args.channel === "CMAINOPS"));
      expect(String(announcement.args.text)).toContain("main-org/www-main-example* was created");
      expect(fake.callsOf("chat.postMessage").filter((call) => call.args.channel === "CMAINOPS")).toHaveLength(1);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain('"msg":"stopping"');
    expect(run.stderr()).not.toContain(testBotToken);
    expect(run.stderr()).not.toContain(testSigningSecret);
  });

  it("serves Slack over Socket Mode with SLACK_APP_TOKEN, answers /healthz on PORT, and closes the socket on SIGTERM", async () => {
    const socketMode = await new FakeSocketMode(fake).start();
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken, SLACK_APP_TOKEN: testAppToken });
    try {
      const port = await until(() => /"mode":"socket","port":(\d+)/.exec(run.stderr())?.[1]);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

      fake.addUser({ id: "USOCKET", teamId: "T0TEST", email: "socket@example.com", name: "socket" });
      const { body, responseId } = slashCommandBody(fake, { text: "org create socket-org", userId: "USOCKET" });
      const envelopeId = socketMode.pushSlashCommand(body);
      await socketMode.waitFor(() => socketMode.acksOf(envelopeId)[0]);
      const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
      expect(String(answer.text)).toContain("Created org *socket-org*");
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    // A normal closure (1000), not a socket dropped when the process exited (1006).
    expect(await socketMode.waitFor(() => socketMode.closeCodes.length > 0 && socketMode.closeCodes)).toEqual([1000]);
    await socketMode.stop();
    expect(run.stderr()).not.toContain(testAppToken);
    expect(run.stderr()).not.toContain(testBotToken);
    expect(run.stderr()).not.toContain(testSigningSecret);
  });

  it("names the missing half of the HTTP pair, without repeating the other", async () => {
    const run = startEdgebot({ ...env, SLACK_BOT_TOKEN: testBotToken });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe("edgebot: SLACK_SIGNING_SECRET: is not set (Slack HTTP mode needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN together)\n");
  });

  it("serves multi-workspace Slack: /slack/install sends the admin to Slack, /healthz answers, and no secret is logged", async () => {
    const secrets = { SLACK_CLIENT_SECRET: "client-secret-value-0123", SLACK_STATE_SECRET: "state-secret-value-0123", SLACK_TOKEN_KEY: "ab".repeat(32) };
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_CLIENT_ID: "1111.2222", ...secrets });
    try {
      const port = await until(() => /"port":(\d+)/.exec(run.stderr())?.[1]);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const install = await fetch(`${url}/slack/install`, { redirect: "manual" });
      expect(install.status).toBe(302);
      expect(new URL(install.headers.get("location")!).searchParams.get("client_id")).toBe("1111.2222");
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toContain('"mode":"oauth"');
    for (const secret of [testSigningSecret, ...Object.values(secrets)]) expect(run.stderr()).not.toContain(secret);
  });

  it("names the missing part of the multi-workspace set, without repeating the others", async () => {
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_CLIENT_ID: "123.456", SLACK_CLIENT_SECRET: "client-secret-value", SLACK_STATE_SECRET: "state-secret-value" });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toMatch(/^edgebot: SLACK_TOKEN_KEYS: is not set \(multi-workspace Slack needs [^\n]*\)\n$/);
    expect(run.stderr()).not.toContain("client-secret-value");
  });

  it("names PORT in one line and exits 2 when the port is taken", async () => {
    const taken = new URL(fake.apiUrl).port;
    const run = startEdgebot({ ...env, LOG_LEVEL: "silent", PORT: taken, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(`edgebot: PORT: ${taken} is already in use; stop what holds it or set another PORT\n`);
  });

  it("on SIGTERM takes no more requests, answers every command it acknowledged, and exits 0", async () => {
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken, SHUTDOWN_TIMEOUT_S: "20" });
    const url = `http://127.0.0.1:${await run.listening()}`;
    // Each command first asks Slack who its (new) user is, slowly: all are in progress when the stop comes.
    fake.delay("users.info", 700);
    try {
      const burst = Array.from({ length: 12 }, (_, index) => {
        fake.addUser({ id: `UBURST${index}`, teamId: "T0TEST", email: `burst${index}@example.com`, name: `burst${index}` });
        return slashCommandBody(fake, { text: `org create burst-${index}`, userId: `UBURST${index}` });
      });
      const acks = await Promise.all(burst.map((command) => signedRequest(url, command.body)));
      expect(acks.map((ack) => ack.status)).toEqual(burst.map(() => 200));
      expect(burst.filter((command) => fake.responses.has(command.responseId)).length).toBeLessThan(burst.length);

      run.child.kill("SIGTERM");
      await until(() => run.stderr().includes('"msg":"stopping"') || undefined);
      const late = slashCommandBody(fake, { text: "org create too-late", userId: "UBURST0" });
      await expect(signedRequest(url, late.body)).rejects.toThrow();

      expect(await run.exited).toBe(0);
      for (const command of burst) expect(String(fake.responses.get(command.responseId)?.[0]?.text)).toMatch(/Created org \*burst-\d+\*/);
      expect(fake.responses.has(late.responseId)).toBe(false);
      expect(run.stderr()).toContain('"msg":"stopped"');
      expect(run.stderr()).not.toContain("stopped waiting for requests still in progress");
    } finally {
      fake.delay("users.info", 0);
      run.child.kill("SIGKILL");
    }
  });

  it("stops waiting for commands after SHUTDOWN_TIMEOUT_S, says so, and still exits 0", async () => {
    const run = startEdgebot({ ...env, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken, SHUTDOWN_TIMEOUT_S: "1" });
    const url = `http://127.0.0.1:${await run.listening()}`;
    fake.delay("users.info", 8000);
    try {
      fake.addUser({ id: "USLOWSTOP", teamId: "T0TEST", email: "slowstop@example.com", name: "slowstop" });
      const command = slashCommandBody(fake, { text: "org create slow-stop", userId: "USLOWSTOP" });
      expect((await signedRequest(url, command.body)).status).toBe(200);
      const stoppedAt = Date.now();
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(7000);
      expect(run.stderr()).toMatch(/"unfinished":1,"shutdownTimeoutS":1,"msg":"stopped waiting for requests still in progress/);
      expect(run.stderr()).toContain('"msg":"stopped"');
    } finally {
      fake.delay("users.info", 0);
      run.child.kill("SIGKILL");
    }
  });
});
