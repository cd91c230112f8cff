import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import { getServers } from "node:dns";
import { readFileSync } from "node:fs";
import { connect, isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { decodeReply, encodeQuery, randomQueryId, recordTypeCode, type AnswerRecord, type DecodedReply } from "./wire.ts";
import { dnsTally } from "../metrics.ts";

export type { AnswerRecord } from "./wire.ts";

/** A DNS server queried for verification. */
export interface Resolver {
  host: string;
  port: number;
}

/** The record types verification asks for (TXT: the ownership challenge of a hostname claim; SOA: whether a name is a zone apex). */
export type RecordType = "A" | "AAAA" | "CNAME" | "TXT" | "SOA";

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
  /** The current try's resolver, query id, socket (undefined once the try has ended), and when it gives up (performance.now()). */
  resolver: Resolver;
  id: number;
  source: SourceSocket | undefined;
  deadline: number;
  /** When it was asked (performance.now()), for the metrics. */
  started: number;
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
/** Ports drawn for one socket before giving up: another socket may hold the one drawn. */
const maxPortDraws = 8;
/** A socket carries this many tries at most, one at a time, and is then closed with its port. */
const maxTriesPerSocket = 16;
/** A socket is not given a try after this long (ms): ports change at least this often. */
const maxSocketAgeMs = 1000;

/** A UDP socket on a random source port, connected to one resolver, carrying one try at a time. */
interface SourceSocket {
  socket: UdpSocket;
  /** The try it carries: undefined while it waits in the pool. */
  query: Query | undefined;
  /** Bound and connected; until then a try's query waits in `unsent`. */
  connected: boolean;
  closed: boolean;
  unsent: Buffer | undefined;
  /** Tries it may still carry, and until when (performance.now()). */
  triesLeft: number;
  retireAt: number;
}

/**
 * A stub resolver client on wire.ts's query encoder and reply decoder. Each try of a query
 * carries a random query id and goes out from a socket that carries no other try meanwhile:
 * bound to a source port drawn at random and connected to the resolver asked, so that only
 * datagrams from the resolver's own address and port reach it, and closed after a few tries
 * or a second (`takeSocket`). Ids and ports come from the crypto random source. A spoofed
 * answer must hit both the port and the id while the try waits, about 30 bits of guessing
 * as with c-ares and unbound (README, under `dns check`), and must repeat the question. It
 * times each try out itself and repeats a truncated reply's query over TCP.
 */
/** Counts a query's outcome and how long it took, for the metrics (plain numbers: see `dnsTally`). */
function countQuery(query: Query, outcome: "answered" | "timeout"): void {
  dnsTally.queries[outcome] += 1;
  dnsTally.querySeconds[outcome] += (performance.now() - query.started) / 1000;
}

export class DnsClient {
  /**
   * Queries whose current try waits for its reply, in the order the tries were sent. Every
   * try waits the same timeout, so that is also the order they expire in: one timer, set for
   * the oldest, times them all out (a timer per try cost more than decoding its reply).
   */
  private readonly pending = new Set<Query>();
  /** Sockets waiting for a try, by resolver (see `takeSocket`). */
  private readonly idle = new Map<Resolver, SourceSocket[]>();
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
      // Timed from here to the answer, or to the last try's timeout (the metrics: `dnsTally`).
      const query: Query = { name, type, questionName: canonicalName(name), typeCode: recordTypeCode[type], first, tries: 0, resolver, id: 0, source: undefined, deadline: 0, started: performance.now(), resolve, reject };
      this.tryOverUdp(query);
    });
  }

  /** Closes the sockets; queries still waiting fail. */
  close(): void {
    this.closed = true;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const query of this.pending) {
      if (query.source !== undefined) closeSource(query.source);
      query.reject(new Error("the DNS client was closed"));
    }
    this.pending.clear();
    this.closeIdle();
  }

  /** The query's next try: over UDP, to the next resolver, from a socket that carries nothing else meanwhile (`takeSocket`). */
  private tryOverUdp(query: Query): void {
    if (this.closed) return query.reject(new Error("the DNS client was closed"));
    const { resolvers, timeoutMs } = this.options;
    const resolver = resolvers[(query.first + query.tries) % resolvers.length]!;
    query.tries += 1;
    query.resolver = resolver;
    query.id = randomQueryId();
    let message: Buffer;
    try {
      message = encodeQuery(query.id, query.name, query.typeCode);
    } catch (error) {
      return query.reject(error as Error);
    }
    const now = performance.now();
    query.deadline = now + timeoutMs;
    this.pending.add(query);
    this.expiryTimer ??= setTimeout(this.expire, timeoutMs);
    const source = this.takeSocket(resolver, now);
    source.query = query;
    source.triesLeft -= 1;
    query.source = source;
    if (source.connected) source.socket.send(message);
    else source.unsent = message;
  }

  /** A try's reply: the query's answer, or the same question over TCP when it was truncated. */
  private answered(query: Query, reply: DecodedReply): void {
    const { resolver } = query;
    if (!reply.truncated) {
      countQuery(query, "answered");
      return query.resolve(toReply(reply, this.addressOf(resolver)));
    }
    this.overTcp(resolver, query.name, query.type).then((tcpReply) => {
      countQuery(query, "answered");
      query.resolve(tcpReply);
    }, (error: unknown) => {
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
    countQuery(query, "timeout");
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

  /**
   * A socket for a try to `resolver`: one of the pool's, unless it has carried its share of
   * tries or lived its time, else a new one. A port seen by someone off the path (by the
   * side channels of SAD DNS, say) is then of use to them for a few tries at most, and a
   * quiet client opens a new socket for nearly every try.
   */
  private takeSocket(resolver: Resolver, now: number): SourceSocket {
    const idle = this.idle.get(resolver);
    while (idle !== undefined && idle.length > 0) {
      const source = idle.pop()!;
      if (source.retireAt > now) return source;
      closeSource(source);
    }
    return this.openSocket(resolver, now);
  }

  /**
   * A new socket: bound to a random source port (another is drawn while the one drawn is
   * taken), connected to the resolver, so that the kernel passes on only datagrams from its
   * address and port. One that cannot be bound or connected ends its try at once; later
   * errors (an ICMP "port unreachable") are left to the timeout.
   */
  private openSocket(resolver: Resolver, now: number): SourceSocket {
    const socket = createSocket({ type: isIP(resolver.host) === 6 ? "udp6" : "udp4" });
    const source: SourceSocket = { socket, query: undefined, connected: false, closed: false, unsent: undefined, triesLeft: maxTriesPerSocket, retireAt: now + maxSocketAgeMs };
    // The socket alone must not keep the process running; pending timers do while they wait.
    socket.unref();
    let drawsLeft = maxPortDraws;
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (source.connected || source.closed) return;
      if (error.code === "EADDRINUSE" && --drawsLeft > 0) return void socket.bind({ port: randomSourcePort(), exclusive: true });
      const query = source.query;
      closeSource(source);
      if (query === undefined) return;
      this.endTry(query, false);
      this.failed(query, new FailedTry(`no UDP socket to ${this.addressOf(resolver)}: ${error.message}`, false));
    });
    socket.on("message", (data: Buffer) => {
      if (source.query !== undefined) this.onDatagram(source.query, data);
    });
    socket.once("listening", () => {
      if (source.closed) return;
      socket.connect(resolver.port, resolver.host, (error?: Error) => {
        if (source.closed) return;
        if (error) return void socket.emit("error", error);
        source.connected = true;
        if (source.unsent !== undefined) socket.send(source.unsent);
        source.unsent = undefined;
      });
    });
    socket.bind({ port: randomSourcePort(), exclusive: true });
    return source;
  }

  /** A datagram on the socket of the query's current try: from the resolver asked, which the socket is connected to. */
  private onDatagram(query: Query, data: Buffer): void {
    let reply: DecodedReply;
    try {
      reply = decodeReply(data);
    } catch (error) {
      // A reply (QR set) with the try's id that cannot be read ends the try now, saying why,
      // instead of after its timeout.
      if (data.length < 3 || (data[2]! & 0x80) === 0 || data.readUInt16BE(0) !== query.id) return;
      this.endTry(query, false);
      this.failed(query, new FailedTry(`an unreadable answer from ${this.addressOf(query.resolver)}: ${(error as Error).message}`, false));
      return;
    }
    // Anything that is not the reply we wait for is ignored.
    if (!matches(reply, query.id, query.questionName, query.typeCode)) return;
    this.endTry(query, true);
    this.answered(query, reply);
  }

  /**
   * Ends a query's current try: out of the waiting ones, its socket back in the pool when the
   * try was answered and the socket may carry more, else closed. With no try left waiting, the
   * expiry timer stops (so that it does not keep the process running) and the pool closes.
   */
  private endTry(query: Query, answered: boolean): void {
    this.pending.delete(query);
    const source = query.source;
    query.source = undefined;
    if (source !== undefined) {
      source.query = undefined;
      source.unsent = undefined;
      if (answered && source.connected && source.triesLeft > 0 && !this.closed) this.idleFor(query.resolver).push(source);
      else closeSource(source);
    }
    if (this.pending.size === 0) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
      this.closeIdle();
    }
  }

  private idleFor(resolver: Resolver): SourceSocket[] {
    let idle = this.idle.get(resolver);
    if (idle === undefined) this.idle.set(resolver, (idle = []));
    return idle;
  }

  private closeIdle(): void {
    for (const idle of this.idle.values()) for (const source of idle.splice(0)) closeSource(source);
  }

  private addressOf(resolver: Resolver): string {
    return this.addresses.get(resolver)!;
  }

  /** The expiry timer: times out the tries whose deadline has passed, then waits for the next one's. A bound method, so arming it costs no closure. */
  private readonly expire = (): void => {
    this.expiryTimer = undefined;
    const now = performance.now();
    const expired: Query[] = [];
    for (const query of this.pending) {
      if (query.deadline > now) break;
      this.endTry(query, false);
      expired.push(query);
    }
    // Their next tries join the set (and arm the timer) only once the expired ones are out of it.
    for (const query of expired) this.failed(query, new FailedTry(`no answer within ${this.options.timeoutMs} ms`, true));
    const oldest = this.pending.values().next().value;
    if (oldest) this.expiryTimer ??= setTimeout(this.expire, Math.max(1, Math.ceil(oldest.deadline - now)));
  };
}

/** Closes a socket, once: datagrams still queued for it are then ignored. */
function closeSource(source: SourceSocket): void {
  if (source.closed) return;
  source.closed = true;
  source.query = undefined;
  source.socket.close();
}

/**
 * The ports a try's socket may be bound to: the system's ephemeral range (on Linux
 * 32768–60999 by default), less its reserved ports, or IANA's dynamic range elsewhere. The
 * ports other programs are given by the system anyway, so drawing from them takes no fixed
 * port a service listens on.
 */
export interface SourcePortRange {
  low: number;
  high: number;
  reserved: Set<number>;
}

let sourcePorts: SourcePortRange | undefined;

export function sourcePortRange(): SourcePortRange {
  if (sourcePorts) return sourcePorts;
  sourcePorts = { low: 49_152, high: 65_535, reserved: new Set() };
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "latin1").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! >= 1024 && high! <= 65_535 && high! - low! >= 1023) sourcePorts = { low: low!, high: high!, reserved: new Set() };
    for (const entry of readFileSync("/proc/sys/net/ipv4/ip_local_reserved_ports", "latin1").trim().split(",")) {
      if (entry === "") continue;
      const [first, last = first] = entry.split("-").map(Number);
      // Only those inside the range count: the others are never drawn.
      for (let port = Math.max(first!, sourcePorts.low); port <= Math.min(last!, sourcePorts.high); port++) sourcePorts.reserved.add(port);
    }
  } catch {
    // Not Linux: IANA's range.
  }
  // A range (nearly) all reserved would leave too little to guess, and no port to draw.
  if (sourcePorts.high - sourcePorts.low + 1 - sourcePorts.reserved.size < 1024) sourcePorts = { low: 49_152, high: 65_535, reserved: new Set() };
  return sourcePorts;
}

/** A source port drawn from the crypto random source, uniformly over `sourcePortRange()`. */
function randomSourcePort(): number {
  const { low, high, reserved } = sourcePortRange();
  for (;;) {
    const port = randomInt(low, high + 1);
    if (!reserved.has(port)) return port;
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
