import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { plainText } from "../../src/bot/shell.ts";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { claimHostname } from "../../src/core/claims.ts";
import { listDomains } from "../../src/core/domains.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../../src/core/errors.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.ts";
import { addMember, buildApplication, buildOrg, buildUser, failure, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });
const suffix = "edge.test.net";

let server: TestDnsServer;
let dns: DnsVerifier;
/** Every name's records; a test changes its own, as a client editing their zone does. */
const zone = new Map<string, ZoneRecord[]>();

function setRecords(name: string, records: ZoneRecord[]): void {
  zone.set(name, records);
  server.replaceRecords([...zone.values()].flat());
}

beforeAll(async () => {
  server = await startDnsServer({ records: [], serverFailure: ["_edgebot-challenge.www.broken-dns.test"] });
  dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 300, dnsConcurrency: 10, edgeCnameSuffix: suffix, edgeIpv4: [] });
  world.platform = { ...world.platform, dns };
});
afterAll(async () => {
  dns?.close();
  await server?.close();
});

async function run(actor: TestUser, line: string) {
  const outcome = await runCommandLine({ platform: world.platform, actor, teamId: "T0TEST" }, line, { slashCommand: "/edge", logger });
  return { text: plainText(outcome.message), error: outcome.message.error === true };
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

async function liveAt(ref: string, env: string): Promise<Date | null> {
  const [org, app] = ref.split("/");
  const row = await world.platform.db
    .selectFrom("environments as e")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select("e.live_at")
    .where("o.slug", "=", org!)
    .where("a.slug", "=", app!)
    .where("e.name", "=", env)
    .executeTakeFirstOrThrow();
  return row.live_at;
}

async function auditOf(org: string, hostname: string) {
  return world.platform.db.selectFrom("audit_events").select(["action", "actor_id", "details"]).where("org_slug", "=", org).where("target", "=", hostname).orderBy("id").execute();
}

async function claimRows(hostname: string) {
  return world.platform.db.selectFrom("hostname_claims").select(["org_id", "token", "status", "last_verdict"]).where("hostname", "=", hostname).orderBy("id").execute();
}

/** The token a claim answer shows, read from its Value line. */
function shownToken(text: string): string {
  const match = /Value: `(edgebot-claim-[0-9a-f]{32})`/.exec(text);
  if (!match) throw new Error(`no token in: ${text}`);
  return match[1]!;
}

describe("hostname ownership by DNS proof (domain claim)", () => {
  it("a squatter holds www.x.test and is live; the real owner publishes the TXT record and takes it back", async () => {
    const hostname = `${unique("www")}.x.test`;
    // The squatter reserves the hostname, points it at the edge and goes live.
    const squatter = await buildUser(world.platform);
    const squatterAdmin = await buildUser(world.platform);
    const squatOrg = unique("squat");
    expect((await run(squatter, `app create ${hostname} --new-org ${squatOrg}`)).error).toBe(false);
    await addMember(world.platform, squatOrg, squatterAdmin, "admin");
    const squatRef = `${squatOrg}/${(await listDomainsOf(squatter, squatOrg))!}`;
    setRecords(hostname, [{ name: hostname, type: "CNAME", target: `${hostname}.${suffix}` }]);
    expect((await run(squatter, `golive ${squatRef} production`)).text).toContain("is live");
    expect(await liveAt(squatRef, "production")).toBeInstanceOf(Date);

    // The real owner is told how to claim it, and not who holds it.
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org, `${unique("real")}.x.test`);
    const refused = await run(owner, `domain add ${ref} production ${hostname}`);
    expect(refused.text).toContain(`${hostname} is already served by another application on the platform`);
    expect(refused.text).toContain(`domain claim ${ref} production ${hostname}`);
    expect(refused.text).not.toContain(squatOrg);

    // The claim shows the record to create; asked again, the same record.
    const first = await run(owner, `domain claim ${ref} production ${hostname}`);
    expect(first.error).toBe(false);
    expect(first.text).toContain("Type: `TXT`");
    expect(first.text).toContain(`Name: \`_edgebot-challenge.${hostname}\``);
    const token = shownToken(first.text);
    expect(first.text).not.toContain(squatOrg);
    const again = await run(owner, `domain claim ${ref} production ${hostname}`);
    expect(shownToken(again.text)).toBe(token);
    expect(again.text).toContain(`_edgebot-challenge.${hostname}\` has no TXT record`);
    expect(await claimRows(hostname)).toEqual([{ org_id: expect.any(Number), token, status: "open", last_verdict: "missing" }]);
    expect((await auditOf(org, hostname)).map((event) => event.action)).toEqual(["domain.claim"]);
    // Its members see the claim waiting, with its record; the squatter sees nothing of it.
    const waiting = await run(owner, `domain list ${ref}`);
    expect(waiting.text).toContain("Claimed, waiting for DNS (1): each moves here once its TXT record is published.");
    expect(waiting.text).toContain(`${hostname} · production — TXT \`_edgebot-challenge.${hostname}\` = \`${token}\` (not there at the last look)`);
    expect((await run(squatter, `domain list ${squatRef}`)).text).not.toContain("Claimed");

    // A record with another value moves nothing.
    setRecords(`_edgebot-challenge.${hostname}`, [{ name: `_edgebot-challenge.${hostname}`, type: "TXT", text: "edgebot-claim-0000000000000000000000000000dead" }]);
    const wrong = await run(owner, `domain claim ${ref} production ${hostname}`);
    expect(wrong.text).toContain("holds `edgebot-claim-0000000000000000000000000000dead`, not this value");
    expect(await holderOf(hostname)).toBe(`${squatRef} production`);

    // The right value: the hostname moves, though it was live elsewhere.
    setRecords(`_edgebot-challenge.${hostname}`, [{ name: `_edgebot-challenge.${hostname}`, type: "TXT", text: token }]);
    const outboxBefore = await world.platform.db.selectFrom("outbox").select("id").orderBy("id", "desc").limit(1).executeTakeFirst();
    const claimed = await run(owner, `domain claim ${ref} production ${hostname}`);
    expect(claimed.error).toBe(false);
    expect(claimed.text).toContain(`${hostname} now belongs to ${ref} production`);
    expect(await holderOf(hostname)).toBe(`${ref} production`);
    expect(await claimRows(hostname)).toEqual([{ org_id: expect.any(Number), token, status: "claimed", last_verdict: "found" }]);

    // Audited in both orgs; the squatter's record does not name who took it.
    expect(await auditOf(org, hostname)).toEqual([
      { action: "domain.claim", actor_id: owner.userId, details: expect.anything() },
      { action: "domain.claimed", actor_id: owner.userId, details: { app: ref, env: "production", proof: `TXT _edgebot-challenge.${hostname}`, from: "another org", trigger: "command" } },
    ]);
    const lost = await auditOf(squatOrg, hostname);
    expect(lost).toEqual([{ action: "domain.claimed_away", actor_id: null, details: { app: squatRef, env: "production", hostname, proof: `TXT _edgebot-challenge.${hostname}`, live: false } }]);

    // The squatter's org has no channel: its owner and admin are told directly, without the claimant's name.
    const told = await world.platform.db
      .selectFrom("outbox")
      .select(["channel_id", "payload", "actor_id"])
      .where("kind", "=", "domain.claimed_away")
      .where("id", ">", outboxBefore?.id ?? 0)
      .orderBy("channel_id")
      .execute();
    expect(told.map((row) => row.channel_id).sort()).toEqual([`U${squatter.displayName.toUpperCase()}`, `U${squatterAdmin.displayName.toUpperCase()}`].sort());
    for (const row of told) {
      expect(row.actor_id).toBeNull();
      expect(row.payload).toEqual({ app: squatRef, env: "production", hostname, recordName: `_edgebot-challenge.${hostname}`, live: false, domainsLeft: 0, actor: null });
      expect(JSON.stringify(row.payload)).not.toContain(org);
    }

    // The squatter's environment no longer lists it, and is no longer live.
    expect((await listDomains(world.platform, { actor: squatter, app: squatRef, env: "production" })).domains).toEqual([]);
    expect((await run(squatter, `domain list ${squatRef}`)).text).not.toContain(hostname);
    expect(await liveAt(squatRef, "production")).toBeNull();
    // Its checks went with it; the owner starts with a pending domain to take live.
    const domain = await world.platform.db.selectFrom("domains").select(["dns_status", "created_by"]).where("hostname", "=", hostname).executeTakeFirstOrThrow();
    expect(domain).toEqual({ dns_status: "pending", created_by: owner.userId });

    expect((await run(owner, `domain list ${ref}`)).text).not.toContain("Claimed");
    // Claiming it again is claiming your own hostname: refused.
    expect((await run(owner, `domain claim ${ref} production ${hostname}`)).text).toContain(`${hostname} is already served by ${ref} production`);
    // And the squatter, without the DNS, cannot claim it back.
    const back = await run(squatter, `domain claim ${squatRef} production ${hostname}`);
    expect(shownToken(back.text)).not.toBe(token);
    expect(await holderOf(hostname)).toBe(`${ref} production`);
  });

  it("tells the org that lost a hostname in its channel, and recomputes its environment as live with the domains left", async () => {
    const loser = await buildUser(world.platform);
    const loserOrg = await buildOrg(world.platform, loser);
    const kept = `${unique("kept")}.y.test`;
    const taken = `${unique("taken")}.y.test`;
    const { ref: loserRef } = await buildApplication(world.platform, loser, loserOrg, kept);
    await run(loser, `domain add ${loserRef} production ${taken}`);
    await setApplicationChannel(world.platform, { actor: loser, app: loserRef, channelId: "C0LOSER", teamId: "T0TEST" });
    // One domain points at the edge, the other (not theirs) does not: not live.
    setRecords(kept, [{ name: kept, type: "CNAME", target: `${kept}.${suffix}` }]);
    expect((await run(loser, `golive ${loserRef} production`)).text).toContain("1 of 2 domains point at the edge");
    expect(await liveAt(loserRef, "production")).toBeNull();

    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    await run(owner, `env create ${ref} staging`);
    const { text } = await run(owner, `domain claim ${ref} staging ${taken}`);
    setRecords(`_edgebot-challenge.${taken}`, [{ name: `_edgebot-challenge.${taken}`, type: "TXT", text: shownToken(text) }]);
    expect((await run(owner, `domain claim ${ref} staging ${taken}`)).text).toContain(`now belongs to ${ref} staging`);

    expect(await holderOf(taken)).toBe(`${ref} staging`);
    expect(await liveAt(loserRef, "production")).toBeInstanceOf(Date);
    const posted = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload"]).where("kind", "=", "domain.claimed_away").where("channel_id", "=", "C0LOSER").execute();
    expect(posted).toEqual([{ channel_id: "C0LOSER", payload: { app: loserRef, env: "production", hostname: taken, recordName: `_edgebot-challenge.${taken}`, live: true, domainsLeft: 1, actor: null } }]);
    // Only the channel: nobody is told directly as well.
    const everyCopy = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "domain.claimed_away").execute();
    expect(everyCopy.filter((row) => row.payload.hostname === taken)).toHaveLength(1);
  });

  it("with no channel set, tells the claiming org's owners and admins directly, not its other members", async () => {
    const owner = await buildUser(world.platform);
    const admin = await buildUser(world.platform);
    const developer = await buildUser(world.platform);
    const viewer = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    await addMember(world.platform, org, admin, "admin");
    await addMember(world.platform, org, developer, "developer");
    await addMember(world.platform, org, viewer, "viewer");
    const { ref } = await buildApplication(world.platform, owner, org);
    const hostname = `${unique("quiet")}.z.test`;
    // Another org serves it; the developer proves the client's control of its DNS.
    const squatter = await buildUser(world.platform);
    await buildApplication(world.platform, squatter, await buildOrg(world.platform, squatter), hostname);
    const { text } = await run(developer, `domain claim ${ref} production ${hostname}`);
    setRecords(`_edgebot-challenge.${hostname}`, [{ name: `_edgebot-challenge.${hostname}`, type: "TXT", text: shownToken(text) }]);
    expect((await run(developer, `domain claim ${ref} production ${hostname}`)).text).toContain(`now belongs to ${ref} production`);

    const told = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload"]).where("kind", "=", "domain.claimed").execute();
    const copies = told.filter((row) => row.payload.hostname === hostname);
    expect(copies.map((row) => row.channel_id).sort()).toEqual([`U${owner.displayName.toUpperCase()}`, `U${admin.displayName.toUpperCase()}`].sort());
    expect(copies[0]!.payload).toMatchObject({ app: ref, env: "production", hostname, actor: { name: developer.displayName } });
  });

  it("says it could not check when DNS fails, and moves nothing", async () => {
    const hostname = "www.broken-dns.test";
    const holder = await buildUser(world.platform);
    const { ref: holderRef } = await buildApplication(world.platform, holder, await buildOrg(world.platform, holder), hostname);
    const owner = await buildUser(world.platform);
    const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner));
    await run(owner, `domain claim ${ref} production ${hostname}`);
    const { text, error } = await run(owner, `domain claim ${ref} production ${hostname}`);
    expect(error).toBe(false);
    expect(text).toContain("Could not check `_edgebot-challenge.www.broken-dns.test`");
    expect(text).toContain("SERVFAIL");
    expect(await holderOf(hostname)).toBe(`${holderRef} production`);
    expect((await claimRows(hostname))[0]).toMatchObject({ status: "open", last_verdict: "could_not_check" });
  });

  it("keeps one open claim per org and hostname: another environment of the org gets the same record", async () => {
    const holder = await buildUser(world.platform);
    const { hostname } = await buildApplication(world.platform, holder, await buildOrg(world.platform, holder));
    const owner = await buildUser(world.platform);
    const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner));
    await run(owner, `env create ${ref} staging`);
    const first = shownToken((await run(owner, `domain claim ${ref} production ${hostname}`)).text);
    const second = shownToken((await run(owner, `domain claim ${ref} staging ${hostname}`)).text);
    expect(second).toBe(first);
    // Another org claiming the same hostname gets a token of its own.
    const other = await buildUser(world.platform);
    const { ref: otherRef } = await buildApplication(world.platform, other, await buildOrg(world.platform, other));
    expect(shownToken((await run(other, `domain claim ${otherRef} production ${hostname}`)).text)).not.toBe(first);
    setRecords(`_edgebot-challenge.${hostname}`, [{ name: `_edgebot-challenge.${hostname}`, type: "TXT", text: first }]);
    // Two first runs at once make one claim, and show the same record.
    const raced = `${unique("raced")}.example.com`;
    await buildApplication(world.platform, holder, (await world.platform.db.selectFrom("orgs").select("slug").where("created_by", "=", holder.userId).executeTakeFirstOrThrow()).slug, raced);
    const [one, two] = await Promise.all([0, 1].map(() => claimHostname(world.platform, { actor: owner, app: ref, env: "production", hostname: raced })));
    expect(one).toMatchObject({ status: "waiting" });
    expect(two).toMatchObject({ status: "waiting", record: (one as { record: unknown }).record });
    expect(await claimRows(raced)).toHaveLength(1);
    // The latest request names where it goes.
    await run(owner, `domain claim ${ref} staging ${hostname}`);
    expect(await holderOf(hostname)).toBe(`${ref} staging`);
  });

  it("refuses bad input with a clear message and writes nothing", async () => {
    const holder = await buildUser(world.platform);
    const { hostname: held } = await buildApplication(world.platform, holder, await buildOrg(world.platform, holder));
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref, hostname: own } = await buildApplication(world.platform, owner, org);
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    const outsider = await buildUser(world.platform);
    const claims = async () => (await world.platform.db.selectFrom("hostname_claims").select("id").execute()).length;
    const before = await snapshot(world.platform);
    const claimsBefore = await claims();

    const refusals: Array<[TestUser, string, RegExp]> = [
      [owner, `domain claim ${ref} production not_a_host!`, /not a valid hostname/],
      [owner, `domain claim ${ref} production 10.0.0.1`, /is an IP address/],
      [owner, `domain claim ${ref} production ${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(50)}.test`, /too long to hold the challenge record/],
      [owner, `domain claim ${ref} production ${own}`, new RegExp(`${own} is already served by ${ref} production, in ${org}: move it with domain remove and domain add`)],
      [owner, `domain claim ${ref} production ${unique("free")}.example.com`, /nobody serves .*: there is nothing to claim, add it with domain add/],
      [viewer, `domain claim ${ref} production ${held}`, /you are a viewer here/],
      [outsider, `domain claim ${ref} production ${held}`, /not found/],
      [owner, `domain claim ${org}/nosuchapp production ${held}`, /not found/],
      [owner, `domain claim ${ref} nosuchenv ${held}`, /has no environment nosuchenv/],
      [owner, `domain claim ${ref} production`, /<hostname> is missing/],
    ];
    for (const [actor, line, expected] of refusals) {
      const { text, error } = await run(actor, line);
      expect(error, line).toBe(true);
      expect(text, line).toMatch(expected);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await claims()).toBe(claimsBefore);

    // The typed errors core throws, for every surface.
    const claim = (actor: TestUser, hostname: string, env = "production") => claimHostname(world.platform, { actor, app: ref, env, hostname });
    expect(await failure(claim(owner, "bad host"))).toBeInstanceOf(Invalid);
    expect(await failure(claim(owner, own))).toBeInstanceOf(Conflict);
    expect(await failure(claim(viewer, held))).toBeInstanceOf(Forbidden);
    expect(await failure(claim(outsider, held))).toBeInstanceOf(NotFound);
    expect(await failure(claim(owner, held, "nosuchenv"))).toBeInstanceOf(NotFound);
  });
});

/** The slug of the one application in an org, as its owner sees it. */
async function listDomainsOf(actor: TestUser, org: string): Promise<string | undefined> {
  const row = await world.platform.db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .innerJoin("memberships as m", "m.org_id", "o.id")
    .select("a.slug")
    .where("o.slug", "=", org)
    .where("m.user_id", "=", actor.userId)
    .executeTakeFirst();
  return row?.slug;
}
