import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/connect.ts";
import { openTestDatabase } from "../support/database.ts";
import { logLines, startEdgebot, type EdgebotProcess } from "../support/edgebot-process.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../support/slack-app.ts";
import { until } from "../support/until.ts";

// The bot's connections carry this name, so the test terminates theirs and nobody else's.
const applicationName = "edgebot-terminated-test";

/**
 * Runs on both databases of the suite: a fresh database on TEST_DATABASE_URL's server when it
 * is set, else a Postgres server of the test's own (the embedded database has no connections to drop).
 */
describe("Postgres terminates every connection of the bot", { timeout: 90_000 }, () => {
  const fake = new FakeSlack();
  let server: PostgresServer | undefined;
  let database: DatabaseHandle | undefined;
  let admin: pg.Client;
  let dataDir: string;
  let bot: EdgebotProcess;
  let url: string;

  beforeAll(async () => {
    await fake.start();
    fake.addUser({ id: "UTERM", teamId: "T0TEST", email: "term@example.com", name: "term" });
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-terminated-"));
    let databaseUrl: string;
    if (process.env.TEST_DATABASE_URL) {
      database = await openTestDatabase();
      databaseUrl = database.url!;
    } else {
      server = await PostgresServer.start();
      databaseUrl = server.url();
    }
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    bot = startEdgebot({
      DATABASE_URL: databaseUrl,
      PGAPPNAME: applicationName,
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
    await admin?.end();
    await database?.close();
    await server?.destroy();
    await fake.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const command = async (text: string): Promise<string> => {
    const { body, responseId } = slashCommandBody(fake, { text, userId: "UTERM" });
    expect((await signedRequest(url, body)).status).toBe(200);
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0], 15_000);
    return String(answer.text);
  };

  it("survives, and the next command works on new connections", async () => {
    // Several at once, so the pool holds several connections.
    const answers = await Promise.all(["org create term-a", "org create term-b", "org create term-c"].map(command));
    for (const answer of answers) expect(answer).toContain("Created org");

    // Once the Home tab refreshes that follow the commands are done, the connections sit idle in the pool.
    const backends = () => admin.query<{ pid: number; state: string | null }>("select pid, state from pg_stat_activity where application_name = $1", [applicationName]);
    await until(async () => ((await backends()).rows.every((row) => row.state === "idle") ? true : undefined), { what: "the bot's connections to be idle", timeoutMs: 10_000 });

    const terminated = await admin.query<{ pid: number }>("select pid, pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [applicationName]);
    expect(terminated.rows.length).toBeGreaterThan(0);
    const pids = terminated.rows.map((row) => row.pid);
    await until(async () => ((await admin.query("select 1 from pg_stat_activity where pid = any($1)", [pids])).rowCount === 0 ? true : undefined), { what: "the terminated backends to end", timeoutMs: 10_000 });

    // The very next command works: the broken connections were dropped, not handed out.
    const after = await command("org create term-after");
    // Should it fail, its reference leads to its log lines, which say why.
    const reference = /\(reference ([0-9a-f]{6})\)/.exec(after)?.[1];
    const why = logLines(bot.stderr()).filter((line) => line.reqId === reference).map((line) => JSON.stringify(line)).join("\n");
    expect(after, why).toContain("Created org *term-after*");
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await backends()).rows.filter((row) => !pids.includes(row.pid)).length).toBeGreaterThan(0);
    const orgs = await admin.query<{ slug: string }>("select slug from orgs where slug like 'term-%' order by slug");
    expect(orgs.rows.map((row) => row.slug)).toEqual(["term-a", "term-after", "term-b", "term-c"]);
    expect(bot.child.exitCode).toBeNull();
    expect(bot.stderr()).not.toContain("Unhandled");
  });
});
