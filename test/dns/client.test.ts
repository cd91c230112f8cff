import { createSocket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { canonicalName, DnsClient, DnsTimeout, parseResolver, resolversFrom } from "../../src/dns/client.ts";
import { DnsVerifier } from "../../src/dns/verify.ts";

describe("resolvers and names", () => {
  it("reads DNS_SERVERS entries: ip, ip:port, [ipv6]:port and a bare IPv6 address", () => {
    expect(parseResolver("127.0.0.1")).toEqual({ host: "127.0.0.1", port: 53 });
    expect(parseResolver("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseResolver("[::1]:5353")).toEqual({ host: "::1", port: 5353 });
    expect(parseResolver("::1")).toEqual({ host: "::1", port: 53 });
  });

  it("falls back to the system's resolvers when DNS_SERVERS is empty", () => {
    expect(resolversFrom(["127.0.0.1:5300"])).toEqual([{ host: "127.0.0.1", port: 5300 }]);
    expect(resolversFrom([]).length).toBeGreaterThan(0);
  });

  it("compares names without case or a trailing dot", () => {
    expect(canonicalName("WWW.Shop.Example.")).toBe("www.shop.example");
  });
});

/**
 * A misbehaving DNS server on loopback: raw UDP, answering each query with what `answer`
 * makes of it (any number of datagrams, possibly none).
 */
async function startRawServer(answer: (query: Buffer) => Buffer[]) {
  const socket = createSocket("udp4");
  const queries: Buffer[] = [];
  socket.on("message", (query, peer) => {
    queries.push(query);
    for (const datagram of answer(query)) socket.send(datagram, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const server = { address: `127.0.0.1:${socket.address().port}`, queries, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  servers.push(server);
  return server;
}

const servers: Array<{ close(): Promise<void> }> = [];
const clients: DnsClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) await server.close();
});

function clientOf(address: string, options: { timeoutMs: number; retries: number }): DnsClient {
  const client = new DnsClient({ resolvers: [parseResolver(address)], ...options });
  clients.push(client);
  return client;
}

/** A reply to `query` (its id and question) with `answers`, raw bytes, and QR set. */
function replyTo(query: Buffer, answers: number[] = [], answerCount = answers.length > 0 ? 1 : 0): Buffer {
  const reply = Buffer.concat([query, Buffer.from(answers)]);
  reply[2] = 0x81;
  reply[3] = 0x80;
  reply.writeUInt16BE(answerCount, 6);
  return reply;
}

/** An A record for the question's name (a pointer to byte 12) with `address`. */
const aRecord = (address: number[]) => [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address];

describe("the DNS client against a server that misbehaves", () => {
  it("ends a try at once on a reply it cannot read, and says why once no try is left", async () => {
    // The answer's name is a compression pointer to itself: a loop.
    const server = await startRawServer((query) => [replyTo(query, [0xc0, query.length, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])]);
    // A try that waited for its timeout would outlast the test's own.
    const client = clientOf(server.address, { timeoutMs: 60_000, retries: 1 });
    const failure = await client.query("www.shop.example", "A").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DnsTimeout);
    expect((failure as Error).message).toBe(
      `no answer for www.shop.example A within 60000 ms from ${server.address} (2 tries); the last: an unreadable answer from ${server.address}: a compression pointer at byte 34 points forward or into a loop (to byte 34)`,
    );
    expect(server.queries).toHaveLength(2);
  });

  it("makes a verifier say it could not check, with the reason", async () => {
    const server = await startRawServer((query) => [replyTo(query.subarray(0, query.length - 4), [], 0)]);
    const verifier = new DnsVerifier({ client: clientOf(server.address, { timeoutMs: 60_000, retries: 0 }), edgeCnameSuffix: "edge.test.net", edgeIpv4: [], concurrency: 10 });
    expect(await verifier.verify("www.shop.example")).toEqual({
      status: "could_not_check",
      hostname: "www.shop.example",
      expectedTarget: "www.shop.example.edge.test.net",
      reason: `no answer for www.shop.example A within 60000 ms from ${server.address} (1 try); the last: an unreadable answer from ${server.address}: the message ends at byte 30, inside a field at byte 30`,
    });
  });

  it("ignores datagrams that are not its reply and takes the reply that follows", async () => {
    const server = await startRawServer((query) => {
      const otherId = Buffer.from(replyTo(query, aRecord([203, 0, 113, 1])));
      otherId.writeUInt16BE((query.readUInt16BE(0) + 1) & 0xffff, 0);
      const notAReply = Buffer.from(query);
      const otherQuestion = replyTo(query, aRecord([203, 0, 113, 2]));
      otherQuestion[13] = "x".charCodeAt(0); // www → wxw
      return [Buffer.from([1, 2, 3]), notAReply, otherId, otherQuestion, replyTo(query, aRecord([192, 0, 2, 10]))];
    });
    const client = clientOf(server.address, { timeoutMs: 5000, retries: 0 });
    expect(await client.query("WWW.Shop.Example.", "A")).toEqual({
      rcode: 0,
      answers: [{ type: "A", name: "www.shop.example", ttl: 60, address: "192.0.2.10" }],
      server: server.address,
    });
  });

  it("times out every try of many when the server never answers, each after its retry", async () => {
    const server = await startRawServer(() => []);
    const client = clientOf(server.address, { timeoutMs: 100, retries: 1 });
    const names = Array.from({ length: 50 }, (_, index) => `site${index}.shop.example`);
    const failures = await Promise.all(names.map((name) => client.query(name, "AAAA").catch((error: unknown) => error)));
    expect(failures.map((failure) => (failure as Error).message)).toEqual(names.map((name) => `no answer for ${name} AAAA within 100 ms from ${server.address} (2 tries)`));
    expect(failures.every((failure) => failure instanceof DnsTimeout)).toBe(true);
    expect(server.queries).toHaveLength(100);
  });

  it("refuses a name DNS cannot carry without sending anything", async () => {
    const server = await startRawServer((query) => [replyTo(query)]);
    const client = clientOf(server.address, { timeoutMs: 5000, retries: 1 });
    await expect(client.query(`${"a".repeat(64)}.shop.example`, "A")).rejects.toThrow(/^not a DNS name: a label of a+\.shop\.example is 64 bytes \(at most 63\)$/);
    expect(server.queries).toHaveLength(0);
  });
});
