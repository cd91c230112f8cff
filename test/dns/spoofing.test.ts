import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { DnsClient, DnsTimeout, parseResolver, sourcePortRange } from "../../src/dns/client.ts";
import { DnsVerifier } from "../../src/dns/verify.ts";

/*
 * The DNS client against real UDP sockets on loopback: a server that answers truly, and
 * spoofers that know the query (its id, question and the client's port, as the test server
 * tells them) but send from somewhere else, or send what no decoder should trust.
 */

interface RawServer {
  address: string;
  port: number;
  socket: Socket;
  /** Each query received, with where it came from. */
  queries: Array<{ query: Buffer; peer: RemoteInfo }>;
}

const sockets: Socket[] = [];
const clients: DnsClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const socket of sockets.splice(0)) await new Promise<void>((resolve) => socket.close(() => resolve()));
});

async function udpSocket(address = "127.0.0.1", port = 0): Promise<Socket> {
  const socket = createSocket("udp4");
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => resolve());
  });
  return socket;
}

/** A raw UDP server on 127.0.0.1 handing each query to `onQuery`, which answers (or not) as it likes. */
async function startRawServer(onQuery: (query: Buffer, peer: RemoteInfo, server: RawServer) => void): Promise<RawServer> {
  const socket = await udpSocket();
  const port = socket.address().port;
  const server: RawServer = { address: `127.0.0.1:${port}`, port, socket, queries: [] };
  socket.on("message", (query, peer) => {
    server.queries.push({ query, peer });
    onQuery(query, peer, server);
  });
  return server;
}

function clientOf(server: RawServer, options: { timeoutMs?: number; retries?: number } = {}): DnsClient {
  const client = new DnsClient({ resolvers: [parseResolver(server.address)], timeoutMs: options.timeoutMs ?? 2000, retries: options.retries ?? 0 });
  clients.push(client);
  return client;
}

function verifierOf(client: DnsClient): DnsVerifier {
  return new DnsVerifier({ client, edgeCnameSuffix: "edge.test.net", edgeIpv4: [], concurrency: 50 });
}

function send(socket: Socket, datagram: Buffer, peer: RemoteInfo): Promise<void> {
  return new Promise((resolve, reject) => socket.send(datagram, peer.port, peer.address, (error) => (error ? reject(error) : resolve())));
}

/** A reply to `query` (its id and question) with raw answer records, QR and RA set. */
function replyTo(query: Buffer, answers: number[][] = []): Buffer {
  const reply = Buffer.concat([query, Buffer.from(answers.flat())]);
  reply[2] = 0x81;
  reply[3] = 0x80;
  reply.writeUInt16BE(answers.length, 6);
  return reply;
}

/** An A record for the question's name (a pointer to byte 12). */
const aRecord = (address: number[]) => [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address];

/** A CNAME record for the question's name (a pointer to byte 12) to `target`. */
function cnameRecord(target: string): number[] {
  const name = [...target.split(".").flatMap((label) => [label.length, ...Buffer.from(label, "ascii")]), 0];
  return [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, name.length >> 8, name.length & 0xff, ...name];
}

/** A query's question, like `www.shop.example A`. */
function questionOf(query: Buffer): string {
  const labels: string[] = [];
  let at = 12;
  while (query[at]! > 0) {
    labels.push(query.toString("latin1", at + 1, at + 1 + query[at]!));
    at += 1 + query[at]!;
  }
  const type = query.readUInt16BE(at + 1);
  return `${labels.join(".")} ${type === 1 ? "A" : type === 28 ? "AAAA" : type}`;
}

const evil = [198, 51, 100, 66];
const truth = [192, 0, 2, 10];
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the DNS client takes answers only from the server and port it asked", () => {
  it("ignores a spoofed answer with the right id and question from another port, and from another address on the server's port", async () => {
    const otherPort = await udpSocket("127.0.0.1");
    let sameport: Socket | undefined;
    const spoofsSent: string[] = [];
    const server = await startRawServer((query, peer, server) => {
      void (async () => {
        sameport ??= await udpSocket("127.0.0.2", server.port);
        await send(otherPort, replyTo(query, [aRecord(evil)]), peer);
        spoofsSent.push(`127.0.0.1:${otherPort.address().port}`);
        await send(sameport, replyTo(query, [aRecord(evil)]), peer);
        spoofsSent.push(`127.0.0.2:${server.port}`);
        await delay(50);
        await send(server.socket, replyTo(query, [aRecord(truth)]), peer);
      })();
    });
    const reply = await clientOf(server).query("www.shop.example", "A");
    expect(spoofsSent).toEqual([`127.0.0.1:${otherPort.address().port}`, `127.0.0.2:${server.port}`]);
    expect(reply.answers).toEqual([{ type: "A", name: "www.shop.example", ttl: 60, address: "192.0.2.10" }]);
  });

  it("would take that same answer from the server itself (the spoof above is well-formed)", async () => {
    const server = await startRawServer((query, peer, server) => void send(server.socket, replyTo(query, [aRecord(evil)]), peer));
    expect((await clientOf(server).query("www.shop.example", "A")).answers).toEqual([{ type: "A", name: "www.shop.example", ttl: 60, address: "198.51.100.66" }]);
  });

  it("ignores answers from the server's port with another id or another question, and takes the true one after them", async () => {
    const server = await startRawServer((query, peer, server) => {
      const otherId = replyTo(query, [aRecord(evil)]);
      otherId.writeUInt16BE((query.readUInt16BE(0) + 1) & 0xffff, 0);
      const otherQuestion = replyTo(query, [aRecord(evil)]);
      otherQuestion[13] = "x".charCodeAt(0); // www → wxw
      const otherType = replyTo(query, [aRecord(evil)]);
      otherType.writeUInt16BE(28, query.length - 4); // AAAA
      void (async () => {
        for (const datagram of [otherId, otherQuestion, otherType, replyTo(query, [aRecord(truth)])]) await send(server.socket, datagram, peer);
      })();
    });
    expect((await clientOf(server).query("www.shop.example", "A")).answers).toEqual([{ type: "A", name: "www.shop.example", ttl: 60, address: "192.0.2.10" }]);
  });

  it("does not let a spoofed CNAME to the edge make a domain pass", async () => {
    const spoofer = await udpSocket("127.0.0.1");
    const server = await startRawServer((query, peer, server) => {
      // The truth: www.shop.example has A 203.0.113.5, and nothing else has records.
      const truthful = questionOf(query) === "www.shop.example A" ? [aRecord([203, 0, 113, 5])] : [];
      void (async () => {
        await send(spoofer, replyTo(query, [cnameRecord("www.shop.example.edge.test.net")]), peer);
        await delay(20);
        await send(server.socket, replyTo(query, truthful), peer);
      })();
    });
    const client = clientOf(server);
    const verdict = await verifierOf(client).verify("www.shop.example");
    expect(verdict).toMatchObject({ status: "fails", found: ["A 203.0.113.5: not an edge address"] });
  });
});

describe("each query's source port and id are drawn at random", () => {
  /** A server that answers every query with 192.0.2.10, after `holdMs`. */
  async function answeringServer(holdMs = 0) {
    return startRawServer((query, peer, server) => {
      const answer = () => void send(server.socket, replyTo(query, [aRecord(truth)]), peer);
      if (holdMs > 0) setTimeout(answer, holdMs);
      else answer();
    });
  }

  it("leaves at least 30 bits to guess: a 16-bit id and a port from at least 2^14 of them", () => {
    const { low, high, reserved } = sourcePortRange();
    const ports = high - low + 1 - reserved.size;
    expect(ports).toBeGreaterThanOrEqual(2 ** 14);
    expect(16 + Math.log2(ports)).toBeGreaterThanOrEqual(30);
  });

  it("asks one query after another from ports and ids spread over their whole ranges", async () => {
    const server = await answeringServer();
    const client = clientOf(server);
    const count = 300;
    for (let index = 0; index < count; index++) await client.query(`site${index}.shop.example`, "A");
    const ports = server.queries.map(({ peer }) => peer.port);
    const ids = server.queries.map(({ query }) => query.readUInt16BE(0));
    expect(ports).toHaveLength(count);
    // Drawn uniformly from 28,000 ports (65,536 ids), 300 draws repeat one 1.6 times (0.7) on average.
    expect(new Set(ports).size).toBeGreaterThanOrEqual(count - 10);
    expect(new Set(ids).size).toBeGreaterThanOrEqual(count - 10);
    const { low, high } = sourcePortRange();
    expect(ports.every((port) => port >= low && port <= high)).toBe(true);
    // Each quarter of the range gets its share (75 expected; under 40 has odds of about 1 in a million).
    const quarters = [0, 0, 0, 0];
    for (const port of ports) quarters[Math.min(3, Math.floor(((port - low) / (high - low + 1)) * 4))]! += 1;
    for (const quarter of quarters) expect(quarter).toBeGreaterThanOrEqual(40);
    const idQuarters = [0, 0, 0, 0];
    for (const id of ids) idQuarters[id >> 14]! += 1;
    for (const quarter of idQuarters) expect(quarter).toBeGreaterThanOrEqual(40);
  });

  it("gives every query in flight a socket of its own, so no two waiting queries share a port", async () => {
    const server = await answeringServer(100);
    const client = clientOf(server);
    const names = Array.from({ length: 200 }, (_, index) => `site${index}.shop.example`);
    const replies = await Promise.all(names.map((name) => client.query(name, "A")));
    expect(replies.every((reply) => reply.answers.length === 1)).toBe(true);
    expect(new Set(server.queries.map(({ peer }) => peer.port)).size).toBe(200);
  });

  it("closes a socket after a few queries under steady load: ports keep changing", async () => {
    const server = await answeringServer();
    const client = clientOf(server);
    let next = 0;
    const total = 2000;
    const worker = async () => {
      while (next < total) await client.query(`site${next++}.shop.example`, "A");
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    const perPort = new Map<number, number>();
    for (const { peer } of server.queries) perPort.set(peer.port, (perPort.get(peer.port) ?? 0) + 1);
    expect(server.queries).toHaveLength(total);
    expect(perPort.size).toBeGreaterThanOrEqual(total / 16);
    // A socket carries 16 queries at most; a port seen more often was drawn again, by chance, for a later socket.
    const seenMore = [...perPort.values()].filter((count) => count > 16);
    expect(seenMore.length).toBeLessThanOrEqual(4);
    expect(Math.max(...perPort.values())).toBeLessThanOrEqual(48);
  });

  it("asks a retry from another port with another id, after a try that timed out", async () => {
    let tries = 0;
    const server = await startRawServer((query, peer, server) => {
      // Every first try goes unanswered.
      if (tries++ % 2 === 1) void send(server.socket, replyTo(query, [aRecord(truth)]), peer);
    });
    const client = clientOf(server, { timeoutMs: 100, retries: 1 });
    for (let index = 0; index < 10; index++) await client.query(`site${index}.shop.example`, "A");
    let changed = 0;
    for (let index = 0; index < server.queries.length; index += 2) {
      const [first, retry] = [server.queries[index]!, server.queries[index + 1]!];
      if (first.peer.port !== retry.peer.port && first.query.readUInt16BE(0) !== retry.query.readUInt16BE(0)) changed += 1;
    }
    expect(server.queries).toHaveLength(20);
    expect(changed).toBeGreaterThanOrEqual(9);
  });
});

describe("bad replies from the server asked end in the true answer or 'could not check', never in a failure", () => {
  /** A header (the query's id and flags of a reply) followed by `rest`, with the counts given. */
  function crafted(query: Buffer, counts: { questions: number; answers: number }, rest: number[] = []): Buffer {
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header[2] = 0x81;
    header[3] = 0x80;
    header.writeUInt16BE(counts.questions, 4);
    header.writeUInt16BE(counts.answers, 6);
    return Buffer.concat([header, Buffer.from(rest)]);
  }

  /** The query's question section, as the reply repeats it. */
  const questionBytes = (query: Buffer) => [...query.subarray(12)];

  /**
   * A reply to the query whose one A answer's name is a chain of `hops` compression pointers:
   * a NULL record (type 10, which verification skips) holds the chain, each pointer pointing at the one
   * before, the first at a name; the A record's name points at the last.
   */
  function pointerChainReply(query: Buffer, hops: number): Buffer {
    const question = questionBytes(query);
    const txtStart = 12 + question.length;
    const dataStart = txtStart + 11;
    const data = [1, 0x61, 0]; // the name "a", at dataStart
    let previous = dataStart;
    for (let index = 0; index < hops - 1; index++) {
      const at = dataStart + data.length;
      data.push(0xc0 | (previous >> 8), previous & 0xff);
      previous = at;
    }
    const skipped = [0, 0, 10, 0, 1, 0, 0, 0, 60, data.length >> 8, data.length & 0xff, ...data];
    const a = [0xc0 | (previous >> 8), previous & 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...truth];
    return crafted(query, { questions: 1, answers: 2 }, [...question, ...skipped, ...a]);
  }

  const cases: Array<[string, (query: Buffer) => Buffer, RegExp]> = [
    ["a 12-byte reply claiming 65,535 answers", (query) => crafted(query, { questions: 0, answers: 65_535 }), /a message of 12 bytes claims 0 questions and 65535 answers, which take at least 720897/],
    ["a reply claiming more answers than its bytes hold", (query) => crafted(query, { questions: 1, answers: 40 }, [...questionBytes(query), ...aRecord(evil)]), /claims 1 questions and 40 answers/],
    ["a pointer loop", (query) => crafted(query, { questions: 1, answers: 1 }, [...questionBytes(query), 0xc0, query.length, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...evil]), /points forward or into a loop/],
    ["a chain of 200 compression pointers", (query) => pointerChainReply(query, 200), /follows more than 127 compression pointers/],
  ];

  for (const [what, reply, reason] of cases) {
    it(`refuses ${what}: the verdict is "could not check", with the reason`, async () => {
      const server = await startRawServer((query, peer, server) => void send(server.socket, reply(query), peer));
      const verdict = await verifierOf(clientOf(server, { timeoutMs: 60_000, retries: 1 })).verify("www.shop.example");
      expect(verdict.status).toBe("could_not_check");
      expect(verdict.status === "could_not_check" && verdict.reason).toMatch(reason);
      expect(server.queries).toHaveLength(2);
    });
  }

  it("reads a chain of 127 pointers, the most a name may need", async () => {
    const server = await startRawServer((query, peer, server) => void send(server.socket, pointerChainReply(query, 127), peer));
    expect((await clientOf(server).query("www.shop.example", "A")).answers).toEqual([{ type: "A", name: "a", ttl: 60, address: "192.0.2.10" }]);
  });

  it("gets the true answer on the retry after a malicious reply", async () => {
    let tries = 0;
    const server = await startRawServer((query, peer, server) => {
      const datagram = tries++ === 0 ? crafted(query, { questions: 0, answers: 65_535 }) : replyTo(query, [cnameRecord("www.shop.example.edge.test.net")]);
      void send(server.socket, datagram, peer);
    });
    const verdict = await verifierOf(clientOf(server, { timeoutMs: 60_000, retries: 1 })).verify("www.shop.example");
    expect(verdict).toMatchObject({ status: "passes", found: "CNAME www.shop.example → www.shop.example.edge.test.net" });
  });

  it("ignores garbage that is not its reply and waits for the true answer", async () => {
    const server = await startRawServer((query, peer, server) => {
      const garbage = crafted(query, { questions: 0, answers: 65_535 });
      garbage.writeUInt16BE((query.readUInt16BE(0) + 1) & 0xffff, 0); // another id: not a reply to this query
      void (async () => {
        for (const datagram of [Buffer.from([1, 2, 3]), garbage, replyTo(query, [aRecord(truth)])]) await send(server.socket, datagram, peer);
      })();
    });
    expect((await clientOf(server).query("www.shop.example", "A")).answers).toEqual([{ type: "A", name: "www.shop.example", ttl: 60, address: "192.0.2.10" }]);
  });

  it("says 'could not check' when a server never answers, not that the domain fails", async () => {
    const server = await startRawServer(() => undefined);
    const client = clientOf(server, { timeoutMs: 100, retries: 1 });
    await expect(client.query("www.shop.example", "A")).rejects.toBeInstanceOf(DnsTimeout);
    expect((await verifierOf(client).verify("www.shop.example")).status).toBe("could_not_check");
  });
});
