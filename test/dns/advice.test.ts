import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gaveUpAnnouncement, goLiveResultsMessage, regressionAnnouncement } from "../../src/bot/blocks/dns.ts";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { plainText } from "../../src/bot/shell.ts";
import { goLive } from "../../src/core/golive.ts";
import { createDnsVerifier, type DnsVerifier, type Verdict } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../support/dns-server.ts";
import { buildApplication, buildOrg, buildUser, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });
const suffix = "edge.test.net";
const edgeIpv4 = ["192.0.2.10", "192.0.2.11"];

/** Client zones on one server: zone apexes (each with its SOA) and subdomains, with the TTLs their DNS host gave them. */
/** The sections with fields (the tables of records) as Slack shows them: their text and fields. */
const sections = (blocks: unknown[]) =>
  blocks.flatMap((block) => {
    const section = block as { type: string; text?: { text: string }; fields?: Array<{ text: string }> };
    return section.type === "section" && section.fields ? [{ text: section.text?.text, fields: section.fields.map((field) => field.text) }] : [];
  });

const records: ZoneRecord[] = [
  // A client's bare domain on its old host's address, for an hour.
  { name: "shop-c.test", type: "SOA", ttl: 3600 },
  { name: "shop-c.test", type: "A", address: "198.51.100.7", ttl: 3600 },
  // A bare domain on the edge's address, with an IPv6 address the edge does not serve.
  { name: "shop-d.test", type: "SOA" },
  { name: "shop-d.test", type: "A", address: "192.0.2.10" },
  { name: "shop-d.test", type: "AAAA", address: "2001:db8::1", ttl: 300 },
  // A subdomain still on the CDN the client leaves.
  { name: "www.shop-c.test", type: "CNAME", target: "shop.old-cdn.example", ttl: 1800 },
  { name: "shop.old-cdn.example", type: "A", address: "203.0.113.5" },
  // A subdomain given addresses directly, and one already on the edge.
  { name: "blog.shop-c.test", type: "A", address: "198.51.100.8", ttl: 120 },
  { name: "blog.shop-c.test", type: "A", address: "192.0.2.10", ttl: 120 },
  { name: "live.shop-c.test", type: "CNAME", target: `live.shop-c.test.${suffix}` },
];

describe("DNS advice that works at every DNS host, against a DNS server on loopback", () => {
  let server: TestDnsServer;
  let withEdgeIpv4: DnsVerifier;
  let withoutEdgeIpv4: DnsVerifier;

  beforeAll(async () => {
    server = await startDnsServer({ records });
    withEdgeIpv4 = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4 });
    withoutEdgeIpv4 = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: [] });
  });
  afterAll(async () => {
    withEdgeIpv4?.close();
    withoutEdgeIpv4?.close();
    await server?.close();
  });

  describe("the verdict's advice", () => {
    it("gives a zone apex on a wrong A an A record per edge address, the ALIAS as the alternative, the stray A to remove and its TTL", async () => {
      expect(await withEdgeIpv4.verify("shop-c.test")).toEqual({
        status: "fails",
        hostname: "shop-c.test",
        expectedTarget: `shop-c.test.${suffix}`,
        recordToCreate: "A shop-c.test 192.0.2.10",
        advice: {
          apex: true,
          create: [
            { type: "A", name: "shop-c.test", value: "192.0.2.10" },
            { type: "A", name: "shop-c.test", value: "192.0.2.11" },
          ],
          alternative: { type: "ALIAS", name: "shop-c.test", value: `shop-c.test.${suffix}` },
          remove: [{ type: "A", name: "shop-c.test", value: "198.51.100.7" }],
          ttlSeconds: 3600,
        },
        found: ["A 198.51.100.7: not an edge address"],
        foundParts: [["A ", { addresses: ["198.51.100.7"] }, ": not an edge address"]],
      });
    });

    it("gives an apex only the ALIAS when EDGE_IPV4 is empty", async () => {
      const verdict = await withoutEdgeIpv4.verify("shop-c.test");
      expect(verdict).toMatchObject({
        status: "fails",
        recordToCreate: `ALIAS shop-c.test → shop-c.test.${suffix}`,
        advice: { apex: true, create: [{ type: "ALIAS", name: "shop-c.test", value: `shop-c.test.${suffix}` }], remove: [{ type: "A", name: "shop-c.test", value: "198.51.100.7" }], ttlSeconds: 3600 },
      });
      expect(verdict.status === "fails" && verdict.advice?.alternative).toBeUndefined();
    });

    it("keeps an apex's edge address and removes only its stray AAAA", async () => {
      expect(await withEdgeIpv4.verify("shop-d.test")).toMatchObject({
        status: "fails",
        found: ["AAAA 2001:db8::1: not the edge (it is IPv4): remove the AAAA record"],
        advice: { apex: true, remove: [{ type: "AAAA", name: "shop-d.test", value: "2001:db8::1" }], ttlSeconds: 300 },
      });
    });

    it("gives a subdomain on a wrong CNAME the CNAME to create and the old one to remove, EDGE_IPV4 set or not", async () => {
      for (const verifier of [withEdgeIpv4, withoutEdgeIpv4]) {
        expect(await verifier.verify("www.shop-c.test")).toMatchObject({
          status: "fails",
          recordToCreate: `CNAME www.shop-c.test → www.shop-c.test.${suffix}`,
          advice: {
            apex: false,
            create: [{ type: "CNAME", name: "www.shop-c.test", value: `www.shop-c.test.${suffix}` }],
            remove: [{ type: "CNAME", name: "www.shop-c.test", value: "shop.old-cdn.example" }],
            ttlSeconds: 1800,
          },
        });
      }
    });

    it("removes every address of a subdomain, the edge's too: a CNAME stands alone", async () => {
      expect(await withEdgeIpv4.verify("blog.shop-c.test")).toMatchObject({
        advice: {
          apex: false,
          remove: [
            { type: "A", name: "blog.shop-c.test", value: "198.51.100.8" },
            { type: "A", name: "blog.shop-c.test", value: "192.0.2.10" },
          ],
          ttlSeconds: 120,
        },
      });
    });

    it("has nothing to remove for a name that does not exist", async () => {
      const verdict = await withEdgeIpv4.verify("new.shop-c.test");
      expect(verdict).toMatchObject({ status: "fails", advice: { apex: false, create: [{ type: "CNAME", name: "new.shop-c.test" }], remove: [] } });
      expect(verdict.status === "fails" && verdict.advice?.ttlSeconds).toBeUndefined();
    });

    it("asks for the SOA only when a check fails, so that passing checks cost what they did", async () => {
      const before = server.questions.length;
      expect(await withEdgeIpv4.verify("live.shop-c.test")).toMatchObject({ status: "passes" });
      expect(server.questions.slice(before)).toEqual(["live.shop-c.test A udp"]);
      const failing = server.questions.length;
      await withEdgeIpv4.verify("www.shop-c.test");
      expect(server.questions.slice(failing)).toEqual(["www.shop-c.test A udp", "shop.old-cdn.example A udp", "www.shop-c.test SOA udp"]);
    });
  });

  describe("shown in Slack and in the shell", () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await buildUser(world.platform);
    });

    async function reply(line: string, dns: DnsVerifier = withEdgeIpv4) {
      const outcome = await runCommandLine({ platform: { ...world.platform, dns }, actor: user, teamId: "T0TEST" }, line, { slashCommand: "/edge", logger });
      return { text: plainText(outcome.message), blocks: outcome.message.blocks };
    }

    it("dns check of an apex on a wrong A: the A records as a table of fields and aligned columns, the ALIAS, what to remove, the TTL in minutes", async () => {
      const { text, blocks } = await reply("dns check shop-c.test");
      expect(text).toBe(
        [
          "shop-c.test does not point at the edge yet.",
          "Found:",
          "• A 198.51.100.7: not an edge address",
          "shop-c.test is a zone apex, which cannot hold a CNAME. Create these records:",
          "    Type  Name         Value",
          "    A     shop-c.test  192.0.2.10",
          "    A     shop-c.test  192.0.2.11",
          `Or instead, where your DNS host offers it: \`ALIAS/ANAME shop-c.test → shop-c.test.${suffix}\``,
          "Remove what stands in the way:",
          "• remove `A 198.51.100.7`",
          "The old record's TTL is 60 minutes: resolvers may keep the old answer that long after the change.",
        ].join("\n"),
      );
      expect(sections(blocks)).toEqual([
        {
          text: "*shop-c.test* is a zone apex, which cannot hold a CNAME. Create these records:",
          fields: ["*Type · Name*", "*Value*", "`A` · `shop-c.test`", "`192.0.2.10`", "`A` · `shop-c.test`", "`192.0.2.11`"],
        },
      ]);
      const shown = JSON.stringify(blocks);
      expect(shown).toContain("• remove `A 198.51.100.7`");
      expect(shown).toContain(":hourglass_flowing_sand: The old record's TTL is 60 minutes");
    });

    it("dns check of an apex with EDGE_IPV4 empty: the ALIAS only", async () => {
      const { text, blocks } = await reply("dns check shop-c.test", withoutEdgeIpv4);
      expect(text).toContain(
        [
          "shop-c.test is a zone apex, which cannot hold a CNAME. Create this record:",
          "    Type         Name         Value",
          `    ALIAS/ANAME  shop-c.test  shop-c.test.${suffix}`,
          "Remove what stands in the way:",
          "• remove `A 198.51.100.7`",
        ].join("\n"),
      );
      expect(text).not.toContain("Or instead");
      expect(sections(blocks)).toEqual([
        { text: "*shop-c.test* is a zone apex, which cannot hold a CNAME. Create this record:", fields: ["*Type · Name*", "*Value*", "`ALIAS/ANAME` · `shop-c.test`", `\`shop-c.test.${suffix}\``] },
      ]);
    });

    it("dns check of an apex with a stray AAAA: remove the AAAA, keep the A", async () => {
      const { text } = await reply("dns check shop-d.test");
      expect(text).toContain("Remove what stands in the way:\n• remove `AAAA 2001:db8::1`\nThe old record's TTL is 5 minutes");
      expect(text).not.toContain("remove `A ");
    });

    it("dns check of a subdomain on a wrong CNAME: the CNAME to create, no apex hint", async () => {
      for (const dns of [withEdgeIpv4, withoutEdgeIpv4]) {
        const { text, blocks } = await reply("dns check www.shop-c.test", dns);
        expect(text).toBe(
          [
            "www.shop-c.test does not point at the edge yet.",
            "Found:",
            "• wrong CNAME target: www.shop-c.test → shop.old-cdn.example (which has A 203.0.113.5)",
            "Create this record:",
            "    Type   Name             Value",
            `    CNAME  www.shop-c.test  www.shop-c.test.${suffix}`,
            "Remove what stands in the way:",
            "• remove `CNAME shop.old-cdn.example`",
            "The old record's TTL is 30 minutes: resolvers may keep the old answer that long after the change.",
          ].join("\n"),
        );
        expect(sections(blocks)).toEqual([{ text: "Create this record:", fields: ["*Type · Name*", "*Value*", "`CNAME` · `www.shop-c.test`", `\`www.shop-c.test.${suffix}\``] }]);
        expect(JSON.stringify(blocks)).not.toMatch(/ALIAS|apex/);
      }
    });

    it("go-live results, a regression and a give-up show the same advice as dns check", async () => {
      const verdicts: Verdict[] = await withEdgeIpv4.verifyAll(["live.shop-c.test", "shop-c.test", "www.shop-c.test"]);
      const advice = [
        "shop-c.test fails: found A 198.51.100.7: not an edge address.",
        "shop-c.test is a zone apex, which cannot hold a CNAME. Create these records:",
        "    Type  Name         Value",
        "    A     shop-c.test  192.0.2.10",
        "    A     shop-c.test  192.0.2.11",
        `Or instead, where your DNS host offers it: \`ALIAS/ANAME shop-c.test → shop-c.test.${suffix}\``,
        "Remove what stands in the way:",
        "• remove `A 198.51.100.7`",
        "The old record's TTL is 60 minutes: resolvers may keep the old answer that long after the change.",
      ].join("\n");
      const subdomain = ["Create this record:", "    Type   Name             Value", `    CNAME  www.shop-c.test  www.shop-c.test.${suffix}`, "Remove what stands in the way:", "• remove `CNAME shop.old-cdn.example`"].join("\n");
      const messages = [
        goLiveResultsMessage({ app: "acme/shop", env: "production", verdicts, live: false }),
        regressionAnnouncement({ app: "acme/shop", env: "production", verdicts, background: true }, "by ana"),
        gaveUpAnnouncement({ app: "acme/shop", env: "production", verdicts, since: new Date().toISOString() }),
      ];
      for (const message of messages) {
        expect(plainText(message)).toContain(advice);
        expect(plainText(message)).toContain(subdomain);
        // Slack shows the same table, monospace, inside the list.
        expect(JSON.stringify(message.blocks)).toContain("A     shop-c.test  192.0.2.10");
      }
    });

    it("a result written to the outbox before verdicts carried advice still names the record to create", () => {
      const stored: Verdict = { status: "fails", hostname: "old.shop-c.test", expectedTarget: `old.shop-c.test.${suffix}`, recordToCreate: `CNAME old.shop-c.test → old.shop-c.test.${suffix}`, found: ["NXDOMAIN: old.shop-c.test does not exist"] };
      expect(plainText(goLiveResultsMessage({ app: "acme/shop", env: "production", verdicts: [stored], live: false }))).toContain(
        `old.shop-c.test fails: found NXDOMAIN: old.shop-c.test does not exist. Create \`CNAME old.shop-c.test → old.shop-c.test.${suffix}\``,
      );
    });

    it("golive stores the first record of the advice as the record to create", async () => {
      const owner = await buildUser(world.platform);
      const org = await buildOrg(world.platform, owner);
      const { ref } = await buildApplication(world.platform, owner, org, "shop-c.test");
      const result = await goLive({ ...world.platform, dns: withEdgeIpv4 }, { actor: owner, app: ref, env: "production" });
      expect(result.verdicts).toMatchObject([{ status: "fails", recordToCreate: "A shop-c.test 192.0.2.10", advice: { apex: true } }]);
      const stored = await world.platform.db.selectFrom("dns_checks").select("record_to_create").where("hostname", "=", "shop-c.test").execute();
      expect(stored).toEqual([{ record_to_create: "A shop-c.test 192.0.2.10" }]);
    });
  });

  describe("domain add answers at once with what to create to go live", () => {
    async function add(owner: TestUser, line: string, dns: DnsVerifier) {
      const outcome = await runCommandLine({ platform: { ...world.platform, dns }, actor: owner, teamId: "T0TEST" }, line, { slashCommand: "/edge", logger });
      return { text: plainText(outcome.message), message: outcome.message };
    }

    it("gives a zone apex its A records, the ALIAS, and the stray A to remove", async () => {
      const owner = await buildUser(world.platform);
      const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner), `${unique("www")}.example.com`);
      const { text, message } = await add(owner, `domain add ${ref} production shop-d.test`, withEdgeIpv4);
      expect(message.error).toBeUndefined();
      expect(text).toBe(
        [
          `✓ shop-d.test now belongs to ${ref} production.`,
          "shop-d.test is a zone apex, which cannot hold a CNAME. To go live, create these records:",
          "    Type  Name         Value",
          "    A     shop-d.test  192.0.2.10",
          "    A     shop-d.test  192.0.2.11",
          `Or instead, where your DNS host offers it: \`ALIAS/ANAME shop-d.test → shop-d.test.${suffix}\``,
          "Remove what stands in the way:",
          "• remove `AAAA 2001:db8::1`",
          "The old record's TTL is 5 minutes: resolvers may keep the old answer that long after the change.",
          `Then run \`golive ${ref} production\`: it checks DNS and takes the environment live once every domain points at the edge.`,
        ].join("\n"),
      );
      expect(sections(message.blocks)).toEqual([
        {
          text: "*shop-d.test* is a zone apex, which cannot hold a CNAME. To go live, create these records:",
          fields: ["*Type · Name*", "*Value*", "`A` · `shop-d.test`", "`192.0.2.10`", "`A` · `shop-d.test`", "`192.0.2.11`"],
        },
      ]);
    });

    it("gives a subdomain its CNAME, and says when a hostname already points at the edge", async () => {
      const owner = await buildUser(world.platform);
      const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner), `${unique("www")}.example.com`);
      const subdomain = await add(owner, `domain add ${ref} production www.shop-c.test`, withoutEdgeIpv4);
      expect(subdomain.text).toContain(["To go live, create this record:", "    Type   Name             Value", `    CNAME  www.shop-c.test  www.shop-c.test.${suffix}`, "Remove what stands in the way:", "• remove `CNAME shop.old-cdn.example`"].join("\n"));
      const live = await add(owner, `domain add ${ref} production live.shop-c.test`, withoutEdgeIpv4);
      expect(live.text).toBe(`✓ live.shop-c.test now belongs to ${ref} production.\nIt already points at the edge: \`golive ${ref} production\` takes it live.`);
    });

    it("adds the domain when DNS does not answer, with the plain advice: the CNAME, or an apex's records", async () => {
      const owner = await buildUser(world.platform);
      const { ref } = await buildApplication(world.platform, owner, await buildOrg(world.platform, owner), `${unique("www")}.example.com`);
      // Nothing answers on this port: every query times out.
      const silent = createDnsVerifier({ dnsServers: ["127.0.0.1:9"], dnsTimeoutMs: 100, dnsConcurrency: 1, edgeCnameSuffix: suffix, edgeIpv4 });
      try {
        const { text, message } = await add(owner, `domain add ${ref} production shop.unreachable.example`, silent);
        expect(message.error).toBeUndefined();
        expect(text).toBe(
          [
            `✓ shop.unreachable.example now belongs to ${ref} production.`,
            "To go live, create this record:",
            "    Type   Name                      Value",
            `    CNAME  shop.unreachable.example  shop.unreachable.example.${suffix}`,
            "DNS did not answer, so whether shop.unreachable.example is a zone apex is not known. A zone apex cannot hold a CNAME: there, create instead:",
            "    Type  Name                      Value",
            "    A     shop.unreachable.example  192.0.2.10",
            "    A     shop.unreachable.example  192.0.2.11",
            `or, where your DNS host offers it: \`ALIAS/ANAME shop.unreachable.example → shop.unreachable.example.${suffix}\``,
            `Then run \`golive ${ref} production\`: it checks DNS and takes the environment live once every domain points at the edge.`,
          ].join("\n"),
        );
        const row = await world.platform.db.selectFrom("domains").select("hostname").where("hostname", "=", "shop.unreachable.example").executeTakeFirst();
        expect(row).toEqual({ hostname: "shop.unreachable.example" });
      } finally {
        silent.close();
      }
    });
  });
});
