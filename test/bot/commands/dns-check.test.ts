import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommandLine } from "../../../src/bot/dispatch.ts";
import { maxSectionText } from "../../../src/bot/message.ts";
import { plainText } from "../../../src/bot/shell.ts";
import { createDnsVerifier, type DnsVerifier } from "../../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer } from "../../support/dns-server.ts";
import { buildUser, snapshot, useWorld, type TestUser } from "../../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });
const suffix = "edge.test.net";

describe("dns check, through the dispatcher, against a DNS server on loopback", () => {
  let server: TestDnsServer;
  let dns: DnsVerifier;
  let user: TestUser;

  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        { name: "www.shop.example", type: "CNAME", target: `www.shop.example.${suffix}` },
        { name: "old.shop.example", type: "CNAME", target: "shop.old-cdn.example" },
        { name: "shop.old-cdn.example", type: "A", address: "203.0.113.5" },
        { name: "shop.example", type: "A", address: "192.0.2.10" },
        { name: "shop.example", type: "AAAA", address: "2001:db8::1" },
        { name: "xn--bcher-kva.example", type: "CNAME", target: `xn--bcher-kva.example.${suffix}` },
      ],
      serverFailure: ["broken.shop.example"],
    });
    dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: ["192.0.2.10"] });
    world.platform = { ...world.platform, dns };
    user = await buildUser(world.platform);
  });
  afterAll(async () => {
    dns?.close();
    await server?.close();
  });

  async function reply(line: string) {
    const outcome = await runCommandLine({ platform: world.platform, actor: user, teamId: "T0TEST" }, line, { slashCommand: "/edge", logger });
    return { text: plainText(outcome.message), message: outcome.message };
  }

  it("tells a developer their CNAME points at the edge", async () => {
    const { text, message } = await reply("dns check www.shop.example");
    expect(text).toBe(
      [
        "www.shop.example points at the edge.",
        `Expected: \`CNAME www.shop.example → www.shop.example.${suffix}\``,
        `Found: CNAME www.shop.example → www.shop.example.${suffix}`,
      ].join("\n"),
    );
    expect(message.error).toBeUndefined();
  });

  it("names the record to create and what DNS holds instead", async () => {
    const { text } = await reply("/edge dns check OLD.Shop.Example.");
    expect(text).toContain("old.shop.example does not point at the edge yet.");
    expect(text).toContain(`Create this record:\n    Type   Name              Value\n    CNAME  old.shop.example  old.shop.example.${suffix}`);
    expect(text).toContain("• wrong CNAME target: old.shop.example → shop.old-cdn.example (which has A 203.0.113.5)");
    expect(text).toContain("• remove `CNAME shop.old-cdn.example`");
    // A subdomain is no zone apex: no ALIAS.
    expect(text).not.toContain("ALIAS");
  });

  it("tells an apex owner to remove the AAAA record", async () => {
    const { text } = await reply("dns check shop.example");
    expect(text).toContain("• AAAA 2001:db8::1: not the edge (it is IPv4): remove the AAAA record");
  });

  it("says a SERVFAIL could not be checked, not that the domain fails", async () => {
    const { text, message } = await reply("dns check broken.shop.example");
    expect(text).toContain(`Could not check broken.shop.example: SERVFAIL from ${server.address} for broken.shop.example A.`);
    expect(text).toContain("That is not a failure");
    expect(text).not.toContain("does not point at the edge");
    expect(message.error).toBeUndefined();
  });

  it("checks the host of a pasted URL and an internationalised name in punycode", async () => {
    expect((await reply("dns check https://www.shop.example/cart")).text).toContain("You gave a URL; its hostname www.shop.example is what was checked.");
    const idn = await reply("dns check bücher.example");
    expect(idn.text).toContain("xn--bcher-kva.example (bücher.example) points at the edge.");
  });

  it("answers bad input with a clear message, asks DNS nothing and writes nothing", async () => {
    const before = await snapshot(world.platform);
    const asked = server.questions.length;
    const cases: Array<[string, string]> = [
      ["dns check", "<hostname> is missing"],
      ["dns check 192.0.2.1", "192.0.2.1 is an IP address: domains must be hostnames"],
      ["dns check [2001:db8::1]", "is an IP address"],
      ["dns check *.shop.example", "wildcard hostnames are not supported"],
      ["dns check localhost", "localhost needs a domain, like localhost.com"],
      ["dns check under_score.example", "is not a valid hostname"],
      [`dns check ${"a".repeat(64)}.example`, "is 64 characters long (63 at most)"],
      [`dns check ${Array.from({ length: 60 }, () => "abcd").join(".")}.example`, "that hostname is 307 characters long (253 at most)"],
      ["dns check ftp://shop.example", "only http and https URLs can be reduced to a hostname"],
    ];
    for (const [line, expected] of cases) {
      const { text, message } = await reply(line);
      expect(message.error, line).toBe(true);
      expect(text, line).toContain(expected);
      expect(text, line).toContain("Usage: `dns check <hostname>`");
      expect(text.length).toBeLessThan(maxSectionText);
    }
    expect(server.questions.length).toBe(asked);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("is listed in help", async () => {
    expect((await reply("help dns")).text).toContain("dns check <hostname>");
  });
});
