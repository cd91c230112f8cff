import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";
import { dnsTally } from "../../src/metrics.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { failure } from "../support/world.ts";

const suffix = "edge.test.net";

describe("large batches on the verifier's own thread (verifyInBulk)", () => {
  let server: TestDnsServer;
  let dns: DnsVerifier;
  const passing = Array.from({ length: 40 }, (_, index) => `site${index}.bulk.example`);
  const names = [...passing, "elsewhere.bulk.example", "gone.bulk.example", "broken.bulk.example"];

  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        ...passing.map((name) => ({ name, type: "CNAME" as const, target: `${name}.${suffix}` })),
        { name: "elsewhere.bulk.example", type: "CNAME", target: "old.other-cdn.example" },
        { name: "old.other-cdn.example", type: "A", address: "203.0.113.5" },
        { name: "bulk.example", type: "SOA" },
      ],
      serverFailure: ["broken.bulk.example"],
    });
    dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 8, edgeCnameSuffix: suffix, edgeIpv4: [] });
  });
  afterAll(async () => {
    dns?.close();
    await server?.close();
  });

  it("gives the verdicts this thread gives, in order, and counts them in this thread's metrics", async () => {
    const before = structuredClone(dnsTally);
    const bulk = await dns.verifyInBulk(names);
    const counted = { verdicts: { ...dnsTally.verdicts }, queries: { ...dnsTally.queries } };
    expect(bulk).toEqual(await dns.verifyAll(names));
    expect(bulk.map((verdict) => verdict.status)).toEqual([...passing.map(() => "passes"), "fails", "fails", "could_not_check"]);

    // The thread's counts reached this thread's tally, which /metrics reads.
    expect(counted.verdicts).toEqual({ passes: before.verdicts.passes + 40, fails: before.verdicts.fails + 2, could_not_check: before.verdicts.could_not_check + 1 });
    expect(counted.queries.answered).toBeGreaterThanOrEqual(before.queries.answered + names.length);
    // Both runs asked the server: the thread's questions went over the network as this thread's do.
    expect(server.questions.filter((question) => question === "site0.bulk.example A udp")).toHaveLength(2);
  });

  it("ends its thread once it has held no batch for a while, and starts another for the next batch", async () => {
    // This process's threads, as the system counts them.
    const threads = () => readdirSync("/proc/self/task").length;
    const verifier = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 8, edgeCnameSuffix: suffix, edgeIpv4: [], threadIdleMs: 300 });
    try {
      const before = threads();
      const first = await verifier.verifyInBulk(passing.slice(0, 5));
      expect(first.map((verdict) => verdict.status)).toEqual(["passes", "passes", "passes", "passes", "passes"]);
      // The thread (from the sources, with the thread tsx's module hooks run on).
      const running = threads();
      expect(running).toBeGreaterThan(before);
      await expect.poll(threads, { timeout: 10_000 }).toBe(before);
      // The next batch starts another; batches closer together than the idle time keep it.
      expect(await verifier.verifyInBulk(passing.slice(5, 10))).toHaveLength(5);
      expect(await verifier.verifyInBulk(passing.slice(10, 15))).toHaveLength(5);
      expect(threads()).toBe(running);
      await expect.poll(threads, { timeout: 10_000 }).toBe(before);
    } finally {
      verifier.close();
    }
  });

  it("fails a batch still held when the verifier closes, and any asked after", async () => {
    const silent = await startDnsServer({ records: [], silent: ["quiet.bulk.example"] });
    const verifier = createDnsVerifier({ dnsServers: [silent.address], dnsTimeoutMs: 5000, dnsConcurrency: 1, edgeCnameSuffix: suffix, edgeIpv4: [] });
    try {
      const held = verifier.verifyInBulk(["quiet.bulk.example"]);
      await expect.poll(() => silent.questions.length, { timeout: 10_000 }).toBeGreaterThan(0);
      verifier.close();
      expect(String(await failure(held))).toContain("the DNS verifier was closed");
      expect(String(await failure(verifier.verifyInBulk(["site1.bulk.example"])))).toContain("the DNS verifier was closed");
    } finally {
      verifier.close();
      await silent.close();
    }
  });
});
