/**
 * The DNS server of the DNS benchmark, run by bench/dns.ts in a child process so that answering
 * does not share an event loop with the clients it measures. It answers `site<N>.<zone>` on
 * 127.0.0.1 as a recursive resolver would: the CNAME to the edge target and that target's A
 * record; any other name is NXDOMAIN. It reports its port, then how many questions it answered
 * and from how many source ports they came since it was last asked.
 *
 * It reads and writes the DNS wire format itself, on a plain UDP socket: the question is copied
 * into the answer and the two records follow, the CNAME's owner a pointer to the question and
 * the A record's owner a pointer to the CNAME's target. dns2's server decodes every query with
 * its bit-array reader, and at about 19,500 answers a second it, not the clients, set the pace:
 * both clients then measured the same number. This server answers the same bytes to both.
 */
import dgram from "node:dgram";

/** What bench/dns.ts asks of the server. */
export type DnsServerRequest = { type: "start"; zone: string; edgeSuffix: string; edgeAddress: string } | { type: "count" } | { type: "stop" };

/** What the server answers. */
export type DnsServerReply = { type: "ready"; port: number } | { type: "count"; questions: number; sourcePorts: number } | { type: "failed"; message: string };

const reply = (message: DnsServerReply) => process.send?.(message);
let questions = 0;
/** The source ports queries came from since the last count. */
let sourcePorts = new Set<number>();
let socket: dgram.Socket | undefined;

process.on("message", (request: DnsServerRequest) => {
  if (request.type === "start") void start(request).catch((error: unknown) => reply({ type: "failed", message: String(error) }));
  else if (request.type === "count") {
    reply({ type: "count", questions, sourcePorts: sourcePorts.size });
    sourcePorts = new Set();
  }
  else {
    socket?.close();
    process.disconnect();
  }
});

const typeA = 1;
const typeCname = 5;

/** `name` as DNS labels, ending with the root. */
function labels(name: string): Buffer {
  const parts = name.split(".").filter(Boolean).map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, "ascii")]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

async function start(request: Extract<DnsServerRequest, { type: "start" }>): Promise<void> {
  const site = new RegExp(`^site\\d+\\.${request.zone.replace(/\./g, "\\.")}$`);
  const suffix = labels(request.edgeSuffix);
  const address = Buffer.from(request.edgeAddress.split(".").map(Number));
  socket = dgram.createSocket("udp4");
  socket.on("message", (query, peer) => {
    if (query.length < 17) return;
    questions += 1;
    sourcePorts.add(peer.port);
    // The question: labels from byte 12 to the root label, then type and class.
    const names: string[] = [];
    let offset = 12;
    while (offset < query.length && query[offset]! !== 0) {
      const length = query[offset]!;
      if (length > 63 || offset + 1 + length > query.length) return;
      names.push(query.toString("ascii", offset + 1, offset + 1 + length));
      offset += 1 + length;
    }
    const questionEnd = offset + 5;
    if (questionEnd > query.length) return;
    const type = query.readUInt16BE(offset + 1);
    const name = names.join(".").toLowerCase();
    const found = site.test(name);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // Response, recursion desired as asked, recursion available; NXDOMAIN for a name not served.
    header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (found ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    const question = query.subarray(12, questionEnd);
    if (!found || type !== typeA) {
      void socket!.send(Buffer.concat([header, question]), peer.port, peer.address);
      return;
    }
    header.writeUInt16BE(2, 6);
    // CNAME: its owner is a pointer to the question's name (byte 12); its target is the
    // question's labels without their root, then the edge suffix's labels.
    const targetName = Buffer.concat([query.subarray(12, offset), suffix]);
    const cname = Buffer.alloc(12);
    cname.writeUInt16BE(0xc00c, 0);
    cname.writeUInt16BE(typeCname, 2);
    cname.writeUInt16BE(1, 4);
    cname.writeUInt32BE(300, 6);
    cname.writeUInt16BE(targetName.length, 10);
    // The A record's owner: a pointer to the CNAME's target, right after the CNAME's fixed part.
    const targetOffset = 12 + question.length + 12;
    const a = Buffer.alloc(12);
    a.writeUInt16BE(0xc000 | targetOffset, 0);
    a.writeUInt16BE(typeA, 2);
    a.writeUInt16BE(1, 4);
    a.writeUInt32BE(300, 6);
    a.writeUInt16BE(4, 10);
    void socket!.send(Buffer.concat([header, question, cname, targetName, a, address]), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket!.once("error", reject);
    socket!.bind(0, "127.0.0.1", () => resolve());
  });
  // 200 queries arrive at once; the default receive buffer would drop some, and each drop costs a timeout.
  socket.setRecvBufferSize(4 * 2 ** 20);
  reply({ type: "ready", port: socket.address().port });
}
