import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { plainText } from "../../src/bot/shell.ts";
import { addDomain, removeDomain } from "../../src/core/domains.ts";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { addMember, buildApplication, buildOrg, buildUser, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });
const suffix = "edge.test.net";

describe("golive, through the dispatcher, against a DNS server on loopback", () => {
  let server: TestDnsServer;
  let dns: DnsVerifier;
  // The zone the server answers from: a domain at the edge, one at another CDN, one fixed later.
  const atEdge = `${unique("www")}.golive.example`;
  const elsewhere = `${unique("shop")}.golive.example`;
  const fixed = `${unique("fixed")}.golive.example`;

  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        { name: atEdge, type: "CNAME", target: `${atEdge}.${suffix}` },
        { name: elsewhere, type: "CNAME", target: "shop.old-cdn.example" },
        { name: "shop.old-cdn.example", type: "A", address: "203.0.113.5" },
        { name: fixed, type: "CNAME", target: `${fixed}.${suffix}` },
      ],
      serverFailure: ["broken.golive.example"],
    });
    dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: ["192.0.2.10"] });
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

  /** An application whose production serves `hostname`. */
  async function application(hostname = `${unique("www")}.golive.example`) {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const app = await buildApplication(world.platform, owner, org, hostname);
    return { owner, org, ref: app.ref, hostname };
  }

  async function liveAt(ref: string, env: string) {
    const [org, slug] = ref.split("/");
    const row = await world.platform.db
      .selectFrom("environments as e")
      .innerJoin("applications as a", "a.id", "e.application_id")
      .innerJoin("orgs as o", "o.id", "a.org_id")
      .select("e.live_at")
      .where("o.slug", "=", org!)
      .where("a.slug", "=", slug!)
      .where("e.name", "=", env)
      .executeTakeFirstOrThrow();
    return row.live_at;
  }

  it("checks every domain, stores each check, and goes live once every domain passes, announcing it once", async () => {
    const { owner, ref, hostname } = await application(atEdge);
    const second = elsewhere;
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: second });
    await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: "C0GOLIVE", teamId: "T0TEST" });

    const first = await run(owner, `golive ${ref} production`);
    expect(first.error).toBe(false);
    expect(first.text).toContain(`1 of 2 domains point at the edge`);
    expect(first.text).toContain(`${second} fails`);
    expect(first.text).toContain(`Create this record:\n    Type   Name${" ".repeat(second.length - 4)}  Value\n    CNAME  ${second}  ${second}.${suffix}\nRemove what stands in the way:\n• remove \`CNAME shop.old-cdn.example\``);
    expect(first.text).toContain("Not live yet");
    expect(await liveAt(ref, "production")).toBeNull();

    // The client moves the second site elsewhere and adds one whose DNS is right.
    await removeDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: second });
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: fixed });
    const second_ = await run(owner, `golive ${ref} production`);
    expect(second_.text).toContain("2 of 2 domains point at the edge");
    expect(second_.text).toContain("is live");
    expect(await liveAt(ref, "production")).toBeInstanceOf(Date);
    await run(owner, `golive ${ref} production`);

    const checks = await world.platform.db.selectFrom("dns_checks").select(["hostname", "verdict", "trigger", "checked_by"]).where("hostname", "in", [hostname, fixed]).orderBy("id").execute();
    expect(checks.map((check) => `${check.hostname === hostname ? "edge" : "fixed"} ${check.verdict}`)).toEqual(["edge passes", "fixed passes", "edge passes", "fixed passes", "edge passes"]);
    // The domain removed took its checks with it.
    expect(await world.platform.db.selectFrom("dns_checks").select("id").where("hostname", "=", second).execute()).toEqual([]);
    expect(checks.every((check) => check.trigger === "golive" && check.checked_by === owner.id)).toBe(true);
    const statuses = await world.platform.db.selectFrom("domains").select(["hostname", "dns_status"]).where("hostname", "in", [hostname, fixed]).orderBy("hostname").execute();
    expect(statuses).toHaveLength(2);
    expect(statuses.every((row) => row.dns_status === "passing")).toBe(true);
    const posted = await world.platform.db.selectFrom("outbox").select(["kind", "channel_id"]).where("channel_id", "=", "C0GOLIVE").where("kind", "in", ["golive.results", "env.live"]).orderBy("id").execute();
    expect(posted.map((row) => row.kind)).toEqual(["golive.results", "golive.results", "env.live", "golive.results"]);
  });

  it("reports a server failure as could not check, never as failing, and does not go live", async () => {
    const { owner, ref } = await application();
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: "broken.golive.example" });
    const { text } = await run(owner, `golive ${ref} production`);
    expect(text).toContain("broken.golive.example could not be checked");
    const row = await world.platform.db.selectFrom("domains").select("dns_status").where("hostname", "=", "broken.golive.example").executeTakeFirstOrThrow();
    expect(row.dns_status).toBe("unknown");
    expect(await liveAt(ref, "production")).toBeNull();
  });

  it("refuses a viewer, an outsider and bad input, and writes nothing", async () => {
    const { org, ref } = await application();
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    const outsider = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    const checks = (await world.platform.db.selectFrom("dns_checks").select("id").execute()).length;
    expect((await run(viewer, `golive ${ref} production`)).text).toMatch(/you are a viewer here/);
    expect((await run(outsider, `golive ${ref} production`)).text).toMatch(/not found/);
    for (const line of [`golive ${ref} ../../etc`, `golive ${ref} nosuchenv`, `golive nope/nope production`, `golive ${ref} production extra`, `golive ${ref}`]) {
      expect((await run(viewer, line)).error, line).toBe(true);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect((await world.platform.db.selectFrom("dns_checks").select("id").execute()).length).toBe(checks);
  });
});
