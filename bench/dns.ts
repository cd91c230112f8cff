import { fork, type ChildProcess } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { createApplication } from "../src/core/applications.ts";
import { addDomain } from "../src/core/domains.ts";
import { goLive } from "../src/core/golive.ts";
import { createOrg } from "../src/core/orgs.ts";
import type { Platform } from "../src/core/platform.ts";
import { registerUser } from "../src/core/users.ts";
import { openDatabase } from "../src/db/connect.ts";
import { createDnsVerifier, type DnsVerifier } from "../src/dns/verify.ts";
import { Repositories } from "../src/repos/repositories.ts";
import type { DnsServerReply, DnsServerRequest } from "./dns-server.ts";
import { machineLine } from "./machine.ts";
import { percentile } from "./measure.ts";
import type { BenchContext, BenchSection, SectionResult } from "./section.ts";

/** The zone the bench DNS server answers `site<N>` names of, the edge suffix its CNAMEs point into, and the verifier's settings (edgebot's defaults). */
export const zone = "bench-client.test";
export const edgeSuffix = "edge.bench.test";
const edgeAddress = "192.0.2.1";
export const concurrency = 200;
export const timeoutMs = 2000;
const targets = { hostnamesPerSecond: 2000, rssGrowthMb: 100, goLiveMs: 2000 };
/** The go-live: one environment's domains, of which some are not served (they fail, and their advice asks for the SOA). */
const goLiveShape = { domains: 100, failing: 10, runs: 40, quickRuns: 10, warmup: 3 };

export const dnsSection: BenchSection = {
  id: "dns",
  title: "DNS",
  run: runDns,
};

/** One timed pass over every hostname. */
interface Round {
  seconds: number;
  /** Hostnames that came out right: verdict "passes", or an A answer for the baseline. */
  succeeded: number;
  /** CPU time of the benchmark's process (user and system, every thread), in µs. */
  cpuMicroseconds: number;
  /** How many source ports the server saw the round's queries come from. */
  sourcePorts: number;
}

async function runDns(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  const count = context.scale < 1 ? 1000 : 10_000;
  const rounds = context.scale < 1 ? 2 : 9;
  const hostnames = Array.from({ length: count }, (_, index) => `site${index}.${zone}`);
  const server = new DnsServerProcess();
  let verifier: DnsVerifier | undefined;
  const verifierMemory = new PeakMemory();
  const memory = new PeakMemory();
  try {
    const port = await server.start();
    const address = `127.0.0.1:${port}`;
    progress(`DNS server on ${address} (child process); ${count} hostnames, concurrency ${concurrency}, ${rounds} rounds each`);

    // The verifier's own memory: from before it exists, over its warm-up and two passes, before the baseline runs at all.
    verifierMemory.start();
    memory.start();
    verifier = createDnsVerifier({ dnsServers: [address], dnsTimeoutMs: timeoutMs, dnsConcurrency: concurrency, edgeCnameSuffix: edgeSuffix, edgeIpv4: [] });
    const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    resolver.setServers([address]);
    const ours = verifier;
    const runVerifier = () => timed(server, async () => (await ours.verifyAll(hostnames)).filter((verdict) => verdict.status === "passes").length);
    const runBaseline = () => timed(server, () => resolveAll(resolver, hostnames));

    // Warm-up, full passes: a first pass runs before the JIT has optimised the code (the verifier's at a third of its speed).
    for (let pass = 0; pass < 3; pass++) await ours.verifyAll(hostnames);
    const verifierGrowthMb = verifierMemory.stop();
    await resolveAll(resolver, hostnames);
    const questionsBefore = (await server.count()).questions;

    const verifierRounds: Round[] = [];
    const baselineRounds: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so drift in the machine's load falls on both.
      const order = round % 2 === 0 ? (["verifier", "baseline"] as const) : (["baseline", "verifier"] as const);
      for (const which of order) {
        const result = which === "verifier" ? await runVerifier() : await runBaseline();
        (which === "verifier" ? verifierRounds : baselineRounds).push(result);
        progress(`round ${round + 1} ${which}: ${rate(result).toFixed(0)} hostnames/s, ${result.succeeded}/${count} right`);
      }
    }
    const rssGrowthMb = memory.stop();
    const questionsPerRound = ((await server.count()).questions - questionsBefore) / (rounds * 2);
    progress(`go-live of an environment with ${goLiveShape.domains} domains, through core's goLive…`);
    const goLive = await measureGoLive(context, address);
    progress(`go-live: median ${goLive.medianMs.toFixed(0)} ms, p99 ${goLive.p99Ms.toFixed(0)} ms over ${goLive.runs} runs`);
    return report(context, { count, rounds, verifierRounds, baselineRounds, verifierGrowthMb, rssGrowthMb, rssAtStartMb: memory.startMb, questionsPerRound, goLive });
  } finally {
    verifierMemory.stop();
    memory.stop();
    verifier?.close();
    await server.stop();
  }
}

/** Go-live timings: each run is one `goLive` call, from the question to the answer. */
interface GoLiveTimes {
  runs: number;
  medianMs: number;
  p99Ms: number;
  /** Domains passing and failing in the last run. */
  passing: number;
  failing: number;
}

/**
 * `golive` of one environment with 100 domains, end to end through core's `goLive` as the
 * command calls it: the DNS checks (a verifier as edgebot builds it, on the bench's DNS server),
 * then the transaction that stores each check, updates each domain and writes the results to
 * the outbox. 90 domains are `site<N>` names the server answers; 10 are names it does not
 * serve, which fail and have their SOA asked for their advice.
 */
async function measureGoLive(context: BenchContext, dnsAddress: string): Promise<GoLiveTimes> {
  const handle = await openDatabase({ databaseUrl: context.databaseUrl, poolSize: 10 });
  const gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-bench-golive-"));
  const dns = createDnsVerifier({ dnsServers: [dnsAddress], dnsTimeoutMs: timeoutMs, dnsConcurrency: concurrency, edgeCnameSuffix: edgeSuffix, edgeIpv4: [] });
  const platform: Platform = { db: handle.db, repositories: new Repositories(gitRoot), dns };
  try {
    const user = await registerUser(platform, { teamId: "T0BENCHDNS", chatUserId: "U0GOLIVE", email: "golive@bench.test", displayName: "Go-live bench" });
    const actor = { userId: user.id };
    await createOrg(platform, { actor, slug: "golive-bench" });
    const passing = goLiveShape.domains - goLiveShape.failing;
    const app = await createApplication(platform, { actor, hostname: `site0.${zone}`, org: "golive-bench", name: "golive" });
    const hostnames = [
      ...Array.from({ length: passing - 1 }, (_, index) => `site${index + 1}.${zone}`),
      ...Array.from({ length: goLiveShape.failing }, (_, index) => `gone${index}.${zone}`),
    ];
    for (const hostname of hostnames) await addDomain(platform, { actor, app: app.ref, env: "production", hostname });
    const runs = context.scale < 1 ? goLiveShape.quickRuns : goLiveShape.runs;
    const times: number[] = [];
    let last: Awaited<ReturnType<typeof goLive>> | undefined;
    for (let run = 0; run < goLiveShape.warmup + runs; run++) {
      const started = performance.now();
      last = await goLive(platform, { actor, app: app.ref, env: "production" });
      if (run >= goLiveShape.warmup) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const verdicts = last!.verdicts;
    return { runs, medianMs: median(times), p99Ms: percentile(times, 0.99), passing: verdicts.filter((v) => v.status === "passes").length, failing: verdicts.filter((v) => v.status === "fails").length };
  } finally {
    dns.close();
    await handle.close();
    await rm(gitRoot, { recursive: true, force: true });
  }
}

/** Runs one client's pass; the server's count of source ports starts before it and is read after the timing ends. */
async function timed(server: DnsServerProcess, work: () => Promise<number>): Promise<Round> {
  await server.count();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const succeeded = await work();
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, succeeded, cpuMicroseconds: used.user + used.system, sourcePorts: (await server.count()).sourcePorts };
}

/** The baseline: Node's resolver (c-ares) asks the same A question for each name, as many at once as the verifier. */
async function resolveAll(resolver: Resolver, hostnames: string[]): Promise<number> {
  let next = 0;
  let answered = 0;
  const worker = async () => {
    while (next < hostnames.length) {
      const name = hostnames[next++]!;
      const addresses = await resolver.resolve4(name).catch(() => []);
      if (addresses.length > 0) answered += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answered;
}

const rate = (round: Round) => round.succeeded / round.seconds;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const cpuPerHostname = (rounds: Round[], count: number) => median(rounds.map((round) => round.cpuMicroseconds / count)).toFixed(0);
const perSecond = (value: number) => Math.round(value).toLocaleString("en-US");
const portsPerRound = (rounds: Round[]) => perSecond(median(rounds.map((round) => round.sourcePorts)));

function report(
  context: BenchContext,
  input: { count: number; rounds: number; verifierRounds: Round[]; baselineRounds: Round[]; verifierGrowthMb: number; rssGrowthMb: number; rssAtStartMb: number; questionsPerRound: number; goLive: GoLiveTimes },
): SectionResult {
  const { count, rounds, verifierRounds, baselineRounds, verifierGrowthMb, rssGrowthMb, goLive } = input;
  const goLiveMet = goLive.p99Ms <= targets.goLiveMs && goLive.passing + goLive.failing === goLiveShape.domains && goLive.failing === goLiveShape.failing;
  const ours = median(verifierRounds.map(rate));
  const theirs = median(baselineRounds.map(rate));
  // Each round's two runs ran back to back, under the same load from the rest of the machine.
  const ratio = median(verifierRounds.map((round, index) => rate(round) / rate(baselineRounds[index]!)));
  const wrong = [...verifierRounds, ...baselineRounds].some((round) => round.succeeded !== count);

  const missed: string[] = [];
  if (!(ours >= targets.hostnamesPerSecond)) missed.push(`at least ${perSecond(targets.hostnamesPerSecond)} hostnames/s: measured ${perSecond(ours)}`);
  if (!(ratio >= 1)) missed.push(`at least the baseline's throughput: ${ratio.toFixed(2)}× (median of the rounds' ratios; medians ${perSecond(ours)} against ${perSecond(theirs)} hostnames/s)`);
  if (!(verifierGrowthMb < targets.rssGrowthMb)) missed.push(`resident memory growth under ${targets.rssGrowthMb} MB: the verifier's was ${verifierGrowthMb.toFixed(1)} MB`);
  if (wrong) missed.push(`every hostname right in every round: some were not (see the rounds)`);
  if (!goLiveMet) missed.push(`go-live of ${goLiveShape.domains} domains within ${targets.goLiveMs / 1000} s: p99 ${goLive.p99Ms.toFixed(0)} ms (median ${goLive.medianMs.toFixed(0)} ms), ${goLive.passing} passing and ${goLive.failing} failing`);

  const roundsCell = (list: Round[]) => list.map((round) => perSecond(rate(round))).join(", ");
  const table = [
    "| client | hostnames/s (median) | each round | client CPU µs per hostname (median) | source ports a round (median) | right in every round |",
    "|---|---:|---|---:|---:|---|",
    `| edgebot's verifier (\`DnsVerifier.verifyAll\`) | ${perSecond(ours)} | ${roundsCell(verifierRounds)} | ${cpuPerHostname(verifierRounds, count)} | ${portsPerRound(verifierRounds)} | ${verifierRounds.every((round) => round.succeeded === count) ? "yes" : "**NO**"} |`,
    `| Node's \`dns.promises.Resolver\` (\`resolve4\`) | ${perSecond(theirs)} | ${roundsCell(baselineRounds)} | ${cpuPerHostname(baselineRounds, count)} | ${portsPerRound(baselineRounds)} | ${baselineRounds.every((round) => round.succeeded === count) ? "yes" : "**NO**"} |`,
    `| verifier / baseline | ${ratio.toFixed(2)}× (median of the rounds' ratios) | ${verifierRounds.map((round, index) => `${(rate(round) / rate(baselineRounds[index]!)).toFixed(2)}×`).join(", ")} | | | |`,
  ];
  const targetTable = [
    "| target | measured | met |",
    "|---|---:|---|",
    `| ≥ ${perSecond(targets.hostnamesPerSecond)} hostnames/s | ${perSecond(ours)} | ${ours >= targets.hostnamesPerSecond ? "yes" : "**NO**"} |`,
    `| ≥ the baseline's throughput | ${ratio.toFixed(2)}× | ${ratio >= 1 ? "yes" : "**NO**"} |`,
    `| RSS growth < ${targets.rssGrowthMb} MB (the verifier's) | ${verifierGrowthMb.toFixed(1)} MB | ${verifierGrowthMb < targets.rssGrowthMb ? "yes" : "**NO**"} |`,
    `| go-live of ${goLiveShape.domains} domains answers within ${targets.goLiveMs / 1000} s (core \`goLive\`, p99 of ${goLive.runs} runs) | median ${goLive.medianMs.toFixed(0)} ms, p99 ${goLive.p99Ms.toFixed(0)} ms | ${goLiveMet ? "yes" : "**NO**"} |`,
  ];
  const loadAtEnd = loadavg()[0] ?? 0;
  const machine = context.machine;
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineLine(machine)}. The 1-minute load average was ${machine.loadAtStart.toFixed(2)} at the start and ${loadAtEnd.toFixed(2)} at the end on ${machine.cores} cores.`,
    "",
    `${perSecond(count)} hostnames (\`site<N>.${zone}\`), each checked against a UDP DNS server on 127.0.0.1 running in a child process (\`bench/dns-server.ts\`), which answers like a recursive resolver: the CNAME to \`site<N>.${zone}.${edgeSuffix}\` and that name's A record. Both clients run in the benchmark's process, ${concurrency} hostnames at a time, with a ${timeoutMs} ms timeout. **edgebot's verifier** is \`createDnsVerifier\` as edgebot builds it (every query from a UDP socket on a source port drawn at random and connected to the resolver, carrying no other query meanwhile and at most 16 in all, with a random id; queries written and replies read in place by \`src/dns/wire.ts\`, replies matched by id and question, one expiry timer for every try in flight): every hostname gets its full verdict. **The baseline** is Node's \`dns.promises.Resolver\` (c-ares) with \`setServers\` on the same server, asking the same question (\`resolve4\`: A) for the same names. The server answered ${input.questionsPerRound.toFixed(0)} questions per round on average: one per hostname for both. After a warm-up (three passes for the verifier, one for the baseline), ${rounds} rounds alternate which client goes first; each client's figure is its median round, and the ratio is the median of the rounds' own ratios (a round's two runs are back to back, so drift in the machine's load cancels).`,
    "",
    "The server reads and writes the DNS wire format itself on a plain UDP socket, with a 4 MB receive buffer: the question copied into the answer, then the two records, with compression pointers. It used to be dns2's server, which decodes every query with dns2's bit-array reader; at about 19,500 answers/s it then set the pace, and both clients measured the same number whatever their own cost. It shares the 2 cores with both clients, so the figures are what each client and the server manage together, and the ratio compares clients that wait on the same server. **Client CPU** is the benchmark process's CPU time during a round divided by the hostnames: the client that spends more CPU a hostname leaves less to the server, and its rounds slow down first. **Source ports** are the distinct ports the server saw a round's queries come from: a spoofer off the path must guess the port of the query it answers, as well as its 16-bit id.",
    "",
    ...table,
    "",
    `**Go-live of ${goLiveShape.domains} domains**: one environment with ${goLiveShape.domains} domains checked for go-live end to end through core's \`goLive\` as \`golive\` calls it, on the same DNS server and database: the verifier as edgebot builds it checks every domain (${concurrency} at a time), then one transaction stores each check, updates each domain and writes the results to the outbox. ${goLiveShape.domains - goLiveShape.failing} domains are \`site<N>\` names the server answers; ${goLiveShape.failing} are names it does not serve, which fail, so their advice asks for their SOA (a passing check never does). After ${goLiveShape.warmup} warm-up runs, ${goLive.runs} runs one after another: median ${goLive.medianMs.toFixed(0)} ms, p99 ${goLive.p99Ms.toFixed(0)} ms (the last run: ${goLive.passing} passing, ${goLive.failing} failing).`,
    "",
    `**Resident memory** of the benchmark process, sampled every 50 ms, was ${input.rssAtStartMb.toFixed(0)} MB before the clients were made. Over the verifier's warm-up, before the baseline ran at all (three passes of ${perSecond(count)} hostnames), it grew by at most ${verifierGrowthMb.toFixed(1)} MB: the verifier's growth. With both clients, through the baseline's warm-up and every round, it grew by at most ${rssGrowthMb.toFixed(1)} MB in all.`,
    "",
    "**Targets**",
    "",
    ...targetTable,
    "",
    missed.length === 0 ? "**Every target is met.**" : `**Missed ${missed.length} target(s):**\n\n${missed.map((line) => `- ${line}`).join("\n")}`,
  ].join("\n");
  const summary = [
    `1-minute load average: ${machine.loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end (${machine.cores} cores)`,
    `${count} hostnames, concurrency ${concurrency}, ${rounds} rounds each; ${input.questionsPerRound.toFixed(0)} questions per round`,
    `RSS ${input.rssAtStartMb.toFixed(0)} MB before the clients; the verifier's warm-up grew it by ${verifierGrowthMb.toFixed(1)} MB, both clients over the whole run by ${rssGrowthMb.toFixed(1)} MB`,
    `go-live of ${goLiveShape.domains} domains (${goLiveShape.failing} failing): median ${goLive.medianMs.toFixed(0)} ms, p99 ${goLive.p99Ms.toFixed(0)} ms over ${goLive.runs} runs`,
  ];
  return { rows: [], table: [...table, "", ...targetTable].map((line) => line.replace(/\*\*|`/g, "")).join("\n"), summary, markdown, missed };
}

/** The highest resident memory seen since `start`, above what it was then. */
class PeakMemory {
  startMb = 0;
  private peakMb = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.startMb = process.memoryUsage().rss / 2 ** 20;
    this.peakMb = this.startMb;
    this.timer = setInterval(() => this.sample(), 50);
  }

  /** Stops sampling; the growth in MB. */
  stop(): number {
    if (this.timer) {
      this.sample();
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return this.peakMb - this.startMb;
  }

  private sample(): void {
    this.peakMb = Math.max(this.peakMb, process.memoryUsage().rss / 2 ** 20);
  }
}

/** The child process running the DNS server (bench/dns-server.ts). */
export class DnsServerProcess {
  private child: ChildProcess | undefined;
  private waiting: ((reply: DnsServerReply) => void) | undefined;

  async start(): Promise<number> {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), "dns-server.ts");
    this.child = fork(file, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (reply: DnsServerReply) => this.waiting?.(reply));
    const reply = await this.ask({ type: "start", zone, edgeSuffix, edgeAddress });
    if (reply.type !== "ready") throw new Error(`the DNS server did not start: ${reply.type === "failed" ? reply.message : reply.type}`);
    return reply.port;
  }

  /** Questions answered since the start, and source ports seen since the last count. */
  async count(): Promise<{ questions: number; sourcePorts: number }> {
    const reply = await this.ask({ type: "count" });
    return reply.type === "count" ? reply : { questions: Number.NaN, sourcePorts: Number.NaN };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.connected) child.send({ type: "stop" } satisfies DnsServerRequest);
    const timer = setTimeout(() => child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private ask(request: DnsServerRequest): Promise<DnsServerReply> {
    return new Promise((resolve, reject) => {
      const child = this.child!;
      const onExit = (code: number | null) => reject(new Error(`the DNS server exited (${code})`));
      child.once("exit", onExit);
      this.waiting = (reply) => {
        child.removeListener("exit", onExit);
        resolve(reply);
      };
      child.send(request);
    });
  }
}
