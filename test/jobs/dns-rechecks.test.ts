import pino from "pino";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { recheckEnvironment } from "../../src/core/dns-rechecks.ts";
import { AlreadyDone } from "../../src/core/errors.ts";
import { goLive, recheckDelaySeconds } from "../../src/core/golive.ts";
import type { Recheck } from "../../src/core/platform.ts";
import { onceForRequest, type Platform } from "../../src/core/platform.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { recheckQueueName, startJobQueue, type JobQueue } from "../../src/jobs/queue.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.ts";
import { until as untilDone } from "../support/until.ts";
import { applicationId, buildApplication, buildOrg, buildUser, failure, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const suffix = "edge.test.net";

let server: TestDnsServer;
let dns: DnsVerifier;
let queue: JobQueue;
/** The platform as a command sees it: with the job queue to schedule re-checks on. */
let platform: Platform;
/** Every hostname's record; tests point theirs at the edge or elsewhere. */
const zone = new Map<string, ZoneRecord[]>();

function pointAt(hostname: string, where: "edge" | "elsewhere"): void {
  zone.set(
    hostname,
    where === "edge"
      ? [{ name: hostname, type: "CNAME", target: `${hostname}.${suffix}` }]
      : [{ name: hostname, type: "CNAME", target: "old.other-cdn.example" }],
  );
  server.replaceRecords([...zone.values()].flat().concat({ name: "old.other-cdn.example", type: "A", address: "203.0.113.5" }));
}

beforeAll(async () => {
  server = await startDnsServer({ records: [] });
  dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: [] });
  world.platform = { ...world.platform, dns };
  queue = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5 });
  platform = { ...world.platform, rechecks: queue.rechecks };
});

afterAll(async () => {
  await queue?.stop();
  dns?.close();
  await server?.close();
});

/** What the job queue does in its own time. */
const untilQueued = <T>(read: () => Promise<T | undefined>) => untilDone(read, { what: "the job queue", timeoutMs: 15_000 });

interface WaitingRecheck {
  data: Recheck;
  /** Seconds from when it was scheduled to when it is due. */
  delaySeconds: number;
  /** Re-checks someone waits for (1) come before the daily checks (0). */
  priority: number;
}

/** The re-checks of an environment waiting in the job queue. */
async function waitingRechecks(environmentId: number): Promise<WaitingRecheck[]> {
  const { rows } = await sql<{ data: Recheck; delay: number; priority: number }>`
    select data, extract(epoch from start_after - created_on)::float as delay, priority from pgboss.job
    where name = ${recheckQueueName} and singleton_key = ${`environment:${environmentId}`} and state = 'created'`.execute(world.platform.db);
  return rows.map((row) => ({ data: row.data, delaySeconds: Math.round(row.delay), priority: row.priority }));
}

/** Makes an environment's waiting re-check due now, as if its backoff had passed. */
async function makeDue(environmentId: number, data?: Partial<Recheck>): Promise<void> {
  const changed = data === undefined ? sql`data` : sql`data || ${JSON.stringify(data)}::jsonb`;
  await sql`update pgboss.job set start_after = now(), data = ${changed}
    where name = ${recheckQueueName} and singleton_key = ${`environment:${environmentId}`} and state = 'created'`.execute(world.platform.db);
}

async function productionOf(ref: string): Promise<number> {
  const row = await world.platform.db.selectFrom("environments").select("id").where("application_id", "=", await applicationId(world.platform, ref)).where("name", "=", "production").executeTakeFirstOrThrow();
  return row.id;
}

async function liveAt(environmentId: number): Promise<Date | null> {
  return (await world.platform.db.selectFrom("environments").select("live_at").where("id", "=", environmentId).executeTakeFirstOrThrow()).live_at;
}

async function recheckRows(hostname: string) {
  return world.platform.db.selectFrom("dns_checks").select(["verdict", "checked_by"]).where("hostname", "=", hostname).where("trigger", "=", "recheck").orderBy("id").execute();
}

async function announcements(kind: string, app: string) {
  const rows = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload", "actor_id"]).where("kind", "=", kind).orderBy("id").execute();
  return rows.filter((row) => (row.payload as { app: string }).app === app);
}

/** An application serving a new hostname, announced in channel `channel` unless it is null. */
async function application(channel: string | null): Promise<{ owner: TestUser; ref: string; hostname: string; environmentId: number }> {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const hostname = `${unique("www")}.rechecks.example`;
  const { ref } = await buildApplication(world.platform, owner, org, hostname);
  if (channel !== null) await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: channel, teamId: "T0TEST" });
  return { owner, ref, hostname, environmentId: await productionOf(ref) };
}

describe("background DNS re-checks on the job queue", () => {
  it("waits 1 minute, doubling each time, to at most an hour", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(recheckDelaySeconds)).toEqual([60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
  });

  it("re-checks an environment awaiting DNS with backoff and announces once when it goes live", async () => {
    const { owner, ref, hostname, environmentId } = await application("C0RECHECK");
    pointAt(hostname, "elsewhere");

    const first = await goLive(platform, { actor: owner, app: ref, env: "production" });
    expect(first).toMatchObject({ live: false, rechecking: true });
    expect(await waitingRechecks(environmentId)).toEqual([{ data: { environmentId, attempt: 1, since: expect.any(String), askedBy: owner.userId }, delaySeconds: 60, priority: 1 }]);
    // Asking again while a re-check waits keeps that one.
    await goLive(platform, { actor: owner, app: ref, env: "production" });
    expect(await waitingRechecks(environmentId)).toHaveLength(1);

    await makeDue(environmentId);
    await untilQueued(async () => ((await waitingRechecks(environmentId))[0]?.data.attempt === 2 ? true : undefined));
    expect(await recheckRows(hostname)).toEqual([{ verdict: "fails", checked_by: null }]);
    expect((await waitingRechecks(environmentId))[0]?.delaySeconds).toBe(120);
    expect(await liveAt(environmentId)).toBeNull();

    pointAt(hostname, "edge");
    await makeDue(environmentId);
    await untilQueued(async () => ((await liveAt(environmentId)) !== null ? true : undefined));
    expect(await recheckRows(hostname)).toEqual([
      { verdict: "fails", checked_by: null },
      { verdict: "passes", checked_by: null },
    ]);
    expect(await waitingRechecks(environmentId)).toEqual([]);
    const live = await announcements("env.live", ref);
    expect(live).toEqual([{ channel_id: "C0RECHECK", actor_id: null, payload: { app: ref, env: "production", hostnames: [hostname], background: true, actor: null } }]);
    const domain = await world.platform.db.selectFrom("domains").select("dns_status").where("hostname", "=", hostname).executeTakeFirstOrThrow();
    expect(domain.dns_status).toBe("passing");
    const audit = await world.platform.db.selectFrom("audit_events").select(["action", "actor_id"]).where("target", "=", `${ref} production`).where("action", "=", "env.live").execute();
    expect(audit).toEqual([{ action: "env.live", actor_id: null }]);
  });

  it("gives up 48 hours after the environment began waiting, and announces it", async () => {
    const { owner, ref, hostname, environmentId } = await application("C0GIVEUP");
    pointAt(hostname, "elsewhere");
    await goLive(platform, { actor: owner, app: ref, env: "production" });

    // Attempt 8 would wait an hour, and the 48 hours end in 30 minutes.
    const since = new Date(Date.now() - 47.5 * 3600_000).toISOString();
    await makeDue(environmentId, { attempt: 7, since });
    const gaveUp = await untilQueued(async () => (await announcements("golive.gave_up", ref))[0]);
    expect(gaveUp.channel_id).toBe("C0GIVEUP");
    expect(gaveUp.payload).toMatchObject({ env: "production", since, verdicts: [{ hostname, status: "fails" }] });
    expect(await waitingRechecks(environmentId)).toEqual([]);
    expect(await liveAt(environmentId)).toBeNull();
  });

  it("re-checks live environments daily and announces a regression, then waits for DNS again", async () => {
    const { owner, ref, hostname, environmentId } = await application("C0DAILY");
    pointAt(hostname, "edge");
    const result = await goLive(platform, { actor: owner, app: ref, env: "production" });
    expect(result).toMatchObject({ live: true, wentLive: true, rechecking: false });
    expect(await waitingRechecks(environmentId)).toEqual([]);

    // DNS still right: the daily check stores its check and announces nothing.
    await queue.runNow("dns-daily-recheck");
    await untilQueued(async () => ((await recheckRows(hostname)).length === 1 ? true : undefined));
    expect(await liveAt(environmentId)).not.toBeNull();
    expect(await announcements("env.regressed", ref)).toEqual([]);

    pointAt(hostname, "elsewhere");
    await queue.runNow("dns-daily-recheck");
    const regressed = await untilQueued(async () => (await announcements("env.regressed", ref))[0]);
    expect(regressed.channel_id).toBe("C0DAILY");
    expect(regressed.payload).toMatchObject({ env: "production", background: true, verdicts: [{ hostname, status: "fails", recordToCreate: `CNAME ${hostname} → ${hostname}.${suffix}` }] });
    expect(await liveAt(environmentId)).toBeNull();
    expect(await waitingRechecks(environmentId)).toMatchObject([{ data: { attempt: 1 }, delaySeconds: 60 }]);
    expect(await announcements("env.live", ref)).toHaveLength(1);
  });

  it("takes a live environment out of live when golive finds a domain failing, announcing it once, and re-checks it", async () => {
    const { owner, ref, hostname, environmentId } = await application("C0MANUAL");
    pointAt(hostname, "edge");
    await goLive(platform, { actor: owner, app: ref, env: "production" });
    pointAt(hostname, "elsewhere");
    expect(await goLive(platform, { actor: owner, app: ref, env: "production" })).toMatchObject({ live: false, regressed: true, rechecking: true });
    expect(await goLive(platform, { actor: owner, app: ref, env: "production" })).toMatchObject({ live: false, regressed: false });
    expect(await liveAt(environmentId)).toBeNull();
    const regressions = await announcements("env.regressed", ref);
    expect(regressions).toEqual([{ channel_id: "C0MANUAL", actor_id: owner.userId, payload: expect.objectContaining({ background: false, actor: { name: owner.displayName, email: owner.email } }) }]);
    expect(await waitingRechecks(environmentId)).toMatchObject([{ data: { attempt: 1, askedBy: owner.userId } }]);
  });

  it("tells the person who asked directly when neither the application nor the org has a channel", async () => {
    const { owner, ref, hostname, environmentId } = await application(null);
    pointAt(hostname, "elsewhere");
    expect(await goLive(platform, { actor: owner, app: ref, env: "production" })).toMatchObject({ posted: undefined, rechecking: true });
    pointAt(hostname, "edge");
    await makeDue(environmentId);
    const told = await untilQueued(async () => (await announcements("env.live", ref))[0]);
    expect(told.channel_id).toBe(`U${owner.displayName.toUpperCase()}`);
  });

  it("fails a job whose payload is malformed without checking anything", async () => {
    const checksBefore = (await world.platform.db.selectFrom("dns_checks").select("id").execute()).length;
    await sql`insert into pgboss.job (name, data, singleton_key, policy, retry_limit) values
      (${recheckQueueName}, ${JSON.stringify({ environmentId: "1; drop table domains", attempt: 1 })}::jsonb, 'malformed', 'stately', 0)`.execute(world.platform.db);
    const state = await untilQueued(async () => {
      const { rows } = await sql<{ state: string }>`select state from pgboss.job where singleton_key = 'malformed'`.execute(world.platform.db);
      return rows[0]?.state === "failed" ? rows[0].state : undefined;
    });
    expect(state).toBe("failed");
    expect((await world.platform.db.selectFrom("dns_checks").select("id").execute()).length).toBe(checksBefore);
  });

  it("takes effect once when the same job runs twice", async () => {
    const { ref, hostname, environmentId } = await application("C0TWICE");
    pointAt(hostname, "edge");
    const recheck: Recheck = { environmentId, attempt: 1, since: new Date().toISOString(), askedBy: null };
    const once = onceForRequest(platform, `job:${unique("twice")}`);
    expect(await recheckEnvironment(once, recheck)).toEqual({ kind: "live", wentLive: true });
    expect(await failure(recheckEnvironment(once, recheck))).toBeInstanceOf(AlreadyDone);
    expect(await recheckRows(hostname)).toHaveLength(1);
    expect(await announcements("env.live", ref)).toHaveLength(1);
  });

  it("does nothing for an environment deleted while its re-check waited", async () => {
    const recheck: Recheck = { environmentId: 987_654, attempt: 3, since: new Date().toISOString(), askedBy: null };
    expect(await recheckEnvironment(platform, recheck)).toEqual({ kind: "gone" });
  });
});
