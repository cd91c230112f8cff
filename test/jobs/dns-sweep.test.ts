import pino from "pino";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { checkSweepPage, liveEnvironmentPages, recheckEnvironment, recordSweepPage, type SweepPage } from "../../src/core/dns-rechecks.ts";
import { addDomain } from "../../src/core/domains.ts";
import { showEnvironment } from "../../src/core/environments.ts";
import { AlreadyDone } from "../../src/core/errors.ts";
import { onceForRequest, type Platform } from "../../src/core/platform.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { recheckQueueName, startJobQueue, type JobQueue } from "../../src/jobs/queue.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.ts";
import { applicationId, buildApplication, buildOrg, buildUser, failure, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const suffix = "edge.sweep.test";
/** Names the DNS server answers SERVFAIL for: their domains could not be checked. */
const unanswered = Array.from({ length: 4 }, () => `b-${unique("unanswered")}.sweep.example`);

let server: TestDnsServer;
let dns: DnsVerifier;
let queue: JobQueue;
let platform: Platform;
const zone: ZoneRecord[] = [{ name: "old.other-cdn.example", type: "A", address: "203.0.113.5" }];

function point(hostname: string, where: "edge" | "elsewhere"): void {
  zone.push({ name: hostname, type: "CNAME", target: where === "edge" ? `${hostname}.${suffix}` : "old.other-cdn.example" });
  server.replaceRecords(zone);
}

beforeAll(async () => {
  server = await startDnsServer({ records: zone, serverFailure: unanswered });
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

type Shape = "passing" | "failing" | "unanswered";

interface LiveEnvironment {
  owner: TestUser;
  ref: string;
  environmentId: number;
  hostnames: string[];
}

/** A live production environment with two domains, the second passing, failing or unanswered now; announced in `channel`. */
async function liveEnvironment(shape: Shape, channel: string): Promise<LiveEnvironment> {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const first = `a-${unique("www")}.sweep.example`;
  const second = shape === "unanswered" ? unanswered.pop()! : `b-${unique("www")}.sweep.example`;
  const { ref } = await buildApplication(world.platform, owner, org, first);
  await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: second });
  await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: channel, teamId: "T0TEST" });
  point(first, "edge");
  if (shape !== "unanswered") point(second, shape === "passing" ? "edge" : "elsewhere");
  const environment = await world.platform.db.selectFrom("environments").select("id").where("application_id", "=", await applicationId(world.platform, ref)).where("name", "=", "production").executeTakeFirstOrThrow();
  // Live since yesterday, every domain passing then.
  await sql`update environments set live_at = now() - interval '1 day' where id = ${environment.id}`.execute(world.platform.db);
  await sql`update domains set dns_status = 'passing' where environment_id = ${environment.id}`.execute(world.platform.db);
  return { owner, ref, environmentId: environment.id, hostnames: [first, second] };
}

/** Everything a re-check of `environment` left that anyone can see, its names and times written alike for any environment. */
async function observed(environment: LiveEnvironment): Promise<unknown> {
  const { db } = world.platform;
  const rows = {
    live: (await db.selectFrom("environments").select("live_at").where("id", "=", environment.environmentId).executeTakeFirstOrThrow()).live_at !== null,
    domains: await db.selectFrom("domains").select(["hostname", "dns_status"]).where("environment_id", "=", environment.environmentId).orderBy("hostname").execute(),
    checks: await db.selectFrom("dns_checks").select(["hostname", "verdict", "expected", "found", "record_to_create", "checked_by", "trigger"]).where("hostname", "in", environment.hostnames).orderBy("id").execute(),
    audits: await db.selectFrom("audit_events").select(["action", "actor_id", "details"]).where("target", "=", `${environment.ref} production`).where("action", "like", "env.%").orderBy("id").execute(),
    announcements: (await db.selectFrom("outbox").select(["kind", "channel_id", "actor_id", "payload"]).orderBy("id").execute()).filter((row) => (row.payload as { app?: string }).app === environment.ref),
    rechecks: (await sql<{ data: unknown; delay: number; priority: number }>`select data, round(extract(epoch from start_after - created_on))::int as delay, priority from pgboss.job
      where name = ${recheckQueueName} and singleton_key = ${`environment:${environment.environmentId}`} and state = 'created'`.execute(db)).rows,
  };
  let text = JSON.stringify(rows);
  environment.hostnames.forEach((hostname, index) => (text = text.replaceAll(hostname, `HOSTNAME${index}`)));
  text = text.replaceAll(environment.ref, "APP").replaceAll(`"environmentId":${environment.environmentId}`, `"environmentId":"ID"`);
  return JSON.parse(text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "TIME"));
}

/** The page holding exactly these environments (made one after another). */
function pageOf(environments: LiveEnvironment[], since: string): SweepPage {
  const ids = environments.map((environment) => environment.environmentId);
  return { afterId: Math.min(...ids) - 1, throughId: Math.max(...ids), since };
}

describe("the daily DNS sweep, a page of live environments at a time", () => {
  it("leaves for a page of passing, failing and unanswered environments what a re-check of each leaves", async () => {
    const shapes: Shape[] = ["passing", "failing", "unanswered"];
    const swept: LiveEnvironment[] = [];
    for (const shape of shapes) swept.push(await liveEnvironment(shape, "C0SWEEP"));
    const rechecked: LiveEnvironment[] = [];
    for (const shape of shapes) rechecked.push(await liveEnvironment(shape, "C0SWEEP"));
    const since = new Date().toISOString();

    const checked = await checkSweepPage(platform, pageOf(swept, since));
    expect(checked.environments.map((found) => found.environment.id)).toEqual(swept.map((environment) => environment.environmentId));
    expect(await recordSweepPage(platform, checked)).toEqual({ unchanged: 2, moved: { regressed: 1 }, gone: 0 });
    for (const environment of rechecked) await recheckEnvironment(platform, { environmentId: environment.environmentId, attempt: 0, since, askedBy: null });

    for (const [index, shape] of shapes.entries()) {
      const sweptSaw = await observed(swept[index]!);
      expect({ shape, ...(sweptSaw as object) }).toEqual({ shape, ...((await observed(rechecked[index]!)) as object) });
    }
    // What that is, for each: statuses and checks always; a regression's audit, announcement and re-check only where a domain fails.
    const [passing, failing, unknown] = await Promise.all(swept.map(observed));
    expect(passing).toMatchObject({ live: true, domains: [{ dns_status: "passing" }, { dns_status: "passing" }], checks: [{ verdict: "passes", trigger: "recheck" }, { verdict: "passes" }], audits: [], announcements: [], rechecks: [] });
    expect(failing).toMatchObject({
      live: false,
      domains: [{ dns_status: "passing" }, { dns_status: "failing" }],
      checks: [{ verdict: "passes" }, { verdict: "fails", record_to_create: `CNAME HOSTNAME1 → HOSTNAME1.${suffix}` }],
      audits: [{ action: "env.regressed", actor_id: null, details: { trigger: "recheck", attempt: 0 } }],
      announcements: [{ kind: "env.regressed", channel_id: "C0SWEEP", payload: { background: true, nextRecheckAt: "TIME" } }],
      rechecks: [{ data: { attempt: 1, askedBy: null }, delay: 60, priority: 1 }],
    });
    expect(unknown).toMatchObject({ live: true, domains: [{ dns_status: "passing" }, { dns_status: "unknown" }], checks: [{ verdict: "passes" }, { verdict: "could_not_check" }], audits: [], announcements: [] });
  });

  it("skips an environment deleted, and a domain removed, after the page was read", async () => {
    const environments = [await liveEnvironment("passing", "C0GONE"), await liveEnvironment("passing", "C0GONE"), await liveEnvironment("failing", "C0GONE")];
    const [deleted, trimmed, failing] = environments as [LiveEnvironment, LiveEnvironment, LiveEnvironment];
    const checked = await checkSweepPage(platform, pageOf(environments, new Date().toISOString()));

    await world.platform.db.deleteFrom("environments").where("id", "=", deleted.environmentId).execute();
    await world.platform.db.deleteFrom("domains").where("hostname", "=", trimmed.hostnames[1]!).execute();
    await world.platform.db.deleteFrom("domains").where("hostname", "=", failing.hostnames[1]!).execute();
    expect(await recordSweepPage(platform, checked)).toEqual({ unchanged: 1, moved: { regressed: 1 }, gone: 1 });

    const checks = await world.platform.db.selectFrom("dns_checks").select("hostname").where("hostname", "in", environments.flatMap((environment) => environment.hostnames)).orderBy("id").execute();
    expect(checks.map((check) => check.hostname)).toEqual([trimmed.hostnames[0], failing.hostnames[0]]);
    // As a single re-check: the verdict of a domain removed meanwhile still counts for the environment.
    expect(await observed(failing)).toMatchObject({ live: false, domains: [{ dns_status: "passing" }], announcements: [{ kind: "env.regressed" }] });
    expect(await observed(trimmed)).toMatchObject({ live: true, domains: [{ dns_status: "passing" }], announcements: [] });
  });

  it("shows a domain's latest check as its last, and rewrites only the domains whose status changed", async () => {
    const environments = [await liveEnvironment("passing", "C0LAST"), await liveEnvironment("unanswered", "C0LAST")];
    const hostnames = environments.flatMap((environment) => environment.hostnames);
    const shown = async () => new Map((await Promise.all(environments.map(({ owner, ref }) => showEnvironment(world.platform, { actor: owner, app: ref, env: "production" })))).flatMap((details) => details.domains.map((domain) => [domain.hostname, domain])));
    // Where each domain's row is: an update writes a new version elsewhere, a lock does not.
    const rowVersions = async () => new Map((await sql<{ hostname: string; ctid: string }>`select hostname, ctid::text from domains where hostname in (${sql.join(hostnames)})`.execute(world.platform.db)).rows.map((row) => [row.hostname, row.ctid]));
    expect([...(await shown()).values()].map((domain) => domain.dnsCheckedAt)).toEqual([null, null, null, null]);
    const before = await rowVersions();

    await recordSweepPage(platform, await checkSweepPage(platform, pageOf(environments, new Date().toISOString())));

    const checks = await world.platform.db.selectFrom("dns_checks").select(["hostname", "checked_at"]).where("hostname", "in", hostnames).execute();
    const after = await rowVersions();
    const domains = await shown();
    expect(checks).toHaveLength(4);
    for (const check of checks) expect(domains.get(check.hostname)!.dnsCheckedAt).toEqual(check.checked_at);
    // Only the unanswered domain's status changed (passing to unknown): only its row was rewritten.
    const unanswered = environments[1]!.hostnames[1]!;
    expect(hostnames.map((hostname) => [hostname, domains.get(hostname)!.dnsStatus, after.get(hostname) === before.get(hostname)])).toEqual(
      hostnames.map((hostname) => [hostname, hostname === unanswered ? "unknown" : "passing", hostname !== unanswered]),
    );
  });

  it("pages the live environments by id, each live environment in one page", async () => {
    await liveEnvironment("passing", "C0PAGES");
    await liveEnvironment("passing", "C0PAGES");
    const live = (await world.platform.db.selectFrom("environments").select("id").where("live_at", "is not", null).orderBy("id").execute()).map((row) => row.id);
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const size of [1, 2, 3, live.length, live.length + 1]) {
      const pages = await liveEnvironmentPages(platform, size);
      const held = pages.map((page) => live.filter((id) => id > page.afterId && id <= page.throughId));
      expect({ size, held: held.flat() }).toEqual({ size, held: live });
      expect(held.map((ids) => ids.length)).toEqual(pages.map((_, index) => (index < pages.length - 1 ? size : live.length - size * (pages.length - 1))));
    }
  });

  it("takes effect once when the same page runs twice", async () => {
    const environments = [await liveEnvironment("passing", "C0TWICE"), await liveEnvironment("failing", "C0TWICE")];
    const page = pageOf(environments, new Date().toISOString());
    const once = onceForRequest(platform, `job:${unique("page")}`);
    expect(await recordSweepPage(once, await checkSweepPage(platform, page))).toEqual({ unchanged: 1, moved: { regressed: 1 }, gone: 0 });
    expect(await failure(recordSweepPage(once, await checkSweepPage(platform, page)))).toBeInstanceOf(AlreadyDone);
    const [passing, failing] = await Promise.all(environments.map(observed));
    expect(passing).toMatchObject({ checks: [{ verdict: "passes" }, { verdict: "passes" }] });
    expect(failing).toMatchObject({ checks: [{ verdict: "passes" }, { verdict: "fails" }], announcements: [{ kind: "env.regressed" }], audits: [{ action: "env.regressed" }] });
  });
});
