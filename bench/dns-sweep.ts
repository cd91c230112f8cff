import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "kysely";
import pg from "pg";
import pino from "pino";
import type { Platform } from "../src/core/platform.ts";
import { openDatabase } from "../src/db/connect.ts";
import { createDnsVerifier } from "../src/dns/verify.ts";
import { startJobQueue, sweepQueueName } from "../src/jobs/queue.ts";
import { Repositories } from "../src/repos/repositories.ts";
import { concurrency, DnsServerProcess, edgeSuffix, timeoutMs, zone } from "./dns.ts";
import { machineLine } from "./machine.ts";
import type { BenchContext, BenchSection, SectionResult } from "./section.ts";

/** At scale 1: the live environments and their domains (production 5, staging 3, development 2 per application). */
const fullSize = { applications: 100_000, environments: 300_000, domains: 1_000_000 } as const;
/** One environment in this many has a domain the DNS server does not serve: it fails, and the environment regresses. */
const regressingOneIn = 1000;
const target = { ratio: 2 };

export const dnsSweepSection: BenchSection = {
  id: "dns-sweep",
  title: "Daily DNS re-check sweep",
  run: runDnsSweep,
};

interface Seeded {
  environments: number;
  domains: number;
  /** Environments with a domain that fails. */
  regressing: number;
  seconds: number;
}

/**
 * Every environment live, every domain passing, as the day before: orgs each with an owner,
 * applications spread over them, each with its channel, three environments each. Hostnames are `site<domain id>` in the
 * bench DNS server's zone, so it answers them; one environment in `regressingOneIn` has a
 * `gone<domain id>` name instead, which it does not serve. Set-based, as the core bench seeds.
 */
async function seedLiveEnvironments(databaseUrl: string, scale: number): Promise<Seeded> {
  const applications = Math.max(10, Math.round(fullSize.applications * scale));
  const orgs = Math.max(1, Math.round(applications / 10));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    await client.query("set synchronous_commit = off");
    await client.query("set maintenance_work_mem = '512MB'");
    await client.query(
      `insert into users (id, email, display_name) overriding system value
       select u, format('owner-%s@sweep.bench.test', u), format('Owner %s', u) from generate_series(1, $1::int) u`,
      [orgs],
    );
    await client.query(
      `insert into orgs (id, slug, name, created_by) overriding system value
       select o, 'sweep-' || o, format('Sweep %s', o), o from generate_series(1, $1::int) o`,
      [orgs],
    );
    await client.query(`insert into memberships (org_id, user_id, role) select o, o, 'owner' from generate_series(1, $1::int) o`, [orgs]);
    await client.query(
      `insert into applications (id, org_id, slug, origin, channel_id, created_by) overriding system value
       select a, 1 + (a - 1) % $2::int, 'app-' || a, format('origin-%s.sweep.bench.test', a), 'C0SWEEP', 1 + (a - 1) % $2::int
       from generate_series(1, $1::int) a`,
      [applications, orgs],
    );
    await client.query(
      `insert into environments (id, application_id, name, based_on, live_at, created_by) overriding system value
       select 3 * (a.id - 1) + e, a.id, (array['production','staging','development'])[e],
              case when e = 1 then null else 'production' end, now() - interval '1 day', a.created_by
       from applications a cross join generate_series(1, 3) e`,
    );
    await client.query(
      `insert into domains (id, environment_id, hostname, dns_status, created_by) overriding system value
       select 10 * (e.application_id - 1) + (array[0, 5, 8])[p] + k, e.id,
              format(case when e.id % $2::int = 0 and k = 1 then 'gone%s.%s' else 'site%s.%s' end,
                     10 * (e.application_id - 1) + (array[0, 5, 8])[p] + k, $1::text),
              'passing', e.created_by
       from environments e
       cross join lateral (select 1 + (e.id - 1) % 3 as p) position
       cross join lateral generate_series(1, (array[5, 3, 2])[p]) k`,
      [zone, regressingOneIn],
    );
    for (const table of ["users", "orgs", "applications", "environments", "domains"]) {
      await client.query(`select setval(pg_get_serial_sequence('${table}', 'id'), (select coalesce(max(id), 0) + 1 from ${table}), false)`);
    }
    await client.query("vacuum (analyze)");
    await client.query("checkpoint");
    const { rows } = await client.query<{ environments: string; domains: string; regressing: string }>(
      `select (select count(*) from environments where live_at is not null) as environments, (select count(*) from domains) as domains,
              (select count(distinct environment_id) from domains where hostname like 'gone%') as regressing`,
    );
    const row = rows[0]!;
    return { environments: Number(row.environments), domains: Number(row.domains), regressing: Number(row.regressing), seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

async function runDnsSweep(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  const loadAtStart = loadavg()[0] ?? 0;
  progress("seeding live environments and their domains…");
  const seeded = await seedLiveEnvironments(context.databaseUrl, context.scale);
  progress(`seeded ${seeded.environments} live environments, ${seeded.domains} domains (${seeded.regressing} environments regress) in ${seeded.seconds.toFixed(1)} s`);

  const server = new DnsServerProcess();
  const handle = await openDatabase({ databaseUrl: context.databaseUrl, poolSize: 10 });
  const gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-bench-sweep-"));
  let dns: ReturnType<typeof createDnsVerifier> | undefined;
  try {
    const address = `127.0.0.1:${await server.start()}`;
    // The verifier as edgebot builds it, with its default DNS_CONCURRENCY: the DNS-only pass and the sweep share it.
    dns = createDnsVerifier({ dnsServers: [address], dnsTimeoutMs: timeoutMs, dnsConcurrency: concurrency, edgeCnameSuffix: edgeSuffix, edgeIpv4: [] });
    const platform: Platform = { db: handle.db, repositories: new Repositories(gitRoot), dns };

    // (a) DNS only: the same hostnames, read in one query, through the same verifier.
    const hostnames = (await handle.db.selectFrom("domains").select("hostname").orderBy("id").execute()).map((row) => row.hostname);
    await dns.verifyAll(hostnames.slice(0, 20_000));
    progress(`DNS only: ${hostnames.length} hostnames, ${concurrency} at a time…`);
    const dnsStarted = performance.now();
    const verdicts = await dns.verifyAll(hostnames);
    const dnsSeconds = (performance.now() - dnsStarted) / 1000;
    const passing = verdicts.filter((verdict) => verdict.status === "passes").length;
    progress(`DNS only: ${dnsSeconds.toFixed(1)} s (${Math.round(hostnames.length / dnsSeconds)} hostnames/s), ${passing} passing`);

    // (b) The sweep as production runs it: the scheduled job fires on the job queue, which does the rest.
    const queue = await startJobQueue({ platform, logger: pino({ level: process.env.BENCH_SWEEP_LOG ? "info" : "silent" }, pino.destination(process.env.BENCH_SWEEP_LOG ?? 2)) });
    try {
      const checksBefore = await countChecks(handle.db);
      progress("sweep: the scheduled job fires…");
      const sweepStarted = performance.now();
      await queue.runNow("dns-daily-recheck");
      await untilSwept(handle.db);
      const sweepSeconds = (performance.now() - sweepStarted) / 1000;
      const checks = (await countChecks(handle.db)) - checksBefore;
      const { rows } = await sql<{ regressed: string; announced: string }>`select
        (select count(*) from environments where live_at is null) as regressed,
        (select count(*) from outbox where kind = 'env.regressed') as announced`.execute(handle.db);
      const regressed = Number(rows[0]!.regressed);
      const announced = Number(rows[0]!.announced);
      progress(`sweep: ${sweepSeconds.toFixed(1)} s, ${checks} checks stored, ${regressed} regressed, ${announced} regression announcements`);
      return report(context, { seeded, loadAtStart, dnsSeconds, sweepSeconds, checks, regressed, announced, passing, hostnames: hostnames.length });
    } finally {
      await queue.stop();
    }
  } finally {
    dns?.close();
    await server.stop();
    await handle.close();
    await rm(gitRoot, { recursive: true, force: true });
  }
}

async function countChecks(db: Platform["db"]): Promise<number> {
  // Domains, not checks: a regression's own re-checks fall due while a long sweep still runs.
  const { rows } = await sql<{ count: string }>`select count(distinct domain_id) from dns_checks where trigger = 'recheck'`.execute(db);
  return Number(rows[0]!.count);
}

/**
 * Until the scheduled job and every page it queued have ended. The re-checks a regression
 * schedules (a minute later, then with backoff) are not the sweep's: they ask DNS again of the
 * regressed environments' hostnames, and on a sweep longer than a minute they fall due while
 * it still runs, and run beside it on the re-check queue.
 */
async function untilSwept(db: Platform["db"]): Promise<void> {
  const queues = ["dns-daily-recheck", sweepQueueName];
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { rows } = await sql<{ waiting: string }>`select count(*) as waiting from pgboss.job
      where name = any(${queues}) and state in ('created', 'retry', 'active') and start_after <= now()`.execute(db);
    if (Number(rows[0]!.waiting) === 0) return;
  }
}

function report(
  context: BenchContext,
  input: { seeded: Seeded; loadAtStart: number; dnsSeconds: number; sweepSeconds: number; checks: number; regressed: number; announced: number; passing: number; hostnames: number },
): SectionResult {
  const { seeded, dnsSeconds, sweepSeconds } = input;
  const ratio = sweepSeconds / dnsSeconds;
  const complete = input.checks === seeded.domains && input.regressed === seeded.regressing && input.announced === seeded.regressing;
  const missed: string[] = [];
  if (!(ratio <= target.ratio)) missed.push(`sweep end to end within ${target.ratio}× the DNS-only time: ${ratio.toFixed(2)}× (${sweepSeconds.toFixed(1)} s against ${dnsSeconds.toFixed(1)} s)`);
  if (!complete) missed.push(`every domain checked and every regression announced once: ${input.checks} domains checked of ${seeded.domains} domains, ${input.regressed} regressed and ${input.announced} announced of ${seeded.regressing}`);
  const loadAtEnd = loadavg()[0] ?? 0;
  const count = (value: number) => value.toLocaleString("en-US");
  const table = [
    "| pass | seconds | hostnames/s |",
    "|---|---:|---:|",
    `| DNS only: \`verifyAll\` over every hostname, ${concurrency} at a time | ${dnsSeconds.toFixed(1)} | ${count(Math.round(input.hostnames / dnsSeconds))} |`,
    `| the sweep, from the scheduled job firing to its last page done | ${sweepSeconds.toFixed(1)} | ${count(Math.round(input.hostnames / sweepSeconds))} |`,
  ];
  const targetTable = [
    "| target | measured | met |",
    "|---|---:|---|",
    `| sweep ≤ ${target.ratio}× the DNS-only time | ${ratio.toFixed(2)}× | ${ratio <= target.ratio ? "yes" : "**NO**"} |`,
    `| every domain checked once, every regression announced once | ${count(input.checks)} domains checked, ${count(input.announced)} announced | ${complete ? "yes" : "**NO**"} |`,
  ];
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineLine(context.machine)}. The 1-minute load average was ${input.loadAtStart.toFixed(2)} at the start and ${loadAtEnd.toFixed(2)} at the end on ${context.machine.cores} cores.`,
    "",
    `${count(seeded.environments)} live environments with ${count(seeded.domains)} domains, seeded set-based in ${seeded.seconds.toFixed(0)} s; every domain passed its last check. The hostnames are \`site<N>.${zone}\` names the bench DNS server (\`bench/dns-server.ts\`, a child process on 127.0.0.1) answers with the CNAME to the edge, except one domain in each of ${count(seeded.regressing)} environments (one in ${regressingOneIn}), a name it does not serve: that domain fails and its environment regresses. **DNS only** is edgebot's verifier (\`createDnsVerifier\` with the default \`DNS_CONCURRENCY\` of ${concurrency}) over every hostname in one \`verifyAll\` on the main thread, after a warm-up of 20,000. **The sweep** is the scheduled job \`dns-daily-recheck\` fired on the job queue (pg-boss on the same database, polling every 2 s as in production) and timed until the last page it queued has ended (the regressions' own re-checks, due a minute later, are not the sweep's), with the same verifier, which asks each page's DNS on its own thread (\`verifyInBulk\`): it checked ${count(input.checks)} domains; ${count(input.regressed)} environments regressed, each announced once.`,
    "",
    ...table,
    "",
    "**Targets**",
    "",
    ...targetTable,
    "",
    missed.length === 0 ? "**Every target is met.**" : `**Missed ${missed.length} target(s):**\n\n${missed.map((line) => `- ${line}`).join("\n")}`,
  ].join("\n");
  const summary = [
    `1-minute load average: ${input.loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end (${context.machine.cores} cores)`,
    `${seeded.environments} live environments, ${seeded.domains} domains (${seeded.regressing} regress), seeded in ${seeded.seconds.toFixed(1)} s`,
    `DNS only ${dnsSeconds.toFixed(1)} s, sweep ${sweepSeconds.toFixed(1)} s: ${ratio.toFixed(2)}×`,
  ];
  return { rows: [], table: [...table, "", ...targetTable].map((line) => line.replace(/\*\*|`/g, "")).join("\n"), summary, markdown, missed };
}
