/**
 * The DNS server of the DNS benchmark, run by bench/dns.ts in a child process so that answering
 * does not share an event loop with the clients it measures. dns2's own UDP server on
 * 127.0.0.1 answers `site<N>.<zone>` as a recursive resolver would: the CNAME to the edge
 * target and that target's A record. It reports its port, then how many questions it answered.
 */
import dns2, { Packet } from "dns2";
import { encodePacket } from "../src/dns/wire.ts";

/** What bench/dns.ts asks of the server. */
export type DnsServerRequest = { type: "start"; zone: string; edgeSuffix: string; edgeAddress: string } | { type: "count" } | { type: "stop" };

/** What the server answers. */
export type DnsServerReply = { type: "ready"; port: number } | { type: "count"; questions: number } | { type: "failed"; message: string };

const reply = (message: DnsServerReply) => process.send?.(message);
let questions = 0;
let server: dns2.UDPServer | undefined;

process.on("message", (request: DnsServerRequest) => {
  if (request.type === "start") void start(request).catch((error: unknown) => reply({ type: "failed", message: String(error) }));
  else if (request.type === "count") reply({ type: "count", questions });
  else {
    server?.close();
    process.disconnect();
  }
});

async function start(request: Extract<DnsServerRequest, { type: "start" }>): Promise<void> {
  const site = new RegExp(`^site\\d+\\.${request.zone.replace(/\./g, "\\.")}$`);
  server = dns2.createUDPServer((query, send) => {
    questions += 1;
    const question = query.questions[0]!;
    const name = question.name.toLowerCase();
    const response = Packet.createResponseFromRequest(query);
    response.header.ra = 1;
    if (!site.test(name)) response.header.rcode = 3;
    else if (question.type === Packet.TYPE.A) {
      const target = `${name}.${request.edgeSuffix}`;
      response.answers.push(
        Object.assign(new Packet.Resource(name, Packet.TYPE.CNAME, Packet.CLASS.IN, 300), { domain: target }),
        Object.assign(new Packet.Resource(target, Packet.TYPE.A, Packet.CLASS.IN, 300), { address: request.edgeAddress }),
      );
    }
    // Encoded through edgebot's byte writer, so dns2's bit-array writer does not bound what is measured.
    void send(encodePacket(response));
  });
  await server.listen(0, "127.0.0.1");
  // 200 queries arrive at once; the default receive buffer would drop some, and each drop costs a timeout.
  server.setRecvBufferSize(4 * 2 ** 20);
  reply({ type: "ready", port: server.address().port });
}
