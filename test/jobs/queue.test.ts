import { sql } from "kysely";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inviteMember } from "../../src/core/invitations.ts";
import { requestMove } from "../../src/core/moves.ts";
import { scheduledJobs, sqlThroughPool, startJobQueue, type JobQueue } from "../../src/jobs/queue.ts";
import { until } from "../support/until.ts";
import { addMember, buildApplication, buildOrg, buildUser, unique, useWorld } from "../support/world.ts";

const world = useWorld();
let queue: JobQueue;

beforeAll(async () => {
  queue = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5 });
});

afterAll(async () => {
  await queue?.stop();
});

describe("the job queue", () => {
  it("rolls back a statement block of pg-boss's that fails, so no pooled connection is left in an aborted transaction", async () => {
    const runner = sqlThroughPool(world.platform.db);
    // Like pg-boss's locked maintenance commands: BEGIN, a statement that fails, COMMIT never reached.
    await expect(runner.executeSql("BEGIN; SELECT 1 / 0; COMMIT;")).rejects.toThrow(/division by zero/);
    // Enough at once to take every connection of the pool, the one that ran the block included.
    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => runner.executeSql(`SELECT ${index} AS n, pg_sleep(0.01)`)));
    expect(answers.map(({ rows }) => (rows[0] as { n: number }).n)).toEqual(Array.from({ length: 30 }, (_, index) => index));
    expect((await sql<{ n: number }>`select 1 as n`.execute(world.platform.db)).rows).toEqual([{ n: 1 }]);
  });

  it("schedules the invitation sweep every minute, in UTC", async () => {
    const rows = await world.platform.db.selectFrom("pgboss.schedule" as never).selectAll().execute();
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(rows.map((row) => ({ name: (row as { name: string }).name, cron: (row as { cron: string }).cron, timezone: (row as { timezone: string }).timezone })).sort(byName)).toEqual(
      Object.entries(scheduledJobs).map(([name, cron]) => ({ name, cron, timezone: "UTC" })).sort(byName),
    );
  });

  it("puts back at a later start a schedule changed or removed since, as the code gives it", async () => {
    await sql`update pgboss.schedule set cron = '*/5 * * * *' where name = 'invitations-expire'`.execute(world.platform.db);
    await sql`delete from pgboss.schedule where name = 'dns-daily-recheck'`.execute(world.platform.db);
    const later = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5 });
    await later.stop();
    const { rows } = await sql<{ name: string; cron: string; timezone: string }>`select name, cron, timezone from pgboss.schedule order by name`.execute(world.platform.db);
    expect(rows).toEqual(Object.entries(scheduledJobs).map(([name, cron]) => ({ name, cron, timezone: "UTC" })).sort((a, b) => a.name.localeCompare(b.name)));
  });

  it("expires late invitations and writes the edits of their request messages when the sweep runs", async () => {
    const owner = await buildUser(world.platform);
    const developer = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    await addMember(world.platform, org, developer, "developer");
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("late")}@client.example` } });
    const fresh = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("fresh")}@client.example` } });
    await world.platform.db.updateTable("invitations").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", request.invitation.id).execute();

    await queue.runNow("invitations-expire");
    const swept = await until(async () => {
      const row = await world.platform.db.selectFrom("invitations").select("status").where("id", "=", request.invitation.id).executeTakeFirstOrThrow();
      return row.status === "expired" ? row : undefined;
    }, { what: "the invitation sweep", timeoutMs: 10_000 });
    expect(swept.status).toBe("expired");
    const untouched = await world.platform.db.selectFrom("invitations").select("status").where("id", "=", fresh.invitation.id).executeTakeFirstOrThrow();
    expect(untouched.status).toBe("pending");
    // The request went to the owner directly (no org channel): its one copy gets one edit.
    const edits = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "invitation.settled").execute();
    expect(edits.filter((row) => (row.payload as { invitation: number }).invitation === request.invitation.id)).toHaveLength(1);
  });

  it("expires application moves 48 hours old in the same sweep, editing their request messages", async () => {
    const agencyAdmin = await buildUser(world.platform);
    const clientOwner = await buildUser(world.platform);
    const agency = await buildOrg(world.platform, agencyAdmin);
    const client = await buildOrg(world.platform, clientOwner);
    await addMember(world.platform, client, agencyAdmin, "viewer");
    const { ref } = await buildApplication(world.platform, agencyAdmin, agency);
    const outcome = await requestMove(world.platform, { actor: agencyAdmin, app: ref, to: client });
    if (outcome.kind !== "requested") throw new Error(`expected a request, got ${outcome.kind}`);
    await world.platform.db.updateTable("application_moves").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", outcome.move.id).execute();

    await queue.runNow("invitations-expire");
    const swept = await until(async () => {
      const row = await world.platform.db.selectFrom("application_moves").select("status").where("id", "=", outcome.move.id).executeTakeFirstOrThrow();
      return row.status === "expired" ? row : undefined;
    }, { what: "the move sweep", timeoutMs: 10_000 });
    expect(swept.status).toBe("expired");
    const edits = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "app.move_settled").execute();
    expect(edits.filter((row) => (row.payload as { move: number }).move === outcome.move.id)).toHaveLength(1);
  });
});
