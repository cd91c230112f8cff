import { describe, expect, it } from "vitest";
import { FakeSlack } from "../../support/fake-slack.ts";
import { openTestDatabase } from "../../support/database.ts";
import { signedRequest, slashCommandBody, startSlackApp, useSlackApp } from "../../support/slack-app.ts";
import { Migrator } from "kysely";
import { migrateToLatest, migrations } from "../../../src/db/migrate.ts";
import { Repositories } from "../../../src/repos/repositories.ts";

const bed = useSlackApp();

async function orgCount(): Promise<number> {
  const row = await bed.world.platform.db.selectFrom("orgs").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("the Slack app's HTTP server", () => {
  it("answers /healthz with 200 while the process is alive", async () => {
    const response = await fetch(`${bed.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it("stays alive on /healthz when the database is gone, while /readyz says it is not ready", async () => {
    const database = await openTestDatabase();
    const fake = await new FakeSlack().start();
    const { slack, url } = await startSlackApp({ db: database.db, repositories: new Repositories("/nonexistent") }, fake);
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await database.close();
      const alive = await fetch(`${url}/healthz`);
      expect([alive.status, await alive.json()]).toEqual([200, { ok: true }]);
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([503, { ok: false, error: "database unavailable" }]);
    } finally {
      await slack.stop();
      await fake.stop();
    }
  });

  it("answers /readyz with 200 only while the database answers and has run every migration", async () => {
    const database = await openTestDatabase();
    const fake = await new FakeSlack().start();
    const { slack, url } = await startSlackApp({ db: database.db, repositories: new Repositories("/nonexistent") }, fake);
    try {
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { ok: true }]);

      const newest = Object.keys(migrations).at(-1)!;
      await new Migrator({ db: database.db, provider: { getMigrations: async () => migrations } }).migrateDown();
      const behind = await fetch(`${url}/readyz`);
      expect([behind.status, await behind.json()]).toEqual([503, { ok: false, error: `migrations not run: ${newest}` }]);
      // Alive all the same: only readiness depends on the schema.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      await migrateToLatest(database.db);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await database.close();
      const gone = await fetch(`${url}/readyz`);
      expect([gone.status, await gone.json()]).toEqual([503, { ok: false, error: "database unavailable" }]);
    } finally {
      await slack.stop();
      await fake.stop();
    }
  });

  it("refuses a request with a bad signature and runs nothing", async () => {
    bed.fake.addUser({ id: "UFORGER", teamId: "T0TEST", email: "forger@example.com", name: "forger" });
    const { body, responseId } = slashCommandBody(bed.fake, { text: "org create forged", userId: "UFORGER" });
    const response = await signedRequest(bed.url, body, { secret: "not-the-signing-secret" });
    expect(response.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bed.fake.responses.get(responseId)).toBeUndefined();
    expect(bed.fake.callsOf("users.info")).toHaveLength(0);
    expect(await orgCount()).toBe(0);
  });

  it("refuses a request signed more than five minutes ago and runs nothing", async () => {
    const { body, responseId } = slashCommandBody(bed.fake, { text: "org create stale", userId: "UFORGER" });
    const response = await signedRequest(bed.url, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(response.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bed.fake.responses.get(responseId)).toBeUndefined();
    expect(bed.fake.callsOf("users.info")).toHaveLength(0);
    expect(await orgCount()).toBe(0);
  });

  it("refuses an unsigned request", async () => {
    const { body } = slashCommandBody(bed.fake, { text: "help", userId: "UFORGER" });
    const response = await fetch(`${bed.url}/slack/events`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(response.status).toBe(401);
  });

  it("makes every Web API call through SLACK_API_URL with the bot token", async () => {
    // Bolt checks its token with auth.test at start; it reached the fake, not slack.com.
    const authTest = await bed.fake.waitFor(() => bed.fake.callsOf("auth.test")[0]);
    expect(authTest.token).toBe("xoxb-test-bot-token");
  });
});
