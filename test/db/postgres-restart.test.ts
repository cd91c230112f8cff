import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUnreachableMessage } from "../../src/db/errors.ts";
import { logLines, startEdgebot, type EdgebotProcess } from "../support/edgebot-process.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../support/slack-app.ts";
import { until } from "../support/until.ts";

/** One slash command of the steady stream, and what came back at its response URL. */
interface SentCommand {
  kind: "org" | "app";
  /** The org's slug, or the application's slug in org `quiet`. */
  name: string;
  responseId: string;
  sentAt: number;
  answer?: { text: string; at: number };
}

const user = "URESTART";
const notificationChannel = "COPS";
// Between commands of the steady stream: steady, not a flood.
const streamGapMs = 150;
const outboxPaused = "the database cannot be reached; the outbox pauses until it is back";

/**
 * edgebot in Slack HTTP mode on a Postgres server of the test's own, which is stopped as a
 * crash stops it (`-m immediate`) and started again while commands keep coming.
 */
describe("Postgres stops and starts again under edgebot", { timeout: 120_000 }, () => {
  const fake = new FakeSlack();
  let server: PostgresServer;
  let admin: pg.Client | undefined;
  let dataDir: string;
  let bot: EdgebotProcess;
  let url: string;
  // While true, Slack answers the notification channel's posts with 503: they stay in the outbox.
  let slackFailsPosts = true;
  /** Posts Slack took in the notification channel, by text. */
  const postedTexts: string[] = [];

  beforeAll(async () => {
    await fake.start();
    fake.addUser({ id: user, teamId: "T0TEST", email: "restart@example.com", name: "restart" });
    fake.on("chat.postMessage", (call) => {
      if (call.args.channel !== notificationChannel) return undefined;
      if (slackFailsPosts) return { status: 503, body: { ok: false, error: "service_unavailable" } };
      postedTexts.push(String(call.args.text));
      return undefined;
    });
    server = await PostgresServer.start();
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-restart-"));
    bot = startEdgebot({
      DATABASE_URL: server.url(),
      DATA_DIR: dataDir,
      PORT: "0",
      LOG_LEVEL: "info",
      SLACK_SIGNING_SECRET: testSigningSecret,
      SLACK_BOT_TOKEN: testBotToken,
      SLACK_API_URL: fake.apiUrl,
    });
    url = `http://127.0.0.1:${await bot.listening()}`;
  });

  afterAll(async () => {
    bot?.child.kill("SIGTERM");
    await bot?.exited;
    await admin?.end().catch(() => undefined);
    await server?.destroy();
    await fake.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const send = async (text: string): Promise<{ responseId: string; sentAt: number }> => {
    const { body, responseId } = slashCommandBody(fake, { text, userId: user });
    const sentAt = Date.now();
    // Slack's acknowledgement comes first, whatever the database does.
    expect((await signedRequest(url, body)).status).toBe(200);
    return { responseId, sentAt };
  };
  const answerTo = async (responseId: string, timeoutMs = 20_000): Promise<string> => String((await fake.waitFor(() => fake.responses.get(responseId)?.[0], timeoutMs)).text);
  const command = async (text: string): Promise<string> => answerTo((await send(text)).responseId);
  const readiness = async (): Promise<number> => (await fetch(`${url}/readyz`)).status;
  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    if (!admin) {
      admin = new pg.Client({ connectionString: server.url() });
      admin.on("error", () => undefined);
      await admin.connect();
    }
    return (await admin.query<T>(text, values)).rows;
  };

  it("answers every command during the outage at once, applies none twice or by half, delivers the outbox once after, and goes on without a restart", async () => {
    expect(await command("org create ops")).toContain("Created org *ops*");
    expect(await command(`org channel ops <#${notificationChannel}|ops>`)).not.toContain(":warning:");
    expect(await command("org create quiet")).toContain("Created org *quiet*");

    // Notifications written before the outage, which Slack refuses for now: they wait in the outbox.
    const announced = ["pre-1", "pre-2", "pre-3"];
    for (const name of announced) expect(await command(`app create ${name}.ops.example --org ops --name ${name}`)).toContain(`Created *ops/${name}*`);
    // The steady stream: org create and app create in turn, each with a name of its own.
    const sent: SentCommand[] = [];
    let streaming = true;
    const stream = (async () => {
      for (let index = 1; streaming; index += 1) {
        const kind = index % 2 === 0 ? "app" : "org";
        const name = `steady-${index}`;
        const text = kind === "org" ? `org create ${name}` : `app create ${name}.quiet.example --org quiet --name ${name}`;
        const entry: SentCommand = { kind, name, ...(await send(text)) };
        sent.push(entry);
        void answerTo(entry.responseId, 60_000).then((answer) => (entry.answer = { text: answer, at: Date.now() }));
        await new Promise((resolve) => setTimeout(resolve, streamGapMs));
      }
    })();
    const answeredSince = (since: number, count: number) => until(() => (sent.filter((entry) => entry.sentAt >= since && entry.answer).length >= count ? true : undefined), { what: `${count} answers`, timeoutMs: 20_000 });

    await answeredSince(0, 4);
    // The server stops while the announcements wait for their next attempt: not while one is in
    // flight, when the mark after Slack's answer would be lost and its lease would hold it for a minute.
    await until(
      async () => {
        const rows = await query<{ waiting: boolean }>(
          "select attempts >= 1 and next_attempt_at between now() + interval '1 second' and now() + interval '30 seconds' as waiting from outbox where channel_id = $1 and kind = 'app.created' and delivered_at is null",
          [notificationChannel],
        );
        return rows.length === announced.length && rows.every((row) => row.waiting) ? true : undefined;
      },
      { what: "the announcements to wait for their next attempt", timeoutMs: 15_000, everyMs: 20 },
    );
    await admin!.end();
    admin = undefined;
    await server.stop("immediate");
    const outageBegan = Date.now();
    expect(await until(async () => ((await readiness()) === 503 ? 503 : undefined), { what: "/readyz to say 503", timeoutMs: 10_000 })).toBe(503);
    // Git over HTTP says the same, as a 503 that git clients and proxies know passes.
    const token = `edgebot_pat_${"A".repeat(43)}`;
    const clone = await fetch(`${url}/git/quiet/steady-2.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Basic ${Buffer.from(`git:${token}`).toString("base64")}` } });
    expect(clone.status).toBe(503);
    expect(await clone.text()).toContain(databaseUnreachableMessage);
    await answeredSince(outageBegan, 6);
    // The outbox has met the outage too (it polls every second) before the server comes back.
    const logged = (message: string) => logLines(bot.stderr()).filter((line) => line.msg === message).length;
    await until(() => (logged(outboxPaused) > 0 ? true : undefined), { what: "the outbox to pause", timeoutMs: 15_000 });
    expect(await readiness()).toBe(503);
    // Alive all the same: restarting it would not bring the database back.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const outageEnded = Date.now();
    await server.start();
    await until(async () => ((await readiness()) === 200 ? true : undefined), { what: "/readyz to say 200 again", timeoutMs: 20_000 });
    slackFailsPosts = false;
    await answeredSince(Date.now(), 4);
    streaming = false;
    await stream;
    await until(() => (sent.every((entry) => entry.answer) ? true : undefined), { what: "every command's answer", timeoutMs: 30_000 });

    // Every command had exactly one answer: what it did, or that the database was away.
    for (const entry of sent) expect(fake.responses.get(entry.responseId)).toHaveLength(1);
    const unreachable = (entry: SentCommand) => entry.answer!.text.includes(databaseUnreachableMessage);
    const created = (entry: SentCommand) => entry.answer!.text.includes(entry.kind === "org" ? `Created org *${entry.name}*` : `Created *quiet/${entry.name}*`);
    for (const entry of sent) expect({ name: entry.name, answer: entry.answer!.text, ok: created(entry) || unreachable(entry) }).toMatchObject({ ok: true });
    // Those sent while the server was down were all told so, at once.
    const duringOutage = sent.filter((entry) => entry.sentAt >= outageBegan && entry.sentAt < outageEnded);
    expect(duringOutage.length).toBeGreaterThanOrEqual(6);
    for (const entry of duringOutage) {
      expect(unreachable(entry)).toBe(true);
      expect(entry.answer!.at - entry.sentAt).toBeLessThan(5000);
    }
    expect(sent.filter(unreachable).length).toBeGreaterThanOrEqual(duringOutage.length);
    expect(sent.filter((entry) => entry.sentAt >= outageEnded && created(entry)).length).toBeGreaterThan(0);

    // What was answered "created" exists, once, with its audit event; what was not, does not exist at all.
    const orgs = await query<{ slug: string }>("select slug from orgs where slug like 'steady-%'");
    expect(orgs.map((row) => row.slug).sort()).toEqual(sent.filter((entry) => entry.kind === "org" && created(entry)).map((entry) => entry.name).sort());
    const apps = await query<{ id: number; slug: string }>("select a.id, a.slug from applications a join orgs o on o.id = a.org_id where o.slug = 'quiet'");
    expect(apps.map((row) => row.slug).sort()).toEqual(sent.filter((entry) => entry.kind === "app" && created(entry)).map((entry) => entry.name).sort());
    const audits = await query<{ action: string; target: string; n: number }>(
      "select action, target, count(*)::int as n from audit_events where target like 'steady-%' or target like 'quiet/steady-%' group by action, target",
    );
    for (const audit of audits) expect(audit.n).toBe(1);
    expect(audits.filter((audit) => audit.action === "org.create").length).toBe(orgs.length);
    expect(audits.filter((audit) => audit.action === "app.create").length).toBe(apps.length);
    // A repository for every application, and none for a creation the database rolled back.
    const allApps = await query<{ id: number }>("select id from applications");
    const repositories = (await readdir(path.join(dataDir, "repos"))).filter((name) => name.endsWith(".git"));
    expect(repositories.sort()).toEqual(allApps.map((row) => `${row.id}.git`).sort());

    // The announcements written before the outage went out after it, each once.
    await until(() => (announced.every((name) => postedTexts.some((text) => text.includes(`ops/${name}*`))) ? true : undefined), { what: "the announcements", timeoutMs: 30_000 });
    for (const name of announced) expect(postedTexts.filter((text) => text.includes(`ops/${name}*`))).toHaveLength(1);
    // Marked delivered too (Slack saw each post a moment before the outbox marked it).
    await until(async () => ((await query("select id from outbox where channel_id = $1 and delivered_at is null", [notificationChannel])).length === 0 ? true : undefined), {
      what: "the announcements to be marked delivered",
      timeoutMs: 10_000,
    });

    // Still the same process, and the next command works.
    expect(bot.child.exitCode).toBeNull();
    expect(await command("org create after-restart")).toContain("Created org *after-restart*");
    expect(await readiness()).toBe(200);

    // The outage was logged by the workers once each, not once a poll.
    const logs = logLines(bot.stderr());
    expect(logged(outboxPaused)).toBe(1);
    expect(logged("the database is back; the outbox goes on")).toBe(1);
    expect(logs.filter((line) => line.msg === "the database cannot be reached; the job queue pauses until it is back").length).toBeLessThanOrEqual(1);
    expect(logs.filter((line) => line.level === 50)).toEqual([]);
    expect(bot.stderr()).not.toContain("Unhandled");
  });
});
