import { sql } from "kysely";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { notify, outboxChannel } from "../../src/core/notifications.ts";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { until } from "../support/until.ts";
import { buildOrg, buildUser, unique, useWorld } from "../support/world.ts";

const world = useWorld();

/** LISTENs on the outbox's channel and keeps every payload, in the order they came. */
async function listenWithPayloads(): Promise<{ payloads: string[]; stop: () => Promise<void> }> {
  const payloads: string[] = [];
  if (world.database.url) {
    const client = new pg.Client({ connectionString: world.database.url });
    await client.connect();
    client.on("notification", (message) => {
      if (message.channel === outboxChannel) payloads.push(message.payload ?? "");
    });
    await client.query(`listen ${outboxChannel}`);
    return { payloads, stop: () => client.end() };
  }
  const unlisten = await world.database.pglite!.listen(outboxChannel, (payload) => payloads.push(payload));
  return { payloads, stop: unlisten };
}

/** An org of its own, with or without a channel for its notifications. */
async function org(channelId?: string): Promise<{ owner: Awaited<ReturnType<typeof buildUser>>; orgId: number }> {
  const owner = await buildUser(world.platform);
  const slug = await buildOrg(world.platform, owner);
  if (channelId) await setOrgChannel(world.platform, { actor: owner, org: slug, channelId, teamId: "T0TEST" });
  const { id } = await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", slug).executeTakeFirstOrThrow();
  return { owner, orgId: id };
}

describe("the outbox wake-up (migrations 0014 and 0015)", () => {
  it("is not sent by an insert that writes no row, and is sent once by one that writes rows", async () => {
    const quiet = await org();
    const loud = await org(`C${unique("WAKE").toUpperCase()}`);
    const listener = await listenWithPayloads();
    try {
      // Two statements that write nothing: a notification for an org without a channel, and a plain empty insert.
      await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id: quiet.orgId }, actor: quiet.owner, kind: "domain.added", payload: { app: "studio/www", env: "production", hostname: "nowhere.example.com" } }));
      await sql`insert into outbox (org_id, kind, channel_id, team_id, payload) select org_id, kind, channel_id, team_id, payload from outbox where false`.execute(world.platform.db);
      // Notifications reach a listener in the order their transactions committed: once this one is
      // in, anything the two empty inserts had sent would be in before it.
      await sql`select pg_notify(${outboxChannel}, 'marker')`.execute(world.platform.db);
      await until(() => listener.payloads.includes("marker"), { what: "the marker notification", timeoutMs: 10_000, everyMs: 10 });
      expect(listener.payloads).toEqual(["marker"]);

      // A notification that is written wakes the listener, once for its statement.
      await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id: loud.orgId }, actor: loud.owner, kind: "domain.added", payload: { app: "studio/www", env: "production", hostname: "somewhere.example.com" } }));
      await sql`select pg_notify(${outboxChannel}, 'second marker')`.execute(world.platform.db);
      await until(() => listener.payloads.includes("second marker"), { what: "the second marker notification", timeoutMs: 10_000, everyMs: 10 });
      expect(listener.payloads).toEqual(["marker", "", "second marker"]);
      expect(await world.platform.db.selectFrom("outbox").select("id").where("org_id", "=", loud.orgId).execute()).toHaveLength(1);
    } finally {
      await listener.stop();
    }
  });

  it("wakes a worker listening through the database handle when a row is written", async () => {
    const loud = await org(`C${unique("WAKE").toUpperCase()}`);
    let woken = 0;
    const unlisten = await world.database.listen(outboxChannel, () => (woken += 1));
    try {
      // On a server the handle wakes its worker once when it starts listening (for what was written while away).
      if (world.database.url) await until(() => woken === 1, { what: "the wake-up at the start of listening", timeoutMs: 10_000, everyMs: 10 });
      const before = woken;
      await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id: loud.orgId }, actor: loud.owner, kind: "domain.added", payload: { app: "studio/www", env: "production", hostname: "woken.example.com" } }));
      await until(() => woken > before, { what: "the wake-up of the written row", timeoutMs: 10_000, everyMs: 10 });
    } finally {
      await unlisten();
    }
  });
});
