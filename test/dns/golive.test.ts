import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { notificationMessage } from "../../src/bot/blocks/notifications.ts";
import { plainText } from "../../src/bot/shell.ts";
import type { Notification } from "../../src/core/notifications.ts";
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

  async function run(actor: TestUser, line: string, conversation?: string) {
    const context = { platform: world.platform, actor, teamId: "T0TEST", ...(conversation ? { conversation: { channelId: conversation } } : {}) };
    const outcome = await runCommandLine(context, line, { slashCommand: "/edge", logger });
    return { text: plainText(outcome.message), error: outcome.message.error === true };
  }

  /** What the outbox holds for `channel`, as the channel would show it, oldest first. */
  async function postedTo(channel: string, kind = "golive.results") {
    const rows = await world.platform.db.selectFrom("outbox").select(["id", "kind", "payload", "channel_id", "team_id", "attempts"]).where("channel_id", "=", channel).where("kind", "=", kind).orderBy("id").execute();
    return rows.map((row) => plainText(notificationMessage({ id: row.id, kind: row.kind, payload: row.payload, channelId: row.channel_id, teamId: row.team_id, attempts: row.attempts } as Notification)));
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

    const first = await run(owner, `golive ${ref} production`, "C0TYPEDIN");
    expect(first.error).toBe(false);
    // The answer says where the results are and what they came to; the table is in the channel.
    expect(first.text).toBe(
      [
        `Go-live check of ${ref} production: 1 of 2 domains point at the edge.\n${ref} production is not live yet.`,
        `Once DNS is right, run \`golive ${ref} production\` again.`,
        "Results posted in #C0GOLIVE.",
      ].join("\n"),
    );
    const [failing] = await postedTo("C0GOLIVE");
    expect(failing).toContain(`1 of 2 domains point at the edge`);
    expect(failing).toContain(`${second} fails`);
    expect(failing).toContain(`Create this record:\n    Type   Name${" ".repeat(second.length - 4)}  Value\n    CNAME  ${second}  ${second}.${suffix}\nRemove what stands in the way:\n• remove \`CNAME shop.old-cdn.example\``);
    expect(failing).toContain(`${ref} production is not live yet.`);
    expect(failing).toContain(`by ${owner.displayName}`);
    expect(await postedTo("C0TYPEDIN")).toEqual([]);
    expect(await liveAt(ref, "production")).toBeNull();

    // The client moves the second site elsewhere and adds one whose DNS is right.
    await removeDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: second });
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: fixed });
    const second_ = await run(owner, `golive ${ref} production`);
    expect(second_.text).toContain("2 of 2 domains point at the edge");
    expect(second_.text).toContain(`${ref} production is live.`);
    expect(await liveAt(ref, "production")).toBeInstanceOf(Date);
    const again = await run(owner, `golive ${ref} production`);
    expect(again.text).toContain(`Every domain passes: ${ref} production was already live.`);
    // The channel's copy of each check says what that check did: the first to pass took it live.
    const copies = await postedTo("C0GOLIVE");
    expect(copies).toHaveLength(3);
    expect(copies[1]).toContain(`${ref} production is live.`);
    expect(copies[1]).not.toContain("already live");
    expect(copies[2]).toContain(`Every domain passes: ${ref} production was already live.`);

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

  it("posts the results in the conversation the command was typed in when neither the application nor the org has a channel", async () => {
    const { owner, ref, hostname } = await application();
    const conversation = unique("C0HERE").toUpperCase();
    const { text } = await run(owner, `golive ${ref} production`, conversation);
    expect(text).toContain(`Go-live check of ${ref} production: 0 of 1 domains point at the edge.`);
    expect(text).toContain("Results posted in this conversation.");
    expect(text).not.toContain(hostname);
    const posted = await world.platform.db.selectFrom("outbox").select(["channel_id", "team_id"]).where("kind", "=", "golive.results").where("channel_id", "=", conversation).execute();
    expect(posted).toEqual([{ channel_id: conversation, team_id: "T0TEST" }]);
    const [copy] = await postedTo(conversation);
    expect(copy).toContain(`Go-live check of ${ref} production: 0 of 1 domains point at the edge.`);
    expect(copy).toContain(hostname);
  });

  it("answers with the whole results where there is neither a channel nor a conversation (a form)", async () => {
    const { owner, ref, hostname } = await application();
    const before = (await world.platform.db.selectFrom("outbox").select("id").where("kind", "=", "golive.results").execute()).length;
    const { text } = await run(owner, `golive ${ref} production`);
    expect(text).toContain(`Go-live check of ${ref} production: 0 of 1 domains point at the edge.`);
    expect(text).toContain(hostname);
    expect(text).not.toContain("Results posted");
    expect((await world.platform.db.selectFrom("outbox").select("id").where("kind", "=", "golive.results").execute()).length).toBe(before);
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
