import { PassThrough, Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShell } from "../../src/bot/shell.ts";
import { checkDns, isMemberServing } from "../../src/core/domains.ts";
import { createDnsVerifier, isInternalAddress, withoutInternalAddresses, type DnsVerifier } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { addMember, buildApplication, buildOrg, buildUser, unique, useWorld } from "../support/world.ts";

const world = useWorld();
const suffix = "edge.test.net";

describe("which addresses are internal", () => {
  it("counts private, loopback, link-local, CGNAT and 'this network' addresses, and nothing around them", () => {
    const internal = ["10.0.0.0", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "127.255.0.9", "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3"];
    const external = ["9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "128.0.0.1", "169.253.0.1", "100.63.255.255", "100.128.0.0", "1.0.0.0", "8.8.8.8", "203.0.113.5"];
    const internalV6 = ["::1", "fc00::1", "fd12:3456::7", "fe80::1", "febf::ffff", "::ffff:a14:1e28", "::ffff:192.168.0.1", "::"];
    const externalV6 = ["::2", "fbff::1", "fec0::1", "2001:db8::1", "2606:4700::1111", "::ffff:808:808"];
    for (const address of [...internal, ...internalV6]) expect(isInternalAddress(address), address).toBe(true);
    for (const address of [...external, ...externalV6, "not an address"]) expect(isInternalAddress(address), address).toBe(false);
  });
});

describe("dns check shows internal addresses only to members of the org serving the hostname", () => {
  let server: TestDnsServer;
  let dns: DnsVerifier;
  const logger = pino({ level: "silent" });

  beforeAll(async () => {
    server = await startDnsServer({
      records: [
        { name: "db.corp.example", type: "A", address: "10.20.30.40" },
        { name: "db.corp.internal", type: "A", address: "10.20.30.40" },
        { name: "mixed.corp.example", type: "A", address: "10.0.0.7" },
        { name: "mixed.corp.example", type: "A", address: "203.0.113.9" },
        { name: "mixed.corp.example", type: "AAAA", address: "fd00::7" },
        { name: "mixed.corp.example", type: "AAAA", address: "2001:db8::7" },
        { name: "intranet.corp.example", type: "CNAME", target: "intranet.corp.lan" },
        { name: "intranet.corp.lan", type: "A", address: "192.168.1.5" },
        { name: "intranet.corp.lan", type: "A", address: "100.64.0.9" },
        { name: "v6.corp.example", type: "AAAA", address: "fe80::1" },
        { name: "public.shop.example", type: "A", address: "203.0.113.5" },
        { name: "apex.corp.example", type: "A", address: "192.0.2.10" },
        { name: "onprem.corp.example", type: "A", address: "10.9.9.9" },
      ],
    });
    dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: ["192.0.2.10", "10.9.9.9"] });
    world.platform = { ...world.platform, dns };
  });
  afterAll(async () => {
    dns?.close();
    await server?.close();
  });

  describe("withoutInternalAddresses, on verdicts from a DNS server on loopback", () => {
    it("leaves internal addresses out of what was found, counting them, and keeps the status and advice", async () => {
      const verdict = await dns.verify("db.corp.example");
      expect(verdict).toMatchObject({ status: "fails", found: ["A 10.20.30.40: not an edge address"] });
      const hidden = withoutInternalAddresses(verdict);
      expect(hidden).toMatchObject({
        status: "fails",
        recordToCreate: `CNAME db.corp.example → db.corp.example.${suffix}`,
        found: ["A [an internal address, not shown]: not an edge address"],
        advice: { apex: false, remove: [{ type: "A", name: "db.corp.example", value: "[an internal address, not shown]" }], ttlSeconds: 60 },
      });
      expect(JSON.stringify(hidden)).not.toContain("10.20.30.40");
    });

    it("keeps public addresses beside the internal ones, in A, AAAA and a CNAME's target", async () => {
      const mixed = withoutInternalAddresses(await dns.verify("mixed.corp.example"));
      expect(mixed).toMatchObject({
        status: "fails",
        found: ["A 203.0.113.9, [an internal address, not shown]: not an edge address", "AAAA 2001:db8::7, [an internal address, not shown]: not the edge (it is IPv4): remove the AAAA record"],
      });
      expect(mixed.status === "fails" && mixed.advice?.remove).toEqual([
        { type: "A", name: "mixed.corp.example", value: "203.0.113.9" },
        { type: "AAAA", name: "mixed.corp.example", value: "2001:db8::7" },
        { type: "A", name: "mixed.corp.example", value: "[an internal address, not shown]" },
        { type: "AAAA", name: "mixed.corp.example", value: "[an internal address, not shown]" },
      ]);
      const chained = withoutInternalAddresses(await dns.verify("intranet.corp.example"));
      expect(chained).toMatchObject({ status: "fails", found: ["wrong CNAME target: intranet.corp.example → intranet.corp.lan (which has A [2 internal addresses, not shown])"] });
      const v6 = withoutInternalAddresses(await dns.verify("v6.corp.example"));
      expect(v6).toMatchObject({ found: ["no A or CNAME record at v6.corp.example", "AAAA [an internal address, not shown]: not the edge (it is IPv4): remove the AAAA record"] });
      for (const verdict of [mixed, chained, v6]) {
        for (const address of ["10.0.0.7", "fd00::7", "192.168.1.5", "100.64.0.9", "fe80::1"]) expect(JSON.stringify(verdict)).not.toContain(address);
      }
    });

    it("hides an internal edge address in a passing verdict too, and changes nothing where every address is public", async () => {
      const onPrem = await dns.verify("onprem.corp.example");
      expect(onPrem).toMatchObject({ status: "passes", found: "A 10.9.9.9: edge addresses" });
      expect(withoutInternalAddresses(onPrem)).toMatchObject({ status: "passes", found: "A [an internal address, not shown]: edge addresses" });
      const passing = await dns.verify("apex.corp.example");
      expect(passing).toMatchObject({ status: "passes", found: "A 192.0.2.10: edge addresses" });
      expect(withoutInternalAddresses(passing)).toEqual(passing);
      const publicOnly = await dns.verify("public.shop.example");
      expect(withoutInternalAddresses(publicOnly)).toEqual(publicOnly);
    });

    it("gives the same verdict when applied twice", async () => {
      const once = withoutInternalAddresses(await dns.verify("mixed.corp.example"));
      expect(withoutInternalAddresses(once)).toEqual(once);
    });
  });

  describe("isMemberServing", () => {
    it("is true for every member of the serving org, whatever the role, and false for anyone else or a hostname no one serves", async () => {
      const owner = await buildUser(world.platform);
      const viewer = await buildUser(world.platform);
      const stranger = await buildUser(world.platform);
      const org = await buildOrg(world.platform, owner);
      await addMember(world.platform, org, viewer, "viewer");
      const otherOwner = await buildUser(world.platform);
      await buildOrg(world.platform, otherOwner);
      const { hostname } = await buildApplication(world.platform, owner, org, `${unique("db")}.corp.example`);
      expect(await isMemberServing(world.platform.db, owner, hostname)).toBe(true);
      expect(await isMemberServing(world.platform.db, viewer, hostname)).toBe(true);
      expect(await isMemberServing(world.platform.db, stranger, hostname)).toBe(false);
      expect(await isMemberServing(world.platform.db, otherOwner, hostname)).toBe(false);
      expect(await isMemberServing(world.platform.db, owner, "unserved.corp.example")).toBe(false);
    });
  });

  describe("checkDns", () => {
    it("reads the hostname as typed, and shows the serving org's members what the rest see without internal addresses", async () => {
      const owner = await buildUser(world.platform);
      const stranger = await buildUser(world.platform);
      await buildApplication(world.platform, owner, await buildOrg(world.platform, owner), "mixed.corp.example");
      const verdict = await dns.verify("mixed.corp.example");
      const pasted = "https://Mixed.Corp.Example/status";
      expect(await checkDns(world.platform, { actor: owner, hostname: pasted })).toEqual({ verdict, reducedFrom: pasted });
      expect(await checkDns(world.platform, { actor: stranger, hostname: "mixed.corp.example." })).toEqual({ verdict: withoutInternalAddresses(verdict) });
      expect(JSON.stringify(withoutInternalAddresses(verdict))).not.toContain("10.0.0.7");
    });
  });

  describe("typed in the local shell", () => {
    /** Runs lines in the shell as `user` and returns what it printed. */
    async function shell(user: string, lines: string[]): Promise<string> {
      const input = new PassThrough();
      let printed = "";
      const output = new Writable({
        write(chunk: Buffer, _encoding, done) {
          printed += chunk.toString();
          done();
        },
      });
      input.end(`${lines.join("\n")}\n`);
      await runShell({ platform: world.platform, user, slashCommand: "/edge", logger, input, output, interactive: false });
      return printed;
    }

    it("shows the org's own members where its hostname points, and a stranger only that it is not the edge", async () => {
      const org = unique("corp");
      const owner = unique("ana");
      const created = await shell(owner, [`app create db.corp.example --new-org ${org}`, "dns check db.corp.example"]);
      expect(created).toContain("• A 10.20.30.40: not an edge address");

      const stranger = await shell(unique("mallory"), ["dns check db.corp.example", "dns check intranet.corp.example", "/edge dns check mixed.corp.example"]);
      expect(stranger).toContain("db.corp.example does not point at the edge yet.");
      expect(stranger).toContain("Create this record:\n    Type   Name             Value\n    CNAME  db.corp.example  db.corp.example.edge.test.net");
      expect(stranger).toContain("• remove `A [an internal address, not shown]`");
      expect(stranger).toContain("• A [an internal address, not shown]: not an edge address");
      expect(stranger).toContain("• wrong CNAME target: intranet.corp.example → intranet.corp.lan (which has A [2 internal addresses, not shown])");
      expect(stranger).toContain("• A 203.0.113.9, [an internal address, not shown]: not an edge address");
      for (const address of ["10.20.30.40", "192.168.1.5", "100.64.0.9", "10.0.0.7", "fd00::7"]) expect(stranger).not.toContain(address);
    });

    it("hides a hostname that no org serves from everyone: db.corp.internal → 10.20.30.40 is nobody's to see", async () => {
      const printed = await shell(unique("ana"), ["dns check db.corp.internal"]);
      expect(printed).toContain("• A [an internal address, not shown]: not an edge address");
      expect(printed).not.toContain("10.20.30.40");
    });
  });
});
