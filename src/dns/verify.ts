import { BlockList, isIP } from "node:net";
import { Worker } from "node:worker_threads";
import { canonicalName, DnsClient, DnsTimeout, rcode, resolversFrom, type DnsReply, type RecordType } from "./client.ts";
import { addDnsTally, dnsTally, type DnsTally } from "../metrics.ts";

/** What verification found for one hostname; "could not check" is never a failure. */
export type Verdict =
  | {
      status: "passes";
      hostname: string;
      expectedTarget: string;
      /** How it reaches the edge: the CNAME names followed, or the A records that are all edge addresses. */
      found: string;
      /** `found` in parts, when it names addresses: see `FoundLine`. */
      foundParts?: FoundLine;
    }
  | {
      status: "fails";
      hostname: string;
      expectedTarget: string;
      /** The first record to create, like `CNAME www.example.com → www.example.com.edge.example.net` or `A example.com 192.0.2.10` (see `advice`). */
      recordToCreate: string;
      /** What to create and remove for the hostname to pass (absent from verdicts stored before it existed). */
      advice?: DnsAdvice;
      /** What DNS holds instead, one line each, like `NXDOMAIN: www.example.com does not exist`. */
      found: string[];
      /** `found` in parts, when it names addresses: see `FoundLine`. */
      foundParts?: FoundLine[];
    }
  | {
      status: "could_not_check";
      hostname: string;
      expectedTarget: string;
      /** Why, like `SERVFAIL from 127.0.0.1:53`. */
      reason: string;
    };

/** A DNS record as advice shows it: Type / Name / Value. */
export interface DnsRecord {
  /** ALIAS stands for ALIAS or ANAME, a DNS host's flattened CNAME that an apex may hold. */
  type: "A" | "AAAA" | "CNAME" | "ALIAS";
  name: string;
  /** An address, or the name a CNAME or ALIAS points at. */
  value: string;
}

/** What a hostname needs for it to pass (SPEC §5): the records to create, and those in their way. */
export interface DnsAdvice {
  /** A zone apex (the name has its own SOA), which cannot hold a CNAME. */
  apex: boolean;
  /** The records to create: a CNAME for a subdomain; for an apex an A record per EDGE_IPV4 address, or an ALIAS when there are none. */
  create: DnsRecord[];
  /** Instead of `create`, where the DNS host offers it: an apex's ALIAS/ANAME to the expected target. */
  alternative?: DnsRecord;
  /** Set when DNS could not tell whether the hostname is a zone apex: what to create instead if it is. */
  ifApex?: { create: DnsRecord[]; alternative?: DnsRecord };
  /** Records at the hostname that stand in the way, to remove. */
  remove: DnsRecord[];
  /** The longest TTL among `remove` (seconds): resolvers may keep the old answer that long after the change. */
  ttlSeconds?: number;
}

/**
 * A line of what a verdict found, as words and the lists of addresses DNS gave, kept apart
 * so that the verdict can be shown without some of them (`withoutInternalAddresses`).
 */
export type FoundLine = Array<string | { addresses: string[] }>;

export interface DnsVerifierOptions {
  client: DnsClient;
  /** EDGE_CNAME_SUFFIX: hostname h is expected to be a CNAME of `h.<suffix>`. */
  edgeCnameSuffix: string;
  /** EDGE_IPV4: addresses an apex's A records may point at. */
  edgeIpv4: string[];
  /** DNS_CONCURRENCY: hostnames checked at once by `verifyAll`. */
  concurrency: number;
  /** CNAME steps followed before giving up on a chain. */
  maxChainLength?: number;
  /** Where `verifyInBulk` sends its batches; without one, they are checked on this thread. */
  thread?: VerifierThread;
}

/** Where a CNAME chain from a hostname ended. */
type ChainEnd =
  | { kind: "target" }
  | { kind: "addresses"; name: string; addresses: string[] }
  | { kind: "no_data"; name: string }
  | { kind: "nxdomain"; name: string }
  | { kind: "loop"; name: string }
  | { kind: "too_long" };

/** A record DNS holds at the hostname, as a failing verdict's advice may name it for removal. */
interface PresentRecord {
  type: "A" | "AAAA" | "CNAME";
  value: string;
  ttl: number;
  /** An address of the edge's, which an apex keeps. */
  edge: boolean;
}

/** A failing check before its advice: what was found, and the records at the hostname. */
interface Failing {
  status: "failing";
  found: Array<string | FoundLine>;
  present: PresentRecord[];
}

/** A DNS answer that means nothing can be concluded (SERVFAIL, REFUSED). */
class Unanswered extends Error {}

const reachedTarget: ChainEnd = { kind: "target" };

const defaultMaxChainLength = 8;
const rcodeNames: Record<number, string> = { 1: "FORMERR", 2: "SERVFAIL", 4: "NOTIMP", 5: "REFUSED" };

/**
 * Checks that hostnames point at the edge, as SPEC §5 defines it: a CNAME chain reaching
 * `h.<EDGE_CNAME_SUFFIX>`, or (for an apex) A records that are all edge addresses.
 */
export class DnsVerifier {
  private readonly maxChainLength: number;

  constructor(private readonly options: DnsVerifierOptions) {
    this.maxChainLength = options.maxChainLength ?? defaultMaxChainLength;
  }

  /** The name `hostname` must be a CNAME of. */
  expectedTarget(hostname: string): string {
    return `${canonicalName(hostname)}.${this.options.edgeCnameSuffix}`;
  }

  /** The verdict for one hostname (already normalized: see `normalizeHostname`). */
  async verify(hostname: string): Promise<Verdict> {
    const verdict = await this.check(hostname);
    dnsTally.verdicts[verdict.status] += 1;
    return verdict;
  }

  /** The verdict for one hostname, as `verify` gives it. */
  private async check(hostname: string): Promise<Verdict> {
    const name = canonicalName(hostname);
    const expectedTarget = this.expectedTarget(name);
    try {
      // The CNAME chain, asking for each name an answer stopped at (see `followReply`).
      const chain: string[] = [];
      let end: ChainEnd | undefined;
      let atHostname: DnsReply | undefined;
      while (end === undefined) {
        const askedFor = chain.at(-1) ?? name;
        const reply = answered(await this.options.client.query(askedFor, "A"), askedFor, "A");
        atHostname ??= reply;
        end = this.followReply(name, expectedTarget, chain, askedFor, reply);
      }
      // The chain settles most hostnames; only one without a CNAME (an apex) takes more queries.
      const outcome = this.chainVerdict(name, expectedTarget, chain, end, atHostname!) ?? (await this.addressVerdict(name, expectedTarget, end, atHostname!));
      if (outcome.status !== "failing") return outcome;
      // Only a failing hostname is asked for its SOA: the advice depends on whether it is an apex.
      return failing(name, expectedTarget, outcome.found, this.advice(name, await this.isApex(name), outcome.present));
    } catch (error) {
      // No answer, or one that tells nothing (SERVFAIL, REFUSED), anywhere along the way.
      if (error instanceof Unanswered || error instanceof DnsTimeout) return { status: "could_not_check", hostname: name, expectedTarget, reason: error.message };
      throw error;
    }
  }

  /**
   * Whether `hostname` is a zone apex: its SOA question is answered with an SOA owned by that
   * very name (a resolver answers a name inside a zone with no SOA of its own, or one a CNAME
   * leads to, owned by another name).
   */
  async isApex(hostname: string): Promise<boolean> {
    const name = canonicalName(hostname);
    const reply = answered(await this.options.client.query(name, "SOA"), name, "SOA");
    return reply.answers.some((answer) => answer.type === "SOA" && answer.name === name);
  }

  /**
   * The advice for a hostname without asking DNS (when DNS could not be asked): the CNAME, and
   * what to create instead should the hostname be a zone apex. Nothing to remove is known.
   */
  plainAdvice(hostname: string): DnsAdvice {
    const name = canonicalName(hostname);
    const { create, alternative } = this.advice(name, true, []);
    return { ...this.advice(name, false, []), ifApex: { create, ...(alternative === undefined ? {} : { alternative }) } };
  }

  /** The records `hostname` needs, as an apex or not, and which of those `present` stand in their way. */
  private advice(hostname: string, apex: boolean, present: PresentRecord[]): DnsAdvice {
    const target = this.expectedTarget(hostname);
    const alias: DnsRecord = { type: "ALIAS", name: hostname, value: target };
    // An apex keeps the edge's addresses; a CNAME stands alone, so every other record at its name goes.
    const inTheWay = apex ? present.filter((record) => record.type === "CNAME" || !record.edge) : present;
    const advice: DnsAdvice = apex
      ? this.options.edgeIpv4.length > 0
        ? { apex, create: this.options.edgeIpv4.map((address) => ({ type: "A", name: hostname, value: address })), alternative: alias, remove: [] }
        : { apex, create: [alias], remove: [] }
      : { apex, create: [{ type: "CNAME", name: hostname, value: target }], remove: [] };
    advice.remove = inTheWay.map((record) => ({ type: record.type, name: hostname, value: record.value }));
    if (inTheWay.length > 0) advice.ttlSeconds = Math.max(...inTheWay.map((record) => record.ttl));
    return advice;
  }

  /** Verdicts for many hostnames, in their order, at most `concurrency` checked at once. */
  async verifyAll(hostnames: string[]): Promise<Verdict[]> {
    const verdicts = new Array<Verdict>(hostnames.length);
    let next = 0;
    const worker = async () => {
      while (next < hostnames.length) {
        const index = next++;
        const verdict = await this.check(hostnames[index]!);
        dnsTally.verdicts[verdict.status] += 1;
        verdicts[index] = verdict;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, hostnames.length) }, worker));
    return verdicts;
  }

  /**
   * Verdicts for a large batch of hostnames, as `verifyAll` gives them, checked on the
   * verifier's own thread when it has one (`createDnsVerifier`): the daily sweep asks a page's
   * DNS there while the main thread writes the page before, so that each has a core.
   */
  async verifyInBulk(hostnames: string[]): Promise<Verdict[]> {
    return this.options.thread === undefined ? this.verifyAll(hostnames) : this.options.thread.verifyAll(hostnames);
  }

  /**
   * Whether a TXT record at `_edgebot-challenge.<hostname>` holds `token` exactly. The name may
   * be a CNAME to where the record is kept (as for ACME's challenges): TXT records reached by
   * the answer's CNAME chain count. A timeout, SERVFAIL or REFUSED is "could not check".
   */
  async verifyChallenge(hostname: string, token: string): Promise<ChallengeVerdict> {
    const name = canonicalName(hostname);
    const recordName = challengeName(name);
    let reply: DnsReply;
    try {
      reply = answered(await this.options.client.query(recordName, "TXT"), recordName, "TXT");
    } catch (error) {
      if (error instanceof Unanswered || error instanceof DnsTimeout) return { status: "could_not_check", hostname: name, recordName, reason: error.message };
      throw error;
    }
    const owners = new Set([recordName]);
    for (let owner: string | undefined = recordName; owner !== undefined && owners.size <= this.maxChainLength; ) {
      owner = cnameOf(reply, owner);
      if (owner === undefined || owners.has(owner)) break;
      owners.add(owner);
    }
    const texts: string[] = [];
    for (const answer of reply.answers) if (answer.type === "TXT" && owners.has(answer.name)) texts.push(answer.text);
    if (texts.includes(token)) return { status: "found", hostname: name, recordName };
    return { status: "missing", hostname: name, recordName, found: texts };
  }

  /** Closes the client's sockets, and stops the verifier's thread. */
  close(): void {
    this.options.client.close();
    this.options.thread?.close();
  }

  /** The verdict where a CNAME chain, or NXDOMAIN at the hostname, settles it; undefined when the hostname has no CNAME. */
  private chainVerdict(hostname: string, expectedTarget: string, chain: string[], end: ChainEnd, atHostname: DnsReply): Verdict | Failing | undefined {
    const path = chain.length === 0 ? hostname : `${hostname} → ${chain.join(" → ")}`;

    if (end.kind === "target") return { status: "passes", hostname, expectedTarget, found: `CNAME ${path}` };
    if (chain.length > 0) {
      // The hostname's own CNAME is in the way of the record to create.
      const own = atHostname.answers.find((answer) => answer.type === "CNAME" && answer.name === hostname);
      const present: PresentRecord[] = [{ type: "CNAME", value: chain[0]!, ttl: own?.ttl ?? 0, edge: false }];
      if (end.kind === "loop") return { status: "failing", found: [`CNAME loop: ${path}`], present };
      if (end.kind === "too_long") return { status: "failing", found: [`CNAME chain too long: more than ${this.maxChainLength} steps from ${hostname} (${path} → …)`], present };
      if (end.kind === "addresses") return { status: "failing", found: [[`wrong CNAME target: ${path} (which has A `, { addresses: end.addresses }, ")"]], present };
      const where = end.kind === "nxdomain" ? "which does not exist: NXDOMAIN" : "which has no address";
      return { status: "failing", found: [`wrong CNAME target: ${path} (${where})`], present };
    }
    if (end.kind === "nxdomain") return { status: "failing", found: [`NXDOMAIN: ${hostname} does not exist`], present: [] };
    return undefined;
  }

  /** The verdict for a hostname without a CNAME (an apex, or a name given addresses directly): its A and AAAA records must all be the edge's. */
  private async addressVerdict(hostname: string, expectedTarget: string, end: ChainEnd, atHostname: DnsReply): Promise<Verdict | Failing> {
    const addresses = end.kind === "addresses" ? end.addresses : [];
    const ipv6Reply = answered(await this.options.client.query(hostname, "AAAA"), hostname, "AAAA");
    const ipv6 = addressesIn(ipv6Reply, "AAAA", hostname);
    if (addresses.length === 0 && ipv6.length === 0) return { status: "failing", found: [`no data: ${hostname} has no CNAME, A or AAAA record`], present: [] };

    const found: Array<string | FoundLine> = [];
    let stray: string[] = [];
    let strayIpv6: string[] = [];
    if (addresses.length > 0) {
      const edge = await this.edgeAddresses(expectedTarget, addresses, "A");
      stray = addresses.filter((address) => !edge.check(address, "ipv4"));
      if (stray.length > 0) found.push(["A ", { addresses: stray }, ": not an edge address"]);
    }
    if (ipv6.length > 0) {
      const edge = await this.edgeAddresses(expectedTarget, ipv6, "AAAA");
      strayIpv6 = ipv6.filter((address) => !edge.check(address, "ipv6"));
      if (strayIpv6.length > 0) found.push(["AAAA ", { addresses: strayIpv6 }, ": not the edge (it is IPv4): remove the AAAA record"]);
    }
    if (addresses.length === 0) found.unshift(`no A or CNAME record at ${hostname}`);
    if (found.length > 0) {
      return { status: "failing", found, present: [...presentAddresses(atHostname, "A", hostname, stray), ...presentAddresses(ipv6Reply, "AAAA", hostname, strayIpv6)] };
    }
    const via: FoundLine = [];
    if (addresses.length > 0) via.push("A ", { addresses });
    if (ipv6.length > 0) via.push(addresses.length > 0 ? ", AAAA " : "AAAA ", { addresses: ipv6 });
    via.push(": edge addresses");
    return { status: "passes", hostname, expectedTarget, found: spelled(via), foundParts: via };
  }

  /**
   * Follows CNAMEs through a reply to the question about `askedFor` (the chain's last name, or
   * the hostname), adding them to `chain`, to the expected target, addresses, or a dead end;
   * undefined when the answer stopped at a name it says nothing more about, to be asked for
   * next. A recursive resolver returns much of a chain in one answer; an authoritative server
   * only its own part. Not async itself: each await costs a verification allocations.
   */
  private followReply(hostname: string, expectedTarget: string, chain: string[], askedFor: string, reply: DnsReply): ChainEnd | undefined {
    let current = askedFor;
    for (let step = cnameOf(reply, current); step !== undefined; step = cnameOf(reply, current)) {
      if (step === expectedTarget) {
        chain.push(step);
        return reachedTarget;
      }
      // The chain is short (maxChainLength): a scan costs less than a Set.
      if (step === hostname || chain.includes(step)) {
        chain.push(step);
        return { kind: "loop", name: step };
      }
      if (chain.length >= this.maxChainLength) return { kind: "too_long" };
      chain.push(step);
      current = step;
    }
    // A recursive resolver's NXDOMAIN is about the chain's last name, not the name asked for.
    if (reply.rcode === rcode.nameError) return { kind: "nxdomain", name: current };
    const addresses = addressesIn(reply, "A", current);
    if (addresses.length > 0) return { kind: "addresses", name: current, addresses };
    if (current === askedFor) return { kind: "no_data", name: current };
    return undefined;
  }

  /** The addresses an apex may point at: EDGE_IPV4, and what the expected target resolves to (as ALIAS flattening copies). */
  private async edgeAddresses(expectedTarget: string, found: string[], type: "A" | "AAAA"): Promise<BlockList> {
    const family = type === "A" ? "ipv4" : "ipv6";
    const edge = new BlockList();
    if (type === "A") for (const address of this.options.edgeIpv4) edge.addAddress(address, "ipv4");
    if (found.every((address) => edge.check(address, family))) return edge;
    // Every address in the answer is the chain's end: the target's own CNAMEs lead to them.
    for (const address of addressesIn(answered(await this.options.client.query(expectedTarget, type), expectedTarget, type), type)) {
      if (isIP(address) === (type === "A" ? 4 : 6)) edge.addAddress(address, family);
    }
    return edge;
  }

}

/**
 * The reply to a query for `name` and `type`, if it tells something; an answer that tells
 * nothing (SERVFAIL, REFUSED) ends the check as "could not check", as a timeout does. A
 * check, not an async step of its own: each await costs a verification allocations.
 */
function answered(reply: DnsReply, name: string, type: RecordType): DnsReply {
  if (reply.rcode !== rcode.noError && reply.rcode !== rcode.nameError) {
    throw new Unanswered(`${rcodeNames[reply.rcode] ?? `RCODE ${reply.rcode}`} from ${reply.server} for ${name} ${type}`);
  }
  return reply;
}

/** A "fails" verdict: the advice and its first record to create, and what DNS holds instead (lines that name addresses in parts). */
function failing(hostname: string, expectedTarget: string, found: Array<string | FoundLine>, advice: DnsAdvice): Verdict {
  const verdict: Verdict = {
    status: "fails",
    hostname,
    expectedTarget,
    recordToCreate: recordText(advice.create[0]!),
    advice,
    found: found.map((line) => (typeof line === "string" ? line : spelled(line))),
  };
  if (found.some((line) => typeof line !== "string")) verdict.foundParts = found.map((line) => (typeof line === "string" ? [line] : line));
  return verdict;
}

/** A record on one line: `CNAME www.example.com → www.example.com.edge.example.net`, `A example.com 192.0.2.10`. */
function recordText(record: DnsRecord): string {
  return record.type === "CNAME" || record.type === "ALIAS" ? `${record.type} ${record.name} → ${record.value}` : `${record.type} ${record.name} ${record.value}`;
}

/** The records of `type` at `owner` in a reply whose address is among `stray` (the rest are the edge's), with their TTLs. */
function presentAddresses(reply: DnsReply, type: "A" | "AAAA", owner: string, stray: string[]): PresentRecord[] {
  const present: PresentRecord[] = [];
  for (const record of reply.answers) {
    if (record.type === type && record.name === owner) present.push({ type, value: record.address, ttl: record.ttl, edge: !stray.includes(record.address) });
  }
  return present;
}

/** A found line as text. */
function spelled(line: FoundLine): string {
  let text = "";
  for (const part of line) text += typeof part === "string" ? part : part.addresses.join(", ");
  return text;
}

/**
 * The addresses no one outside an organisation is shown for its hostnames: "this network"
 * (0.0.0.0/8), private (RFC 1918, IPv6 unique local), loopback, link-local and CGNAT
 * (100.64.0.0/10). Node's BlockList also matches their IPv4-mapped IPv6 forms.
 */
const internalAddresses = (() => {
  const list = new BlockList();
  for (const [network, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16]] as const) list.addSubnet(network, prefix, "ipv4");
  for (const [network, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10]] as const) list.addSubnet(network, prefix, "ipv6");
  return list;
})();

/** Whether an address lies in a private, loopback, link-local or CGNAT network (see `internalAddresses`). */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && internalAddresses.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * The verdict as someone outside the organisations serving its hostname may see it: the same
 * status and advice, with internal addresses (see `isInternalAddress`) left out of what was
 * found and counted instead, so that DNS checks do not map private networks for strangers.
 */
export function withoutInternalAddresses(verdict: Verdict): Verdict {
  if (verdict.status === "passes" && verdict.foundParts !== undefined) {
    const foundParts = withoutInternal(verdict.foundParts);
    return { ...verdict, found: spelled(foundParts), foundParts };
  }
  if (verdict.status === "fails") {
    const hidden = { ...verdict };
    if (verdict.foundParts !== undefined) {
      hidden.foundParts = verdict.foundParts.map(withoutInternal);
      hidden.found = hidden.foundParts.map(spelled);
    }
    if (verdict.advice !== undefined && verdict.advice.remove.some((record) => isInternalAddress(record.value))) {
      hidden.advice = { ...verdict.advice, remove: removalsWithoutInternal(verdict.advice.remove) };
    }
    return hidden;
  }
  return verdict;
}

/** Records to remove with internal addresses counted instead of shown: one line a type for those hidden. */
function removalsWithoutInternal(remove: DnsRecord[]): DnsRecord[] {
  const shown = remove.filter((record) => !isInternalAddress(record.value));
  for (const type of ["A", "AAAA"] as const) {
    const hidden = remove.filter((record) => record.type === type && isInternalAddress(record.value));
    if (hidden.length > 0) shown.push({ type, name: hidden[0]!.name, value: hidden.length === 1 ? "[an internal address, not shown]" : `[${hidden.length} internal addresses, not shown]` });
  }
  return shown;
}

/** A found line with its internal addresses replaced by a count of them, in words. */
function withoutInternal(line: FoundLine): FoundLine {
  return line.flatMap((part) => {
    if (typeof part === "string") return [part];
    const shown = part.addresses.filter((address) => !isInternalAddress(address));
    const hidden = part.addresses.length - shown.length;
    if (hidden === 0) return [part];
    const note = hidden === 1 ? "[an internal address, not shown]" : `[${hidden} internal addresses, not shown]`;
    return shown.length === 0 ? [note] : [{ addresses: shown }, `, ${note}`];
  });
}

/** The name `owner` is a CNAME of, in a reply. */
function cnameOf(reply: DnsReply, owner: string): string | undefined {
  for (const answer of reply.answers) if (answer.type === "CNAME" && answer.name === owner) return answer.target;
  return undefined;
}

/** Addresses of `type` in a reply, owned by `owner` (any owner when not given). */
function addressesIn(reply: DnsReply, type: "A" | "AAAA", owner?: string): string[] {
  const addresses: string[] = [];
  for (const record of reply.answers) {
    if (record.type === type && (owner === undefined || record.name === owner)) addresses.push(record.address);
  }
  return addresses;
}

/** Where a hostname's ownership challenge is published: a TXT record at this name. */
export function challengeName(hostname: string): string {
  return `_edgebot-challenge.${canonicalName(hostname)}`;
}

/** What DNS holds at a hostname's challenge name; "could not check" is never a refusal. */
export type ChallengeVerdict =
  | { status: "found"; hostname: string; recordName: string }
  | {
      status: "missing";
      hostname: string;
      recordName: string;
      /** The TXT texts there instead (none when the name does not exist or has none). */
      found: string[];
    }
  | { status: "could_not_check"; hostname: string; recordName: string; reason: string };

/** The settings a verifier is built from (DNS_SERVERS empty: the system's resolvers). */
export interface DnsVerifierConfig {
  dnsServers: string[];
  dnsTimeoutMs: number;
  dnsConcurrency: number;
  edgeCnameSuffix: string;
  edgeIpv4: string[];
  /** Whether `verifyInBulk` has a thread of its own (the default); the thread's verifier has none. */
  ownThread?: boolean;
  /** How long that thread waits for another batch before it ends (default a minute); the next batch starts another. */
  threadIdleMs?: number;
}

const defaultThreadIdleMs = 60_000;

/** The verifier edgebot runs with, from its configuration. */
export function createDnsVerifier(config: DnsVerifierConfig): DnsVerifier {
  const client = new DnsClient({ resolvers: resolversFrom(config.dnsServers), timeoutMs: config.dnsTimeoutMs, retries: 1 });
  const thread = config.ownThread === false ? undefined : new VerifierThread(config);
  return new DnsVerifier({ client, edgeCnameSuffix: config.edgeCnameSuffix, edgeIpv4: config.edgeIpv4, concurrency: config.dnsConcurrency, ...(thread ? { thread } : {}) });
}

/** A batch sent to a verifier's thread (verify-worker.ts), and its answer with the metrics counted for it. */
export interface VerifierThreadRequest {
  id: number;
  hostnames: string[];
}
export type VerifierThreadReply = { id: number; tally: DnsTally } & ({ verdicts: Verdict[] } | { error: string });

/**
 * A verifier on a thread of its own (verify-worker.ts), built from the same settings and started
 * at its first batch. From the sources (tsx, the tests) the thread loads its TypeScript through
 * tsx; from the build it loads `dns-worker.js` beside the bundles (scripts/build.mjs). A thread
 * that fails or exits fails the batches it held, and the next batch starts another. It keeps the
 * process alive only while it holds a batch, and ends once it has held none for `threadIdleMs`
 * (the daily sweep's pages follow each other within milliseconds; the next day's start it again).
 */
class VerifierThread {
  private running: RunningThread | undefined;
  private nextId = 0;
  private closed = false;

  constructor(private readonly config: DnsVerifierConfig) {}

  verifyAll(hostnames: string[]): Promise<Verdict[]> {
    if (this.closed) return Promise.reject(new Error("the DNS verifier was closed"));
    const running = (this.running ??= this.start());
    clearTimeout(running.idle);
    const { worker, waiting } = running;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, hostnames } satisfies VerifierThreadRequest);
    });
  }

  close(): void {
    this.closed = true;
    const running = this.running;
    this.running = undefined;
    if (running === undefined) return;
    failAll(running.waiting, new Error("the DNS verifier was closed"));
    clearTimeout(running.idle);
    void running.worker.terminate();
  }

  private start(): RunningThread {
    // The thread builds its verifier from these, without a thread of its own (verify-worker.ts).
    const workerData = this.config;
    // A thread's first module is loaded before any --import hook takes effect: from the sources, it registers tsx first.
    const worker = import.meta.url.endsWith(".ts")
      ? new Worker(`import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then(({ register }) => { register(); return import(${JSON.stringify(new URL("./verify-worker.ts", import.meta.url).href)}); });`, { eval: true, workerData })
      : new Worker(new URL("./dns-worker.js", import.meta.url), { workerData });
    const running: RunningThread = { worker, waiting: new Map() };
    worker.on("message", (reply: VerifierThreadReply) => {
      addDnsTally(reply.tally);
      const batch = running.waiting.get(reply.id);
      running.waiting.delete(reply.id);
      if (running.waiting.size === 0) {
        worker.unref();
        running.idle = setTimeout(() => this.endIdle(running), this.config.threadIdleMs ?? defaultThreadIdleMs).unref();
      }
      if ("verdicts" in reply) batch?.resolve(reply.verdicts);
      else batch?.reject(new Error(`the DNS verifier's thread failed: ${reply.error}`));
    });
    const ended = (error: Error) => {
      if (this.running === running) this.running = undefined;
      clearTimeout(running.idle);
      failAll(running.waiting, error);
    };
    worker.on("error", ended);
    worker.on("exit", (code) => ended(new Error(`the DNS verifier's thread exited (code ${code})`)));
    worker.unref();
    return running;
  }

  /** Ends a thread that has held no batch since its timer was set (a batch, `close` or the thread's end clears the timer). */
  private endIdle(running: RunningThread): void {
    this.running = undefined;
    void running.worker.terminate();
  }
}

/** A started thread, and its batches still waiting for their verdicts, by id. */
interface RunningThread {
  worker: Worker;
  waiting: Map<number, { resolve: (verdicts: Verdict[]) => void; reject: (error: Error) => void }>;
  /** Set while it holds no batch: ends the thread when it fires. */
  idle?: NodeJS.Timeout;
}

function failAll(waiting: RunningThread["waiting"], error: Error): void {
  for (const batch of waiting.values()) batch.reject(error);
  waiting.clear();
}
