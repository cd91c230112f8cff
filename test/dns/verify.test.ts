import { afterEach, describe, expect, it } from "vitest";
import { DnsClient, parseResolver } from "../../src/dns/client.ts";
import { DnsVerifier } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer, type ZoneOptions } from "../support/dns-server.ts";

const suffix = "edge.test.net";
const edgeIpv4 = ["192.0.2.10", "192.0.2.11"];

const running: Array<{ server: TestDnsServer; verifier: DnsVerifier }> = [];
afterEach(async () => {
  for (const { server, verifier } of running.splice(0)) {
    verifier.close();
    await server.close();
  }
});

/** A verifier asking a real DNS server on loopback that serves `zone`. */
async function verifierFor(zone: ZoneOptions, options: { timeoutMs?: number; retries?: number; concurrency?: number } = {}) {
  const server = await startDnsServer(zone);
  const client = new DnsClient({ resolvers: [parseResolver(server.address)], timeoutMs: options.timeoutMs ?? 1000, retries: options.retries ?? 1 });
  const verifier = new DnsVerifier({ client, edgeCnameSuffix: suffix, edgeIpv4, concurrency: options.concurrency ?? 200 });
  running.push({ server, verifier });
  return { server, verifier };
}

describe("DNS verification against a real server on loopback", () => {
  it("passes a hostname whose CNAME is the expected target", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "www.shop.example", type: "CNAME", target: `www.shop.example.${suffix}` }] });
    expect(await verifier.verify("www.shop.example")).toEqual({
      status: "passes",
      hostname: "www.shop.example",
      expectedTarget: `www.shop.example.${suffix}`,
      found: `CNAME www.shop.example → www.shop.example.${suffix}`,
    });
  });

  it("follows a 3-step chain to the target, asking again where an answer stops", async () => {
    const { verifier, server } = await verifierFor({
      records: [
        { name: "www.shop.example", type: "CNAME", target: "cdn.shop.example" },
        { name: "cdn.shop.example", type: "CNAME", target: "edge-alias.shop.example" },
        { name: "edge-alias.shop.example", type: "CNAME", target: `www.shop.example.${suffix}` },
      ],
    });
    const verdict = await verifier.verify("www.shop.example");
    expect(verdict).toMatchObject({ status: "passes", found: `CNAME www.shop.example → cdn.shop.example → edge-alias.shop.example → www.shop.example.${suffix}` });
    expect(server.questions).toEqual(["www.shop.example A udp", "cdn.shop.example A udp", "edge-alias.shop.example A udp"]);
  });

  it("reads a whole chain from one answer, as a recursive resolver sends it", async () => {
    const { verifier, server } = await verifierFor({
      chase: true,
      records: [
        { name: "www.shop.example", type: "CNAME", target: "cdn.shop.example" },
        { name: "cdn.shop.example", type: "CNAME", target: `www.shop.example.${suffix}` },
      ],
    });
    expect(await verifier.verify("www.shop.example")).toMatchObject({ status: "passes" });
    expect(server.questions).toEqual(["www.shop.example A udp"]);
  });

  it("fails a CNAME to the wrong target, naming the record to create and what it points at", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "www.shop.example", type: "CNAME", target: "shop.old-cdn.example" },
        { name: "shop.old-cdn.example", type: "A", address: "203.0.113.5" },
      ],
    });
    expect(await verifier.verify("www.shop.example")).toEqual({
      status: "fails",
      hostname: "www.shop.example",
      expectedTarget: `www.shop.example.${suffix}`,
      recordToCreate: `CNAME www.shop.example → www.shop.example.${suffix}`,
      advice: {
        apex: false,
        create: [{ type: "CNAME", name: "www.shop.example", value: `www.shop.example.${suffix}` }],
        remove: [{ type: "CNAME", name: "www.shop.example", value: "shop.old-cdn.example" }],
        ttlSeconds: 60,
      },
      found: ["wrong CNAME target: www.shop.example → shop.old-cdn.example (which has A 203.0.113.5)"],
      foundParts: [["wrong CNAME target: www.shop.example → shop.old-cdn.example (which has A ", { addresses: ["203.0.113.5"] }, ")"]],
    });
  });

  it("fails a hostname that does not exist with NXDOMAIN", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "other.shop.example", type: "A", address: "192.0.2.10" }] });
    expect(await verifier.verify("www.shop.example")).toMatchObject({
      status: "fails",
      recordToCreate: `CNAME www.shop.example → www.shop.example.${suffix}`,
      found: ["NXDOMAIN: www.shop.example does not exist"],
    });
  });

  it("fails a name that exists without any address as no data", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "www.shop.example", type: "TXT", text: "v=spf1 -all" }] });
    expect(await verifier.verify("www.shop.example")).toMatchObject({ status: "fails", found: ["no data: www.shop.example has no CNAME, A or AAAA record"] });
  });

  it("fails a CNAME to a name that does not exist", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "www.shop.example", type: "CNAME", target: "typo.shop.example" }] });
    expect(await verifier.verify("www.shop.example")).toMatchObject({ status: "fails", found: ["wrong CNAME target: www.shop.example → typo.shop.example (which does not exist: NXDOMAIN)"] });
  });

  it("passes an apex whose A records are all edge addresses", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "shop.example", type: "A", address: "192.0.2.10" },
        { name: "shop.example", type: "A", address: "192.0.2.11" },
      ],
    });
    expect(await verifier.verify("shop.example")).toMatchObject({ status: "passes", found: "A 192.0.2.10, 192.0.2.11: edge addresses" });
  });

  it("passes an apex flattened to the expected target's own A records (ALIAS)", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "shop.example", type: "A", address: "198.51.100.7" },
        { name: `shop.example.${suffix}`, type: "A", address: "198.51.100.7" },
      ],
    });
    expect(await verifier.verify("shop.example")).toMatchObject({ status: "passes" });
  });

  it("fails an apex with a stray A record, naming only the stray one", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "shop.example", type: "A", address: "192.0.2.10" },
        { name: "shop.example", type: "A", address: "203.0.113.9" },
        { name: `shop.example.${suffix}`, type: "A", address: "192.0.2.11" },
      ],
    });
    expect(await verifier.verify("shop.example")).toMatchObject({
      status: "fails",
      recordToCreate: `CNAME shop.example → shop.example.${suffix}`,
      found: ["A 203.0.113.9: not an edge address"],
    });
  });

  it("fails an AAAA record that is not the edge, saying to remove it", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "shop.example", type: "A", address: "192.0.2.10" },
        { name: "shop.example", type: "AAAA", address: "2001:db8::1" },
      ],
    });
    expect(await verifier.verify("shop.example")).toMatchObject({
      status: "fails",
      found: ["AAAA 2001:db8::1: not the edge (it is IPv4): remove the AAAA record"],
    });
    const onlyIpv6 = await verifierFor({ records: [{ name: "v6.shop.example", type: "AAAA", address: "2001:db8::2" }] });
    expect(await onlyIpv6.verifier.verify("v6.shop.example")).toMatchObject({
      status: "fails",
      found: ["no A or CNAME record at v6.shop.example", "AAAA 2001:db8::2: not the edge (it is IPv4): remove the AAAA record"],
    });
  });

  it("compares answers without regard to case or a trailing dot", async () => {
    const { verifier } = await verifierFor({
      records: [
        { name: "WWW.Shop.Example.", type: "CNAME", target: "CDN.SHOP.example." },
        { name: "cdn.shop.example", type: "CNAME", target: `WWW.SHOP.EXAMPLE.${suffix.toUpperCase()}.` },
      ],
    });
    expect(await verifier.verify("www.shop.example")).toMatchObject({ status: "passes", found: `CNAME www.shop.example → cdn.shop.example → www.shop.example.${suffix}` });
  });

  it("fails a CNAME loop instead of following it forever", async () => {
    const { verifier, server } = await verifierFor({
      records: [
        { name: "www.shop.example", type: "CNAME", target: "a.shop.example" },
        { name: "a.shop.example", type: "CNAME", target: "b.shop.example" },
        { name: "b.shop.example", type: "CNAME", target: "a.shop.example" },
      ],
    });
    expect(await verifier.verify("www.shop.example")).toMatchObject({
      status: "fails",
      found: ["CNAME loop: www.shop.example → a.shop.example → b.shop.example → a.shop.example"],
    });
    // Three steps, then the SOA question a failing hostname's advice needs.
    expect(server.questions).toHaveLength(4);
  });

  it("gives up on a chain longer than the depth limit", async () => {
    const names = Array.from({ length: 12 }, (_, index) => `hop${index}.shop.example`);
    const { verifier, server } = await verifierFor({
      records: [
        { name: "www.shop.example", type: "CNAME", target: names[0]! },
        ...names.map((name, index) => ({ name, type: "CNAME" as const, target: names[index + 1] ?? `www.shop.example.${suffix}` })),
      ],
    });
    const verdict = await verifier.verify("www.shop.example");
    expect(verdict).toMatchObject({ status: "fails" });
    expect(verdict.status === "fails" && verdict.found[0]).toMatch(/^CNAME chain too long: more than 8 steps from www\.shop\.example \(www\.shop\.example → hop0\.shop\.example → .* → hop7\.shop\.example → …\)$/);
    expect(server.questions).toHaveLength(10);
  });

  it("says it could not check when the server never answers, after its retries", async () => {
    const { verifier, server } = await verifierFor({ records: [], silent: ["www.shop.example"] }, { timeoutMs: 150, retries: 1 });
    const started = Date.now();
    const verdict = await verifier.verify("www.shop.example");
    expect(verdict).toMatchObject({ status: "could_not_check" });
    expect(verdict.status === "could_not_check" && verdict.reason).toBe(`no answer for www.shop.example A within 150 ms from ${server.address} (2 tries)`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(server.questions).toEqual(["www.shop.example A udp", "www.shop.example A udp"]);
  });

  it("says it could not check on SERVFAIL, never that it fails", async () => {
    const { verifier, server } = await verifierFor({ records: [], serverFailure: ["www.shop.example"] });
    expect(await verifier.verify("www.shop.example")).toEqual({
      status: "could_not_check",
      hostname: "www.shop.example",
      expectedTarget: `www.shop.example.${suffix}`,
      reason: `SERVFAIL from ${server.address} for www.shop.example A`,
    });
  });

  it("says it could not check when the server refuses, also part-way along a chain", async () => {
    const { verifier, server } = await verifierFor({ records: [{ name: "www.shop.example", type: "CNAME", target: "cdn.other.example" }], refused: ["cdn.other.example"] });
    expect(await verifier.verify("www.shop.example")).toMatchObject({ status: "could_not_check", reason: `REFUSED from ${server.address} for cdn.other.example A` });
  });

  it("asks again over TCP when the UDP answer is truncated", async () => {
    // 40 A records do not fit in 512 bytes: dns2's server sets TC over UDP and sends them all over TCP.
    const addresses = Array.from({ length: 40 }, (_, index) => `192.0.2.${index + 10}`);
    const server = await startDnsServer({ records: addresses.map((address) => ({ name: "shop.example", type: "A" as const, address })) });
    const client = new DnsClient({ resolvers: [parseResolver(server.address)], timeoutMs: 1000, retries: 0 });
    const verifier = new DnsVerifier({ client, edgeCnameSuffix: suffix, edgeIpv4: addresses, concurrency: 10 });
    running.push({ server, verifier });
    const verdict = await verifier.verify("shop.example");
    expect(verdict).toMatchObject({ status: "passes" });
    expect(verdict.status === "passes" && verdict.found.split(", ")).toHaveLength(40);
    expect(server.questions.slice(0, 2)).toEqual(["shop.example A udp", "shop.example A tcp"]);
  });

  it("checks many hostnames at once, never more than the concurrency limit", async () => {
    const hostnames = Array.from({ length: 60 }, (_, index) => `site${index}.shop.example`);
    const { verifier, server } = await verifierFor(
      { delayMs: 20, records: hostnames.map((name) => ({ name, type: "CNAME" as const, target: `${name}.${suffix}` })) },
      { concurrency: 7 },
    );
    const verdicts = await verifier.verifyAll(hostnames);
    expect(verdicts.map((verdict) => verdict.hostname)).toEqual(hostnames);
    expect(verdicts.every((verdict) => verdict.status === "passes")).toBe(true);
    expect(server.maxInFlight).toBe(7);
  });
});
