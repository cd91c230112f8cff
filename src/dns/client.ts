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

/** The record types verification asks for (TXT: the ownership challenge of a hostname claim). */
export type RecordType = "A" | "AAAA" | "CNAME" | "TXT";

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

/**
 * One query asked: its tries, each on the next resolver, until one is answered. The client
 * moves it along itself, so a query costs one promise (each await along the way cost a
 * verification allocations, and the garbage collector's time).
 */
interface Query {
  name: string;
  type: RecordType;
  /** What a reply's question must be: the name lowercased without the trailing dot, and the type's code. */
  questionName: string;
  typeCode: number;
  /** The resolver of the first try, as an index in the resolvers. */
  first: number;
  tries: number;
  /** The current try's resolver, and when that try gives up (performance.now()). */
  resolver: Resolver;
  deadline: number;
  resolve(reply: DnsReply): void;
  reject(error: Error): void;
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
   * Queries whose current try waits for its reply, by that try's query id. Every try waits
   * the same timeout, so the map's order (the order they were sent) is also the order they
   * expire in: one timer, set for the oldest, times them all out (a timer per try cost
   * more than decoding its reply).
   */
  private readonly pending = new Map<number, Query>();
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
  query(name: string, type: RecordType): Promise<DnsReply> {
    return new Promise((resolve, reject) => {
      // Spread queries over the resolvers; a retry moves on to the next one.
      const first = this.nextResolver++ % this.options.resolvers.length;
      const resolver = this.options.resolvers[first]!; // set again by each try
      this.tryOverUdp({ name, type, questionName: canonicalName(name), typeCode: recordTypeCode[type], first, tries: 0, resolver, deadline: 0, resolve, reject });
    });
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

  /** The query's next try: over UDP, to the next resolver. */
  private tryOverUdp(query: Query): void {
    if (this.closed) return query.reject(new Error("the DNS client was closed"));
    const { resolvers, timeoutMs } = this.options;
    const resolver = resolvers[(query.first + query.tries) % resolvers.length]!;
    query.tries += 1;
    query.resolver = resolver;
    let id: number;
    let message: Buffer;
    try {
      id = this.freeId();
      message = encodeQuery(id, query.name, query.typeCode);
    } catch (error) {
      return query.reject(error as Error);
    }
    query.deadline = performance.now() + timeoutMs;
    this.pending.set(id, query);
    this.expiryTimer ??= setTimeout(this.expire, timeoutMs);
    this.send(resolver, message);
  }

  /** A try's reply: the query's answer, or the same question over TCP when it was truncated. */
  private answered(query: Query, reply: DecodedReply): void {
    const { resolver } = query;
    if (!reply.truncated) return query.resolve(toReply(reply, this.addressOf(resolver)));
    this.overTcp(resolver, query.name, query.type).then(query.resolve, (error: unknown) => {
      if (error instanceof FailedTry) this.failed(query, error);
      else query.reject(error as Error);
    });
  }

  /** A try without a usable answer: the query's next try, or after its last, DnsTimeout. */
  private failed(query: Query, failure: FailedTry): void {
    const { resolvers, retries, timeoutMs } = this.options;
    if (query.tries <= retries) return this.tryOverUdp(query);
    const tried = new Set(Array.from({ length: query.tries }, (_, attempt) => this.addressOf(resolvers[(query.first + attempt) % resolvers.length]!)));
    const summary = `no answer for ${query.name} ${query.type} within ${timeoutMs} ms from ${[...tried].join(", ")} (${query.tries} ${query.tries === 1 ? "try" : "tries"})`;
    query.reject(new DnsTimeout(failure.timedOut ? summary : `${summary}; the last: ${failure.message}`));
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
      const waiting = this.pending.get(id);
      if (waiting?.resolver !== resolver) return;
      this.settle(id);
      this.failed(waiting, new FailedTry(`an unreadable answer from ${this.addressOf(resolver)}: ${(error as Error).message}`, false));
      return;
    }
    const waiting = this.pending.get(reply.id);
    // Anything that is not the reply we wait for, from the resolver we asked, is ignored.
    if (!waiting || waiting.resolver !== resolver || !matches(reply, reply.id, waiting.questionName, waiting.typeCode)) return;
    this.settle(reply.id);
    this.answered(waiting, reply);
  }

  /** Takes a try out of the waiting ones; the expiry timer stops when none is left, so that it does not keep the process running. */
  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  private addressOf(resolver: Resolver): string {
    return this.addresses.get(resolver)!;
  }

  /** The expiry timer: times out the tries whose deadline has passed, then waits for the next one's. A bound method, so arming it costs no closure. */
  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const now = performance.now();
    const expired: Query[] = [];
    for (const [id, query] of this.pending) {
      if (query.deadline > now) break;
      this.pending.delete(id);
      expired.push(query);
    }
    // Their next tries join the map (and arm the timer) only once the expired ones are out of it.
    for (const query of expired) this.failed(query, new FailedTry(`no answer within ${this.options.timeoutMs} ms`, true));
    const oldest = this.pending.values().next().value;
    if (oldest) this.expiryTimer ??= setTimeout(this.expire, Math.max(1, Math.ceil(oldest.deadline - now)));
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
