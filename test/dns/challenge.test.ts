import { afterEach, describe, expect, it } from "vitest";
import { DnsClient, parseResolver } from "../../src/dns/client.ts";
import { challengeName, DnsVerifier } from "../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer, type ZoneOptions } from "../support/dns-server.ts";

const running: Array<{ server: TestDnsServer; verifier: DnsVerifier }> = [];
afterEach(async () => {
  for (const { server, verifier } of running.splice(0)) {
    verifier.close();
    await server.close();
  }
});

async function verifierFor(zone: ZoneOptions) {
  const server = await startDnsServer(zone);
  const client = new DnsClient({ resolvers: [parseResolver(server.address)], timeoutMs: 300, retries: 1 });
  const verifier = new DnsVerifier({ client, edgeCnameSuffix: "edge.test.net", edgeIpv4: [], concurrency: 10 });
  running.push({ server, verifier });
  return { server, verifier };
}

const token = "edgebot-claim-4f1c2a9e0b7d4e6f8a1b2c3d4e5f6a7b";

describe("the ownership challenge of a hostname, against a real DNS server on loopback", () => {
  it("is found when a TXT record at _edgebot-challenge.<hostname> holds the token, among other TXT records", async () => {
    const { verifier, server } = await verifierFor({
      records: [
        { name: "_edgebot-challenge.www.shop.example", type: "TXT", text: "google-site-verification=abc" },
        { name: "_edgebot-challenge.www.shop.example", type: "TXT", text: token },
      ],
    });
    expect(challengeName("WWW.Shop.Example.")).toBe("_edgebot-challenge.www.shop.example");
    expect(await verifier.verifyChallenge("www.shop.example", token)).toEqual({ status: "found", hostname: "www.shop.example", recordName: "_edgebot-challenge.www.shop.example" });
    expect(server.questions).toEqual(["_edgebot-challenge.www.shop.example TXT udp"]);
  });

  it("is missing when the record holds another value, saying what it holds", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "_edgebot-challenge.www.shop.example", type: "TXT", text: "edgebot-claim-not-this-one" }] });
    expect(await verifier.verifyChallenge("www.shop.example", token)).toEqual({
      status: "missing",
      hostname: "www.shop.example",
      recordName: "_edgebot-challenge.www.shop.example",
      found: ["edgebot-claim-not-this-one"],
    });
  });

  it("is missing when the name does not exist, and when only the hostname itself holds the token", async () => {
    const { verifier } = await verifierFor({ records: [{ name: "www.shop.example", type: "TXT", text: token }] });
    expect(await verifier.verifyChallenge("www.shop.example", token)).toMatchObject({ status: "missing", found: [] });
  });

  it("follows a CNAME from the challenge name to where the record is kept", async () => {
    const { verifier } = await verifierFor({
      chase: true,
      records: [
        { name: "_edgebot-challenge.www.shop.example", type: "CNAME", target: "www.challenges.dns-host.example" },
        { name: "www.challenges.dns-host.example", type: "TXT", text: token },
      ],
    });
    expect(await verifier.verifyChallenge("www.shop.example", token)).toMatchObject({ status: "found" });
  });

  it("could not check on SERVFAIL or when nothing answers: never a refusal", async () => {
    const { verifier } = await verifierFor({ records: [], serverFailure: ["_edgebot-challenge.broken.example"], silent: ["_edgebot-challenge.silent.example"] });
    expect(await verifier.verifyChallenge("broken.example", token)).toMatchObject({ status: "could_not_check", reason: expect.stringContaining("SERVFAIL") });
    expect(await verifier.verifyChallenge("silent.example", token)).toMatchObject({ status: "could_not_check", reason: expect.stringContaining("no answer") });
  });
});
