import pino from "pino";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { claimHostname, recheckClaim } from "../../src/core/claims.ts";
import { deleteEnvironment, createEnvironment } from "../../src/core/environments.ts";
import { AlreadyDone } from "../../src/core/errors.ts";
import type { ClaimRecheck } from "../../src/core/platform.ts";
import { onceForRequest, type Platform } from "../../src/core/platform.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { recheckQueueName, startJobQueue, type JobQueue } from "../../src/jobs/queue.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.ts";
import { until } from "../support/until.ts";
import { buildApplication, buildOrg, buildUser, failure, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

let server: TestDnsServer;
let dns: DnsVerifier;
let queue: JobQueue;
/** The platform as a command sees it: with the job queue to schedule looks on. */
let platform: Platform;
const zone = new Map<string, ZoneRecord[]>();

/** Publishes (or with null, removes) the TXT record at a hostname's challenge name. */
function publish(hostname: string, text: string | null): void {
  const name = `_edgebot-challenge.${hostname}`;
  zone.set(name, text === null ? [] : [{ name, type: "TXT", text }]);
  server.replaceRecords([...zone.values()].flat());
}

beforeAll(async () => {
  server = await startDnsServer({ records: [] });
  dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: "edge.test.net", edgeIpv4: [] });
  world.platform = { ...world.platform, dns };
  queue = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5 });
  platform = { ...world.platform, rechecks: queue.rechecks };
});

afterAll(async () => {
  await queue?.stop();
  dns?.close();
  await server?.close();
});

const untilQueued = <T>(read: () => Promise<T | undefined>) => until(read, { what: "the job queue", timeoutMs: 15_000 });

/** The looks for a claim waiting in the job queue. */
async function waitingLooks(claimId: number) {
  const { rows } = await sql<{ data: ClaimRecheck; delay: number; priority: number }>`
    select data, extract(epoch from start_after - created_on)::float as delay, priority from pgboss.job
    where name = ${recheckQueueName} and singleton_key = ${`claim:${claimId}`} and state = 'created'`.execute(world.platform.db);
  return rows.map((row) => ({ data: row.data, delaySeconds: Math.round(row.delay), priority: row.priority }));
}

/** Makes a claim's waiting look due now, as if its backoff had passed. */
async function makeDue(claimId: number, data?: Partial<ClaimRecheck>): Promise<void> {
  const changed = data === undefined ? sql`data` : sql`data || ${JSON.stringify(data)}::jsonb`;
  await sql`update pgboss.job set start_after = now(), data = ${changed}
    where name = ${recheckQueueName} and singleton_key = ${`claim:${claimId}`} and state = 'created'`.execute(world.platform.db);
}

async function holderOf(hostname: string): Promise<string | undefined> {
  const row = await world.platform.db
    .selectFrom("domains as d")
    .innerJoin("environments as e", "e.id", "d.environment_id")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select(["o.slug", "a.slug as app", "e.name"])
    .where("d.hostname", "=", hostname)
    .executeTakeFirst();
  return row && `${row.slug}/${row.app} ${row.name}`;
}

async function outbox(kind: string, hostname: string) {
  const rows = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload"]).where("kind", "=", kind).orderBy("id").execute();
  return rows.filter((row) => row.payload.hostname === hostname);
}

/** A hostname held by one org (with channel `holderChannel`), claimed by another's production. */
async function claimed(holderChannel: string | null): Promise<{ owner: TestUser; ref: string; hostname: string; claimId: number; token: string; holderRef: string }> {
  const holder = await buildUser(world.platform);
  const holderOrg = await buildOrg(world.platform, holder);
  if (holderChannel !== null) await setOrgChannel(world.platform, { actor: holder, org: holderOrg, channelId: holderChannel, teamId: "T0TEST" });
  const hostname = `${unique("www")}.claims.test`;
  const { ref: holderRef } = await buildApplication(world.platform, holder, holderOrg, hostname);
  const owner = await buildUser(world.platform);
  const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner));
  const result = await claimHostname(platform, { actor: owner, app: ref, env: "production", hostname });
  if (result.status !== "waiting") throw new Error("a new claim waits for its record");
  expect(result.rechecking).toBe(true);
  const row = await world.platform.db.selectFrom("hostname_claims").select("id").where("token", "=", result.record.value).executeTakeFirstOrThrow();
  return { owner, ref, hostname, claimId: row.id, token: result.record.value, holderRef };
}

describe("background looks for a claim's TXT record, on the go-live re-check queue", () => {
  it("looks with backoff until the record appears, then moves the hostname and announces it to both orgs", async () => {
    const { owner, ref, hostname, claimId, token, holderRef } = await claimed("C0HOLDER");
    expect(await waitingLooks(claimId)).toEqual([{ data: { claimId, attempt: 1, since: expect.any(String), askedBy: owner.userId }, delaySeconds: 60, priority: 1 }]);
    // Asking again while a look waits keeps that one.
    await claimHostname(platform, { actor: owner, app: ref, env: "production", hostname });
    expect(await waitingLooks(claimId)).toHaveLength(1);

    // Not published yet: the next look waits twice as long.
    await makeDue(claimId);
    await untilQueued(async () => ((await waitingLooks(claimId))[0]?.data.attempt === 2 ? true : undefined));
    expect((await waitingLooks(claimId))[0]?.delaySeconds).toBe(120);
    expect(await holderOf(hostname)).toBe(`${holderRef} production`);

    publish(hostname, token);
    await makeDue(claimId);
    await untilQueued(async () => ((await holderOf(hostname)) === `${ref} production` ? true : undefined));
    expect(await waitingLooks(claimId)).toEqual([]);
    // The claimant's org has no channel: whoever claimed is told directly.
    expect(await outbox("domain.claimed", hostname)).toEqual([
      { channel_id: `U${owner.displayName.toUpperCase()}`, payload: { app: ref, env: "production", hostname, background: true, actor: null } },
    ]);
    expect(await outbox("domain.claimed_away", hostname)).toEqual([{ channel_id: "C0HOLDER", payload: expect.objectContaining({ app: holderRef, hostname, domainsLeft: 0, live: false }) }]);
    const audits = await world.platform.db.selectFrom("audit_events").select(["org_slug", "action", "actor_id"]).where("target", "=", hostname).orderBy("id").execute();
    expect(audits).toEqual([
      { org_slug: ref.split("/")[0], action: "domain.claim", actor_id: owner.userId },
      { org_slug: holderRef.split("/")[0], action: "domain.claimed_away", actor_id: null },
      { org_slug: ref.split("/")[0], action: "domain.claimed", actor_id: null },
    ]);
  });

  it("gives up 48 hours after the claim was made, announces the record still to create, and starts again when asked", async () => {
    const { owner, ref, hostname, claimId, token } = await claimed(null);
    publish(hostname, "edgebot-claim-someone-else");
    const since = new Date(Date.now() - 47.5 * 3600_000).toISOString();
    await makeDue(claimId, { attempt: 7, since });
    const gaveUp = await untilQueued(async () => (await outbox("claim.gave_up", hostname))[0]);
    expect(gaveUp).toEqual({
      channel_id: `U${owner.displayName.toUpperCase()}`,
      payload: { app: ref, env: "production", hostname, recordName: `_edgebot-challenge.${hostname}`, token, since, actor: null },
    });
    expect(await waitingLooks(claimId)).toEqual([]);
    const audit = await world.platform.db.selectFrom("audit_events").select(["action", "actor_id"]).where("target", "=", hostname).where("action", "=", "domain.claim_gave_up").execute();
    expect(audit).toEqual([{ action: "domain.claim_gave_up", actor_id: null }]);

    // The claim stays open: asking again shows the same record and looks again.
    const again = await claimHostname(platform, { actor: owner, app: ref, env: "production", hostname });
    expect(again).toMatchObject({ status: "waiting", record: { value: token }, verdict: { status: "missing", found: ["edgebot-claim-someone-else"] } });
    expect(await waitingLooks(claimId)).toMatchObject([{ data: { attempt: 1 } }]);
  });

  it("takes effect once when the same job runs twice", async () => {
    const { hostname, claimId, token, ref } = await claimed(null);
    publish(hostname, token);
    const look: ClaimRecheck = { claimId, attempt: 1, since: new Date().toISOString(), askedBy: null };
    const once = onceForRequest(platform, `job:${unique("twice")}`);
    expect(await recheckClaim(once, look)).toEqual({ kind: "claimed" });
    // Run again: the claim is closed, and had it not been, the job's key would refuse the change.
    expect(await recheckClaim(once, look)).toEqual({ kind: "gone" });
    await world.platform.db.updateTable("hostname_claims").set({ status: "open" }).where("id", "=", claimId).execute();
    expect(await failure(recheckClaim(once, look))).toBeInstanceOf(AlreadyDone);
    await world.platform.db.updateTable("hostname_claims").set({ status: "claimed" }).where("id", "=", claimId).execute();
    expect(await holderOf(hostname)).toBe(`${ref} production`);
    expect(await outbox("domain.claimed_away", hostname)).toHaveLength(1);
  });

  it("does nothing for a claim whose environment was deleted while its look waited", async () => {
    const holder = await buildUser(world.platform);
    const hostname = `${unique("www")}.claims.test`;
    const { ref: holderRef } = await buildApplication(world.platform, holder, await buildOrg(world.platform, holder), hostname);
    const owner = await buildUser(world.platform);
    const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner));
    await createEnvironment(platform, { actor: owner, app: ref, env: "staging" });
    const result = await claimHostname(platform, { actor: owner, app: ref, env: "staging", hostname });
    if (result.status !== "waiting") throw new Error("a new claim waits for its record");
    const { id: claimId } = await world.platform.db.selectFrom("hostname_claims").select("id").where("token", "=", result.record.value).executeTakeFirstOrThrow();
    await deleteEnvironment(platform, { actor: owner, app: ref, env: "staging", confirm: "staging" });
    publish(hostname, result.record.value);
    expect(await recheckClaim(platform, { claimId, attempt: 1, since: new Date().toISOString(), askedBy: null })).toEqual({ kind: "gone" });
    expect(await holderOf(hostname)).toBe(`${holderRef} production`);
  });
});
