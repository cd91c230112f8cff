import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIP } from "node:net";
import { Packet } from "dns2";
import { decodePacket, encodeQuery } from "./wire.ts";

/** A DNS server queried for verification. */
export interface Resolver {
  host: string;
  port: number;
}

/** The record types verification asks for. */
export type RecordType = "A" | "AAAA" | "CNAME";

/** One answer record, with names lowercased and without their trailing dot. */
export type AnswerRecord =
  | { type: "A" | "AAAA"; name: string; address: string }
  | { type: "CNAME"; name: string; target: string };

/** A reply from a server: its response code and the answer records verification reads. */
export interface DnsReply {
  /** RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, … */
  rcode: number;
  answers: AnswerRecord[];
  /** The server that answered, like 127.0.0.1:53. */
  server: string;
}

/** No server answered a query within the timeout, on any try. */
export class DnsTimeout extends Error {
  override name = "DnsTimeout";
}

export const rcode = { noError: 0, serverFailure: 2, nameError: 3, refused: 5 } as const;

/** A name as DNS compares it: case-insensitive and without the trailing dot. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** Reads `ip`, `ip:port` or `[ipv6]:port` (DNS_SERVERS' format; config has validated it). */
export function parseResolver(entry: string): Resolver {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(entry.trim());
  // A bare IPv6 address has colons of its own and no port.
  if (!match) return { host: entry.trim(), port: 53 };
  return { host: match[1] ?? match[2]!, port: match[3] === undefined ? 53 : Number(match[3]) };
}

/** DNS_SERVERS' resolvers, or the system's when it is empty. */
export function resolversFrom(entries: string[]): Resolver[] {
  const chosen = entries.length > 0 ? entries : getServers();
  return chosen.map(parseResolver);
}

export interface DnsClientOptions {
  resolvers: Resolver[];
  /** How long each try waits for its reply. */
  timeoutMs: number;
  /** Tries after the first, each on the next resolver. */
  retries: number;
}

interface PendingQuery {
  name: string;
  type: number;
  resolver: Resolver;
  resolve(reply: Packet): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const typeCodes: Record<RecordType, number> = { A: Packet.TYPE.A, AAAA: Packet.TYPE.AAAA, CNAME: Packet.TYPE.CNAME };
const maxTcpMessage = 65_535;

/**
 * A stub resolver client on dns2's packet codec (through wire.ts's byte reader and writer).
 * dns2's own UDPClient opens a socket per query and never times out; this one keeps one UDP
 * socket per resolver for its whole life, matches replies to queries by id and question,
 * times each try out itself, and repeats a truncated reply's query over TCP.
 */
export class DnsClient {
  /** One connected UDP socket per resolver, opened on its first query; `ready` once connected. */
  private readonly sockets = new Map<Resolver, { opening: Promise<UdpSocket>; ready?: UdpSocket }>();
  private readonly pending = new Map<number, PendingQuery>();
  /** Each resolver as `ip:port`, for replies and messages. */
  private readonly addresses: Map<Resolver, string>;
  private nextResolver = 0;
  private closed = false;

  constructor(private readonly options: DnsClientOptions) {
    if (options.resolvers.length === 0) throw new Error("a DNS client needs at least one resolver");
    this.addresses = new Map(options.resolvers.map((resolver) => [resolver, formatAddress(resolver)]));
  }

  /** Asks for `type` records of `name`; throws DnsTimeout when no try got an answer. */
  async query(name: string, type: RecordType): Promise<DnsReply> {
    const { resolvers, retries } = this.options;
    // Spread queries over the resolvers; a retry moves on to the next one.
    const first = this.nextResolver++ % resolvers.length;
    const resolverOf = (attempt: number) => resolvers[(first + attempt) % resolvers.length]!;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      const resolver = resolverOf(attempt);
      try {
        const reply = await this.overUdp(resolver, name, type);
        return reply.header.tc === 1 ? await this.overTcp(resolver, name, type) : toReply(reply, this.addressOf(resolver));
      } catch (error) {
        if (!(error instanceof DnsTimeout)) throw error;
      }
    }
    const tried = new Set(Array.from({ length: retries + 1 }, (_, attempt) => this.addressOf(resolverOf(attempt))));
    throw new DnsTimeout(`no answer for ${name} ${type} within ${this.options.timeoutMs} ms from ${[...tried].join(", ")} (${retries + 1} tries)`);
  }

  /** Closes the sockets; queries still waiting fail. */
  close(): void {
    this.closed = true;
    for (const [id, query] of this.pending) {
      clearTimeout(query.timer);
      query.reject(new Error("the DNS client was closed"));
      this.pending.delete(id);
    }
    for (const { opening } of this.sockets.values()) opening.then((socket) => socket.close(), () => undefined);
    this.sockets.clear();
  }

  private overUdp(resolver: Resolver, name: string, type: RecordType): Promise<Packet> {
    if (this.closed) return Promise.reject(new Error("the DNS client was closed"));
    const id = this.freeId();
    const message = queryMessage(id, name, type);
    return new Promise<Packet>((resolve, reject) => {
      const timer = setTimeout(this.expire, this.options.timeoutMs, id);
      this.pending.set(id, { name: canonicalName(name), type: typeCodes[type], resolver, resolve, reject, timer });
      this.send(resolver, message);
    });
  }

  /** The same question over TCP, for an answer too large for UDP: one connection, one message. */
  private overTcp(resolver: Resolver, name: string, type: RecordType): Promise<DnsReply> {
    const id = Packet.uuid();
    const message = queryMessage(id, name, type);
    return new Promise<DnsReply>((resolve, reject) => {
      const socket = connect({ host: resolver.host, port: resolver.port });
      let received = Buffer.alloc(0);
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        socket.destroy();
        outcome();
      };
      const timer = setTimeout(() => finish(() => reject(new DnsTimeout(`no TCP answer within ${this.options.timeoutMs} ms`))), this.options.timeoutMs);
      socket.on("connect", () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > maxTcpMessage + 2) return finish(() => reject(new DnsTimeout("an oversized TCP answer")));
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const body = received.subarray(2, 2 + received.readUInt16BE(0));
        finish(() => {
          const packet = parsePacket(body);
          if (packet && matches(packet, id, canonicalName(name), typeCodes[type])) resolve(toReply(packet, this.addressOf(resolver)));
          else reject(new DnsTimeout(`an unreadable TCP answer from ${this.addressOf(resolver)}`));
        });
      });
      // A refused or reset connection is a try without an answer, like a lost datagram.
      socket.on("error", (error) => finish(() => reject(new DnsTimeout(`TCP to ${this.addressOf(resolver)} failed: ${error.message}`))));
      socket.on("end", () => finish(() => reject(new DnsTimeout(`TCP to ${this.addressOf(resolver)} closed before answering`))));
    });
  }

  /** Sends a datagram; a socket that cannot be opened or a send that fails is a try without an answer, ended by its timer. */
  private send(resolver: Resolver, message: Buffer): void {
    let socket = this.sockets.get(resolver);
    if (!socket) {
      const opening = this.openSocket(resolver);
      const opened: { opening: Promise<UdpSocket>; ready?: UdpSocket } = { opening };
      socket = opened;
      this.sockets.set(resolver, opened);
      opening.then(
        (ready) => (opened.ready = ready),
        // The next query opens another.
        () => this.sockets.delete(resolver),
      );
    }
    if (socket.ready) socket.ready.send(message);
    else socket.opening.then((ready) => ready.send(message), () => undefined);
  }

  /**
   * A socket connected to one resolver: sending needs no address lookup, and the kernel
   * delivers only that resolver's datagrams.
   */
  private openSocket(resolver: Resolver): Promise<UdpSocket> {
    // Many replies can arrive while the event loop is busy; the default buffer would drop some.
    const socket = createSocket({ type: isIP(resolver.host) === 6 ? "udp6" : "udp4", recvBufferSize: 2 ** 20 });
    socket.on("message", (data) => this.onDatagram(data, resolver));
    // The socket alone must not keep the process running; pending timers do while they wait.
    socket.unref();
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(resolver.port, resolver.host, () => {
        socket.removeListener("error", reject);
        // Later errors (an ICMP "port unreachable", a failed send) are left to the timeouts.
        socket.on("error", () => undefined);
        resolve(socket);
      });
    });
  }

  private onDatagram(data: Buffer, resolver: Resolver): void {
    const packet = parsePacket(data);
    if (!packet) return;
    const query = this.pending.get(packet.header.id);
    // Anything that is not the reply we wait for, from the resolver we asked, is ignored.
    if (!query || query.resolver !== resolver || !matches(packet, packet.header.id, query.name, query.type)) return;
    clearTimeout(query.timer);
    this.pending.delete(packet.header.id);
    query.resolve(packet);
  }

  private addressOf(resolver: Resolver): string {
    return this.addresses.get(resolver)!;
  }

  /** A try's timer: its query gets no answer now. A bound method, so a query costs no closure. */
  private readonly expire = (id: number): void => {
    const query = this.pending.get(id);
    if (!query) return;
    this.pending.delete(id);
    query.reject(new DnsTimeout(`no answer within ${this.options.timeoutMs} ms`));
  };

  private freeId(): number {
    if (this.pending.size >= 0xffff) throw new Error("too many DNS queries in flight");
    let id = Packet.uuid();
    while (this.pending.has(id)) id = Packet.uuid();
    return id;
  }
}

function queryMessage(id: number, name: string, type: RecordType): Buffer {
  return encodeQuery(new Packet.Header({ id, rd: 1, qdcount: 1 }), new Packet.Question(name, typeCodes[type], Packet.CLASS.IN));
}

function parsePacket(data: Buffer): Packet | undefined {
  try {
    return decodePacket(data);
  } catch {
    return undefined;
  }
}

function matches(packet: Packet, id: number, name: string, type: number): boolean {
  const question = packet.questions[0];
  return packet.header.qr === 1 && packet.header.id === id && question !== undefined && canonicalName(question.name) === name && question.type === type;
}

function toReply(packet: Packet, server: string): DnsReply {
  const answers: AnswerRecord[] = [];
  for (const record of packet.answers) {
    const name = canonicalName(record.name);
    if (record.type === Packet.TYPE.CNAME && record.domain !== undefined) answers.push({ type: "CNAME", name, target: canonicalName(record.domain) });
    else if (record.type === Packet.TYPE.A && record.address !== undefined) answers.push({ type: "A", name, address: record.address });
    else if (record.type === Packet.TYPE.AAAA && record.address !== undefined) answers.push({ type: "AAAA", name, address: record.address });
  }
  return { rcode: packet.header.rcode, answers, server };
}

function formatAddress(resolver: Resolver): string {
  return isIP(resolver.host) === 6 ? `[${resolver.host}]:${resolver.port}` : `${resolver.host}:${resolver.port}`;
}
