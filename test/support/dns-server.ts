import dns2, { Packet } from "dns2";
import { createDnsVerifier, type DnsVerifier } from "../../src/dns/verify.ts";

/**
 * A record the test server holds; names may be written in any case, with or without a trailing
 * dot. `ttl` in seconds (default 60). An SOA makes its name a zone apex.
 */
export type ZoneRecord = (
  | { name: string; type: "A" | "AAAA"; address: string }
  | { name: string; type: "CNAME"; target: string }
  | { name: string; type: "TXT"; text: string }
  | { name: string; type: "SOA" }
) & { ttl?: number };

export interface ZoneOptions {
  records: ZoneRecord[];
  /** Names the server answers SERVFAIL for. */
  serverFailure?: string[];
  /** Names the server answers REFUSED for. */
  refused?: string[];
  /** Names the server never answers. */
  silent?: string[];
  /** Follow in-zone CNAMEs within one answer, as a recursive resolver does (default: only the asked name's records). */
  chase?: boolean;
  /** Delay before each answer, to hold queries in flight. */
  delayMs?: number;
}

/** A real DNS server (dns2's, UDP and TCP) on 127.0.0.1, answering from a zone. */
export interface TestDnsServer {
  /** `127.0.0.1:port`, as DNS_SERVERS takes it; UDP and TCP share the port. */
  address: string;
  /** Questions asked, like `www.example.com A udp`. */
  questions: string[];
  /** The most queries held at once (with `delayMs`). */
  maxInFlight: number;
  /** Answers from `records` from now on: DNS changed, as when a client creates the record. */
  replaceRecords(records: ZoneRecord[]): void;
  close(): Promise<void>;
}

const typeNames: Record<number, string> = { [Packet.TYPE.A]: "A", [Packet.TYPE.AAAA]: "AAAA", [Packet.TYPE.CNAME]: "CNAME", [Packet.TYPE.TXT]: "TXT", [Packet.TYPE.SOA]: "SOA" };
const key = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** Starts a server for `zone`; UDP and TCP listen on the same free port. */
export async function startDnsServer(zone: ZoneOptions): Promise<TestDnsServer> {
  let byName = recordsByName(zone.records);
  const serverFailure = new Set((zone.serverFailure ?? []).map(key));
  const silent = new Set((zone.silent ?? []).map(key));
  const refused = new Set((zone.refused ?? []).map(key));
  let inFlight = 0;

  const state = { questions: [] as string[], maxInFlight: 0 };
  const handle = (transport: "udp" | "tcp"): dns2.DnsHandler => (request, send) => {
    const question = request.questions[0]!;
    const name = key(question.name);
    state.questions.push(`${name} ${typeNames[question.type] ?? question.type} ${transport}`);
    if (silent.has(name)) return;
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    if (serverFailure.has(name)) response.header.rcode = 2;
    else if (refused.has(name)) response.header.rcode = 5;
    else if (!byName.has(name)) response.header.rcode = 3;
    else response.answers.push(...answersFor(byName, question, zone.chase ?? false));
    inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    setTimeout(() => {
      inFlight -= 1;
      void send(response);
    }, zone.delayMs ?? 0);
  };
  const { udp, tcp, port } = await listenOnOnePort(handle);
  return {
    address: `127.0.0.1:${port}`,
    get questions() {
      return state.questions;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    replaceRecords(records) {
      byName = recordsByName(records);
    },
    close: async () => {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

function recordsByName(records: ZoneRecord[]): Map<string, ZoneRecord[]> {
  const byName = new Map<string, ZoneRecord[]>();
  for (const record of records) byName.set(key(record.name), [...(byName.get(key(record.name)) ?? []), record]);
  return byName;
}

/**
 * UDP and TCP on the same free port: a truncated answer is asked again over TCP on the port
 * the UDP query went to. The port UDP got may be taken for TCP (a connection elsewhere on the
 * machine holds it); then both start again on another.
 */
async function listenOnOnePort(handle: (transport: "udp" | "tcp") => dns2.DnsHandler) {
  for (let attempt = 1; ; attempt += 1) {
    const udp = dns2.createUDPServer(handle("udp"));
    await udp.listen(0, "127.0.0.1");
    const port = udp.address().port;
    const tcp = dns2.createTCPServer(handle("tcp"));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, "127.0.0.1", () => resolve());
      });
      return { udp, tcp, port };
    } catch (error) {
      udp.close();
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 20) throw error;
    }
  }
}

function answersFor(byName: Map<string, ZoneRecord[]>, question: dns2.Packet.Question, chase: boolean): dns2.Packet.Resource[] {
  const answers: dns2.Packet.Resource[] = [];
  const seen = new Set<string>();
  let name = key(question.name);
  while (!seen.has(name)) {
    seen.add(name);
    const records = byName.get(name) ?? [];
    const cname = records.find((record) => record.type === "CNAME");
    if (cname?.type === "CNAME" && question.type !== Packet.TYPE.CNAME) {
      answers.push(resource(cname));
      if (!chase) break;
      name = key(cname.target);
      continue;
    }
    for (const record of records) if (typeNames[question.type] === record.type) answers.push(resource(record));
    break;
  }
  return answers;
}

function resource(record: ZoneRecord): dns2.Packet.Resource {
  const type = Packet.TYPE[record.type];
  const data =
    record.type === "CNAME"
      ? { domain: record.target }
      : record.type === "TXT"
        ? { data: record.text }
        : record.type === "SOA"
          ? { primary: `ns.${key(record.name)}`, admin: `hostmaster.${key(record.name)}`, serial: 1, refresh: 3600, retry: 600, expiration: 86_400, minimum: 60 }
          : { address: record.address };
  return Object.assign(new Packet.Resource(record.name, type, Packet.CLASS.IN, record.ttl ?? 60), data);
}

/** For tests that never check DNS: a verifier whose only resolver is a loopback port nothing serves. */
export function idleDnsVerifier(): DnsVerifier {
  return createDnsVerifier({ dnsServers: ["127.0.0.1:9"], dnsTimeoutMs: 200, dnsConcurrency: 10, edgeCnameSuffix: "edge.test.net", edgeIpv4: [] });
}
