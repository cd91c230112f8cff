import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { decodeReply, encodeQuery, MalformedMessage, recordTypeCode } from "../../src/dns/wire.ts";

/** A reply with every field verification reads: flags, rcode, a compressed CNAME chain, A, AAAA and a large TTL. */
function sampleReply(): Packet {
  const query = new Packet();
  query.header.id = 0xbeef;
  query.header.rd = 1;
  query.questions.push(new Packet.Question("WWW.Shop.example", Packet.TYPE.A, Packet.CLASS.IN));
  const reply = Packet.createResponseFromRequest(query);
  reply.header.tc = 1;
  reply.header.rcode = 3;
  reply.answers.push(
    Object.assign(new Packet.Resource("www.shop.example", Packet.TYPE.CNAME, Packet.CLASS.IN, 300), { domain: "www.shop.example.edge.test.net" }),
    Object.assign(new Packet.Resource("www.shop.example.edge.test.net", Packet.TYPE.A, Packet.CLASS.IN, 60), { address: "192.0.2.10" }),
    Object.assign(new Packet.Resource("www.shop.example.edge.test.net", Packet.TYPE.AAAA, Packet.CLASS.IN, 4_000_000_000), { address: "2001:db8::1" }),
  );
  return reply;
}

/** A reply with no question and one answer whose name is `name` (raw wire bytes), type A, four bytes of data. */
function replyWithAnswerName(name: number[]): Buffer {
  const header = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
  return Buffer.from([...header, ...name, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
}

/** `count` bytes from a fixed seed, so a failure can be repeated. */
function pseudoRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state;
  };
}

describe("queries as bytes", () => {
  it("encode exactly what dns2 encodes for the same query", () => {
    for (const [name, type] of [
      ["www.shop.example", Packet.TYPE.AAAA],
      ["WWW.Shop.Example.", Packet.TYPE.A],
      ["x.y", Packet.TYPE.CNAME],
    ] as const) {
      const query = new Packet();
      query.header.id = 0x1234;
      query.header.rd = 1;
      query.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
      expect(encodeQuery(0x1234, name, type).equals(query.toBuffer())).toBe(true);
    }
  });

  it("refuse a name DNS cannot carry: a label over 63 bytes, a name over 255, a character that is not ASCII", () => {
    expect(() => encodeQuery(1, `${"a".repeat(64)}.example`, recordTypeCode.A)).toThrow(/a label of .* is 64 bytes \(at most 63\)/);
    expect(() => encodeQuery(1, Array.from({ length: 5 }, () => "a".repeat(60)).join("."), recordTypeCode.A)).toThrow(/is 306 bytes on the wire \(at most 255\)/);
    expect(() => encodeQuery(1, "bücher.example", recordTypeCode.A)).toThrow(/not ASCII/);
    expect(encodeQuery(1, Array.from({ length: 4 }, () => "a".repeat(62)).join("."), recordTypeCode.A)).toHaveLength(12 + 253 + 4);
  });
});

describe("replies read in place", () => {
  it("read what dns2's own parser reads, with names lowercased and without the trailing dot", () => {
    const bytes = sampleReply().toBuffer();
    const theirs = Packet.parse(bytes);
    expect(decodeReply(bytes)).toEqual({
      id: 0xbeef,
      isReply: true,
      truncated: true,
      rcode: 3,
      question: { name: "www.shop.example", type: Packet.TYPE.A },
      answers: [
        { type: "CNAME", name: "www.shop.example", ttl: 300, target: "www.shop.example.edge.test.net" },
        { type: "A", name: "www.shop.example.edge.test.net", ttl: 60, address: "192.0.2.10" },
        // dns2 writes a TTL over 2^31 - 1 as that ceiling.
        { type: "AAAA", name: "www.shop.example.edge.test.net", ttl: 2_147_483_647, address: "2001:db8::1" },
      ],
    });
    expect(theirs.answers.map((record) => record.domain ?? record.address)).toEqual(["www.shop.example.edge.test.net", "192.0.2.10", "2001:db8::1"]);
  });

  it("read an SOA record's owner and TTL (whether a name is a zone apex), and a TTL with its top bit set as zero (RFC 2181 §8)", () => {
    const reply = new Packet();
    reply.header.qr = 1;
    reply.answers.push(
      Object.assign(new Packet.Resource("Shop-C.test", Packet.TYPE.SOA, Packet.CLASS.IN, 3600), { primary: "ns.shop-c.test", admin: "hostmaster.shop-c.test", serial: 7, refresh: 3600, retry: 600, expiration: 86_400, minimum: 60 }),
      Object.assign(new Packet.Resource("shop-c.test", Packet.TYPE.A, Packet.CLASS.IN, 60), { address: "198.51.100.7" }),
    );
    const bytes = reply.toBuffer();
    expect(decodeReply(bytes).answers).toEqual([
      { type: "SOA", name: "shop-c.test", ttl: 3600 },
      { type: "A", name: "shop-c.test", ttl: 60, address: "198.51.100.7" },
    ]);
    // The A record's TTL field (after its name pointer, type and class) set to 0x80000001.
    const topBitSet = Buffer.from(bytes);
    topBitSet.writeUInt32BE(0x8000_0001, bytes.length - 4 - 2 - 4);
    expect(decodeReply(topBitSet).answers[1]).toEqual({ type: "A", name: "shop-c.test", ttl: 0, address: "198.51.100.7" });
  });

  it("write IPv6 addresses as dns2 did (RFC 5952: the longest run of zero groups as ::)", () => {
    const addresses = ["2001:db8::1", "::1", "::", "2001:db8:0:1:1:1:1:1", "2001:0:0:1:0:0:0:1", "fe80::", "1:0:0:2:0:0:3:4", "2001:db8:85a3::8a2e:370:7334"];
    const reply = new Packet();
    reply.header.qr = 1;
    for (const address of addresses) reply.answers.push(Object.assign(new Packet.Resource("v6.example", Packet.TYPE.AAAA, Packet.CLASS.IN, 60), { address }));
    const bytes = reply.toBuffer();
    const ours = decodeReply(bytes).answers.map((record) => (record.type === "CNAME" ? record.target : record.type === "TXT" ? record.text : record.type === "SOA" ? record.name : record.address));
    expect(ours).toEqual(Packet.parse(bytes).answers.map((record) => record.address));
    expect(ours).toEqual(["2001:db8::1", "::1", "::", "2001:db8:0:1:1:1:1:1", "2001:0:0:1::1", "fe80::", "1::2:0:0:3:4", "2001:db8:85a3::8a2e:370:7334"]);
  });

  it("write IPv4 addresses as dns2 did, in dotted decimal", () => {
    const addresses = ["0.0.0.0", "9.10.99.100", "192.0.2.1", "255.255.255.255", "10.0.0.255"];
    const reply = new Packet();
    reply.header.qr = 1;
    for (const address of addresses) reply.answers.push(Object.assign(new Packet.Resource("v4.example", Packet.TYPE.A, Packet.CLASS.IN, 60), { address }));
    const bytes = reply.toBuffer();
    const ours = decodeReply(bytes).answers.map((record) => (record.type === "CNAME" ? record.target : record.type === "TXT" ? record.text : record.type === "SOA" ? record.name : record.address));
    expect(ours).toEqual(addresses);
    expect(ours).toEqual(Packet.parse(bytes).answers.map((record) => record.address));
  });

  it("skip record types verification does not read, and what follows the answers", () => {
    const reply = new Packet();
    reply.header.qr = 1;
    reply.answers.push(
      Object.assign(new Packet.Resource("shop.example", Packet.TYPE.MX, Packet.CLASS.IN, 60), { exchange: "mail.shop.example", priority: 10 }),
      Object.assign(new Packet.Resource("shop.example", Packet.TYPE.A, Packet.CLASS.IN, 60), { address: "192.0.2.10" }),
    );
    reply.authorities.push(Object.assign(new Packet.Resource("shop.example", Packet.TYPE.NS, Packet.CLASS.IN, 60), { ns: "ns1.shop.example" }));
    expect(decodeReply(reply.toBuffer())).toMatchObject({ question: undefined, answers: [{ type: "A", name: "shop.example", address: "192.0.2.10" }] });
  });

  it("read a TXT record's character-strings as one text, and refuse a string running past its record", () => {
    const reply = new Packet();
    reply.header.qr = 1;
    reply.answers.push(
      Object.assign(new Packet.Resource("_edgebot-challenge.Shop.example", Packet.TYPE.TXT, Packet.CLASS.IN, 60), { data: ["edgebot-claim-", "0123abcd"] }),
      Object.assign(new Packet.Resource("_edgebot-challenge.shop.example", Packet.TYPE.TXT, Packet.CLASS.IN, 60), { data: "" }),
    );
    const bytes = reply.toBuffer();
    expect(decodeReply(bytes).answers).toEqual([
      { type: "TXT", name: "_edgebot-challenge.shop.example", ttl: 60, text: "edgebot-claim-0123abcd" },
      { type: "TXT", name: "_edgebot-challenge.shop.example", ttl: 60, text: "" },
    ]);
    // The first string claims 200 bytes; its record holds 23.
    const damaged = Buffer.from(bytes);
    damaged[bytes.indexOf(Buffer.from("edgebot-claim-")) - 1] = 200;
    expect(() => decodeReply(damaged)).toThrow(MalformedMessage);
  });

  it("refuse a message cut short at every length, with a MalformedMessage", () => {
    const bytes = sampleReply().toBuffer();
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeReply(bytes.subarray(0, length)), `cut to ${length} bytes`).toThrow(MalformedMessage);
    }
  });

  it("refuse compression pointers that loop, point forward, or point outside the message", () => {
    // Byte 12 is where the answer's name begins.
    expect(() => decodeReply(replyWithAnswerName([0xc0, 12]))).toThrow(/compression pointer at byte 12 points forward or into a loop/);
    expect(() => decodeReply(replyWithAnswerName([1, 0x61, 0xc0, 12]))).toThrow(/points forward or into a loop \(to byte 12\)/);
    expect(() => decodeReply(replyWithAnswerName([0xc0, 20]))).toThrow(/points forward or into a loop \(to byte 20\)/);
    expect(() => decodeReply(replyWithAnswerName([0xc0, 0xff]))).toThrow(/points outside the message \(to byte 255 of 28\)/);
    expect(() => decodeReply(replyWithAnswerName([0xff, 0xff]))).toThrow(/points outside the message/);
    // Two pointers that point at each other (the second sits in the header's ARCOUNT, which is not read): every jump must go further back.
    const header = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0xc0, 12];
    expect(() => decodeReply(Buffer.from([...header, 0xc0, 10, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]))).toThrow(/pointer at byte 10 points forward or into a loop \(to byte 12\)/);
  });

  it("refuse counts the message's bytes cannot hold before reading or making room for any record", () => {
    const header = (questions: number, answers: number) => [0x12, 0x34, 0x81, 0x80, questions >> 8, questions & 0xff, answers >> 8, answers & 0xff, 0, 0, 0, 0];
    expect(() => decodeReply(Buffer.from(header(0, 65_535)))).toThrow(/^a message of 12 bytes claims 0 questions and 65535 answers, which take at least 720897$/);
    expect(() => decodeReply(Buffer.from(header(65_535, 0)))).toThrow(/claims 65535 questions and 0 answers, which take at least 327687/);
    // One A record takes 16 bytes with a pointer for its name; two cannot fit in 27.
    const oneRecord = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
    expect(() => decodeReply(Buffer.from([...header(0, 3), ...oneRecord]))).toThrow(/claims 0 questions and 3 answers, which take at least 45/);
    // Work too is bounded by the bytes: a thousand such replies cost next to nothing.
    const claim = Buffer.from(header(0, 65_535));
    const started = performance.now();
    for (let round = 0; round < 1000; round++) expect(() => decodeReply(claim)).toThrow(MalformedMessage);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("refuse a name that follows more than 127 compression pointers, and read one that follows 127", () => {
    /** A reply whose A record's name is a chain of `hops` pointers, held in a NULL record (type 10, which verification skips) before it. */
    const chained = (hops: number) => {
      const dataStart = 12 + 11;
      const data = [1, 0x61, 0];
      let previous = dataStart;
      for (let index = 0; index < hops - 1; index++) {
        const at = dataStart + data.length;
        data.push(0xc0 | (previous >> 8), previous & 0xff);
        previous = at;
      }
      const header = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 2, 0, 0, 0, 0];
      const skipped = [0, 0, 10, 0, 1, 0, 0, 0, 60, data.length >> 8, data.length & 0xff, ...data];
      return Buffer.from([...header, ...skipped, 0xc0 | (previous >> 8), previous & 0xff, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    };
    expect(decodeReply(chained(127)).answers).toEqual([{ type: "A", name: "a", ttl: 60, address: "192.0.2.1" }]);
    expect(() => decodeReply(chained(128))).toThrow(/a name follows more than 127 compression pointers/);
    expect(() => decodeReply(chained(8000))).toThrow(/a name follows more than 127 compression pointers/);
  });

  it("refuse unknown label types, names over 255 bytes, and records of the wrong size", () => {
    expect(() => decodeReply(replyWithAnswerName([0x41, 0x61, 0]))).toThrow(/unknown label type 0x41 at byte 12/);
    const longName = Array.from({ length: 5 }, () => [60, ...Buffer.from("a".repeat(60))]).flat();
    expect(() => decodeReply(replyWithAnswerName([...longName, 0]))).toThrow(/a name longer than 255 bytes/);
    const reply = replyWithAnswerName([1, 0x61, 0]);
    reply.writeUInt16BE(5, reply.length - 6); // the A record's data length
    expect(() => decodeReply(Buffer.concat([reply, Buffer.from([7])]))).toThrow(/an A record of 5 bytes/);
    // A CNAME whose data length (2) ends inside its target's labels.
    const header = [0x12, 0x34, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0];
    expect(() => decodeReply(Buffer.from([...header, 1, 0x61, 0, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 1, 0x62, 0]))).toThrow(/a CNAME's target runs past its record's data/);
  });

  it("follow a pointer back to an earlier name, and read the name's case-folded form", () => {
    const header = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    const question = [3, ...Buffer.from("WwW"), 4, ...Buffer.from("SHOP"), 0, 0, 1, 0, 1];
    // The answer's name: "edge" then a pointer to "shop" (byte 16); its data: a pointer to the question's name.
    const answer = [4, ...Buffer.from("Edge"), 0xc0, 16, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12];
    expect(decodeReply(Buffer.from([...header, ...question, ...answer]))).toMatchObject({
      question: { name: "www.shop", type: 1 },
      answers: [{ type: "CNAME", name: "edge.shop", target: "www.shop" }],
    });
  });

  it("never hang or throw anything but MalformedMessage on damaged replies", () => {
    const original = sampleReply().toBuffer();
    const next = pseudoRandom(5);
    let decoded = 0;
    for (let round = 0; round < 5000; round++) {
      const damaged = Buffer.from(original);
      for (let flips = 1 + (next() % 4); flips > 0; flips--) damaged[next() % damaged.length] = next() % 256;
      try {
        decodeReply(damaged);
        decoded += 1;
      } catch (error) {
        expect(error).toBeInstanceOf(MalformedMessage);
      }
    }
    // Some damage (a TTL, an address byte) leaves a readable message.
    expect(decoded).toBeGreaterThan(0);
  });
});

