import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { decodeReply, encodeQuery, randomQueryId, recordTypeCode, type AnswerRecord, type DecodedReply } from "./wire.ts";

export type { AnswerRecord } from "./wire.ts";

/** A DNS server queried for verification. */
export interface Resolver {
  host: string;
  port: number;
}

/** The record types verification asks for. */
export type RecordType = "A" | "AAAA" | "CNAME";

/** A reply from a server: its response code and the answer records verification reads. */
export interface DnsReply {
  /** RCODE: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, … */
  rcode: number;
  answers: AnswerRecord[];
  /** The server that answered, like 127.0.0.1:53. */
  server: string;
}

/** No server answered a query readably within the timeout, on any try. */
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
  resolve(reply: DecodedReply): void;
  reject(error: Error): void;
  /** When this try gives up (performance.now()). */
  deadline: number;
}

/** A try that got no usable answer: a timeout, an unreadable answer, a failed TCP connection. */
class FailedTry extends Error {
  constructor(
    message: string,
    /** Whether it only timed out (no answer at all). */
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

const maxTcpMessage = 65_535;

/**
 * A stub resolver client on wire.ts's query encoder and reply decoder. dns2's own UDPClient
 * opens a socket per query and never times out; this one keeps one UDP socket per resolver
 * for its whole life, matches replies to queries by id and question, times each try out
 * itself, and repeats a truncated reply's query over TCP.
 */
export class DnsClient {
  /** One connected UDP socket per resolver, opened on its first query; `ready` once connected. */
  private readonly sockets = new Map<Resolver, { opening: Promise<UdpSocket>; ready?: UdpSocket }>();
  /**
   * Tries waiting for a reply, by query id. Every try waits the same timeout, so the map's
   * order (the order they were sent) is also the order they expire in: one timer, set for
   * the oldest, times them all out (a timer per try cost more than decoding its reply).
   */
  private readonly pending = new Map<number, PendingQuery>();
  private expiryTimer: NodeJS.Timeout | undefined;
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
    let lastFailure: FailedTry | undefined;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      const resolver = resolverOf(attempt);
      try {
        const reply = await this.overUdp(resolver, name, type);
        return reply.truncated ? await this.overTcp(resolver, name, type) : toReply(reply, this.addressOf(resolver));
      } catch (error) {
        if (!(error instanceof FailedTry)) throw error;
        lastFailure = error;
      }
    }
    const tried = new Set(Array.from({ length: retries + 1 }, (_, attempt) => this.addressOf(resolverOf(attempt))));
    const summary = `no answer for ${name} ${type} within ${this.options.timeoutMs} ms from ${[...tried].join(", ")} (${retries + 1} tries)`;
    throw new DnsTimeout(lastFailure && !lastFailure.timedOut ? `${summary}; the last: ${lastFailure.message}` : summary);
  }

  /** Closes the sockets; queries still waiting fail. */
  close(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const [id, query] of this.pending) {
      query.reject(new Error("the DNS client was closed"));
      this.pending.delete(id);
    }
    for (const { opening } of this.sockets.values()) opening.then((socket) => socket.close(), () => undefined);
    this.sockets.clear();
  }

  private overUdp(resolver: Resolver, name: string, type: RecordType): Promise<DecodedReply> {
    if (this.closed) return Promise.reject(new Error("the DNS client was closed"));
    const id = this.freeId();
    const message = encodeQuery(id, name, recordTypeCode[type]);
    return new Promise<DecodedReply>((resolve, reject) => {
      const { timeoutMs } = this.options;
      this.pending.set(id, { name: canonicalName(name), type: recordTypeCode[type], resolver, resolve, reject, deadline: performance.now() + timeoutMs });
      this.expiryTimer ??= setTimeout(this.expire, timeoutMs);
      this.send(resolver, message);
    });
  }

  /** The same question over TCP, for an answer too large for UDP: one connection, one message. */
  private overTcp(resolver: Resolver, name: string, type: RecordType): Promise<DnsReply> {
    const id = randomQueryId();
    const message = encodeQuery(id, name, recordTypeCode[type]);
    return new Promise<DnsReply>((resolve, reject) => {
      const socket = connect({ host: resolver.host, port: resolver.port });
      let received = Buffer.alloc(0);
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        socket.destroy();
        outcome();
      };
      const timer = setTimeout(() => finish(() => reject(new FailedTry(`no TCP answer within ${this.options.timeoutMs} ms`, true))), this.options.timeoutMs);
      socket.on("connect", () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > maxTcpMessage + 2) return finish(() => reject(new FailedTry(`an oversized TCP answer from ${this.addressOf(resolver)}`, false)));
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const body = received.subarray(2, 2 + received.readUInt16BE(0));
        finish(() => {
          let reply: DecodedReply;
          try {
            reply = decodeReply(body);
          } catch (error) {
            return reject(new FailedTry(`an unreadable TCP answer from ${this.addressOf(resolver)}: ${(error as Error).message}`, false));
          }
          if (matches(reply, id, canonicalName(name), recordTypeCode[type])) resolve(toReply(reply, this.addressOf(resolver)));
          else reject(new FailedTry(`a TCP answer from ${this.addressOf(resolver)} to another question`, false));
        });
      });
      // A refused or reset connection is a try without an answer, like a lost datagram.
      socket.on("error", (error) => finish(() => reject(new FailedTry(`TCP to ${this.addressOf(resolver)} failed: ${error.message}`, false))));
      socket.on("end", () => finish(() => reject(new FailedTry(`TCP to ${this.addressOf(resolver)} closed before answering`, false))));
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
    let reply: DecodedReply;
    try {
      reply = decodeReply(data);
    } catch (error) {
      // A reply (QR set) with a waiting try's id from the resolver asked that cannot be read
      // ends that try now, saying why, instead of after its timeout.
      const id = data.length >= 3 && (data[2]! & 0x80) !== 0 ? data.readUInt16BE(0) : -1;
      const query = this.pending.get(id);
      if (query?.resolver === resolver) this.settle(id, query).reject(new FailedTry(`an unreadable answer from ${this.addressOf(resolver)}: ${(error as Error).message}`, false));
      return;
    }
    const query = this.pending.get(reply.id);
    // Anything that is not the reply we wait for, from the resolver we asked, is ignored.
    if (!query || query.resolver !== resolver || !matches(reply, reply.id, query.name, query.type)) return;
    this.settle(reply.id, query).resolve(reply);
  }

  /** Takes a try out of the waiting ones; the expiry timer stops when none is left, so that it does not keep the process running. */
  private settle(id: number, query: PendingQuery): PendingQuery {
    this.pending.delete(id);
    if (this.pending.size === 0) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
    return query;
  }

  private addressOf(resolver: Resolver): string {
    return this.addresses.get(resolver)!;
  }

  /** The expiry timer: times out the tries whose deadline has passed, then waits for the next one's. A bound method, so arming it costs no closure. */
  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const now = performance.now();
    for (const [id, query] of this.pending) {
      if (query.deadline > now) {
        this.expiryTimer = setTimeout(this.expire, Math.ceil(query.deadline - now));
        return;
      }
      this.pending.delete(id);
      query.reject(new FailedTry(`no answer within ${this.options.timeoutMs} ms`, true));
    }
  };

  private freeId(): number {
    if (this.pending.size >= 0xffff) throw new Error("too many DNS queries in flight");
    let id = randomQueryId();
    while (this.pending.has(id)) id = randomQueryId();
    return id;
  }
}

/** Whether a reply answers the question asked (the decoder has lowercased its name and dropped the trailing dot). */
function matches(reply: DecodedReply, id: number, name: string, type: number): boolean {
  return reply.isReply && reply.id === id && reply.question !== undefined && reply.question.name === name && reply.question.type === type;
}

function toReply(reply: DecodedReply, server: string): DnsReply {
  return { rcode: reply.rcode, answers: reply.answers, server };
}

function formatAddress(resolver: Resolver): string {
  return isIP(resolver.host) === 6 ? `[${resolver.host}]:${resolver.port}` : `${resolver.host}:${resolver.port}`;
}
