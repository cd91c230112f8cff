import { Packet } from "dns2";
import { describe, expect, it } from "vitest";
import { decodePacket, encodePacket, encodeQuery } from "../../src/dns/wire.ts";

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

describe("the byte reader and writer under dns2's codec", () => {
  it("encode exactly the bytes dns2's own writer does", () => {
    const reply = sampleReply();
    expect(encodePacket(reply).equals(reply.toBuffer())).toBe(true);
  });

  it("encode a query exactly as dns2 encodes the same packet", () => {
    const query = new Packet();
    query.header.id = 0x1234;
    query.header.rd = 1;
    query.questions.push(new Packet.Question("www.shop.example", Packet.TYPE.AAAA, Packet.CLASS.IN));
    expect(encodeQuery(new Packet.Header({ id: 0x1234, rd: 1, qdcount: 1 }), new Packet.Question("www.shop.example", Packet.TYPE.AAAA, Packet.CLASS.IN)).equals(query.toBuffer())).toBe(true);
  });

  it("decode what dns2's own parser does (header, question, answers)", () => {
    const bytes = sampleReply().toBuffer();
    const ours = decodePacket(bytes);
    const theirs = Packet.parse(bytes);
    expect({ ...ours.header }).toEqual({ ...theirs.header });
    expect(ours.questions).toEqual(theirs.questions);
    expect(ours.answers).toEqual(theirs.answers);
  });

  it("refuse a message cut short", () => {
    const bytes = sampleReply().toBuffer();
    expect(() => decodePacket(bytes.subarray(0, bytes.length - 3))).toThrow();
  });
});
