import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { sql, type CompiledQuery } from "kysely";
import pg from "pg";
import { createApplication, listApplications, showApplication } from "../src/core/applications.ts";
import { listAuditEvents } from "../src/core/audit.ts";
import { addDomain, listDomains } from "../src/core/domains.ts";
import { createEnvironment, listEnvironments, showEnvironment } from "../src/core/environments.ts";
import { listMembers } from "../src/core/members.ts";
import { listOrgs, showOrg } from "../src/core/orgs.ts";
import { may } from "../src/core/permissions.ts";
import type { Platform } from "../src/core/platform.ts";
import { openDatabase } from "../src/db/connect.ts";
import type { Role } from "../src/db/schema.ts";
import { Repositories } from "../src/repos/repositories.ts";
import { fullSizes, seedCore, type SeededCounts } from "./core-seed.ts";
import { machineLine } from "./machine.ts";
import { measure, measureRoundTrip, Random, StatementCounter, type Measurement } from "./measure.ts";
import { markdownTable, type ResultRow } from "./report.ts";
import { unservedDns, type BenchContext, type BenchSection, type SectionResult } from "./section.ts";

/** A seeded membership: who can act in which org. */
interface SeededMember {
  userId: number;
  orgId: number;
  org: string;
  role: Role;
}

const environmentNames = ["production", "staging", "development"] as const;

/** Iterations at full scale; --quick runs a fifth of them. */
const iterations = { roundTrip: 2000, read: 1000, domainAdd: 1000, environmentCreate: 100, applicationCreate: 50 };

interface Target {
  text: string;
  met(measurement: Measurement): boolean;
}

const readTarget: Target = { text: "p99 ≤ 5 ms, ≤ 4 statements", met: (m) => m.p99 <= 5 && m.statements.max <= 4 };

export const coreSection: BenchSection = {
  id: "core",
  title: "Core",
  run: runCore,
};

async function runCore(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  progress(`seeding ${describeScale(context.scale)}…`);
  const seeded = await seedCore(context.databaseUrl, context.scale);
  progress(`seeded in ${seeded.seconds.toFixed(1)} s (${seeded.steps.map(([step, s]) => `${step} ${s.toFixed(1)} s`).join(", ")})`);

  const counter = new StatementCounter();
  const handle = await openDatabase({ databaseUrl: context.databaseUrl, onQuery: counter.onQuery, poolSize: 10 });
  const gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-bench-repos-"));
  const platform: Platform = { db: handle.db, repositories: new Repositories(gitRoot), dns: unservedDns() };
  const explainClient = context.explain ? new pg.Client({ connectionString: context.databaseUrl }) : undefined;
  await explainClient?.connect();
  try {
    const quick = context.scale < 1;
    const times = (n: number) => (quick ? Math.max(10, Math.round(n / 5)) : n);
    const random = new Random(20240601);

    const members = await handle.db
      .selectFrom("memberships as m")
      .innerJoin("orgs as o", "o.id", "m.org_id")
      .select(["m.user_id as userId", "m.org_id as orgId", "o.slug as org", "m.role"])
      .orderBy("m.org_id")
      .orderBy("m.user_id")
      .execute();
    const applications = await handle.db.selectFrom("applications").select(["org_id", "slug"]).orderBy("id").execute();
    const applicationsByOrg = new Map<number, string[]>();
    for (const app of applications) {
      const list = applicationsByOrg.get(app.org_id) ?? [];
      list.push(app.slug);
      applicationsByOrg.set(app.org_id, list);
    }
    const builders = members.filter((member) => may(member.role, "build"));
    const administrators = members.filter((member) => may(member.role, "administer"));
    const appOf = (member: SeededMember) => `${member.org}/${random.pick(applicationsByOrg.get(member.orgId)!)}`;
    const actor = (member: SeededMember) => ({ userId: member.userId });

    progress("measuring the round trip…");
    const roundTrip = await measureRoundTrip(handle.db, counter, times(iterations.roundTrip));

    const reads: Array<[string, (member: SeededMember) => Promise<unknown>]> = [
      ["org list", (m) => listOrgs(platform, { actor: actor(m) })],
      ["org show", (m) => showOrg(platform, { actor: actor(m), org: m.org })],
      ["member list", (m) => listMembers(platform, { actor: actor(m), org: m.org })],
      ["app list (one org)", (m) => listApplications(platform, { actor: actor(m), org: m.org })],
      ["app show", (m) => showApplication(platform, { actor: actor(m), app: appOf(m) })],
      ["env list", (m) => listEnvironments(platform, { actor: actor(m), app: appOf(m) })],
      ["env show", (m) => showEnvironment(platform, { actor: actor(m), app: appOf(m), env: random.pick(environmentNames) })],
      ["domain list", (m) => listDomains(platform, { actor: actor(m), app: appOf(m) })],
      ["audit", (m) => listAuditEvents(platform, { actor: actor(m), org: m.org })],
    ];
    const measured: Array<{ measurement: Measurement; target: Target }> = [];
    const explained: Array<{ command: string; plans: string[] }> = [];
    for (const [name, read] of reads) {
      progress(`measuring ${name}…`);
      const pool = name === "audit" ? administrators : members;
      const measurement = await measure(name, counter, { iterations: times(iterations.read), warmup: times(100) }, () => read(random.pick(pool)));
      measured.push({ measurement, target: readTarget });
      if (explainClient) explained.push({ command: name, plans: await explainAll(explainClient, measurement.lastQueries) });
    }

    // Seeded applications have no repository; the ones made here do, and env create branches them.
    const created: Array<{ ref: string; userId: number }> = [];
    let sequence = 0;
    progress("measuring app create…");
    const appCreate = await measure("app create", counter, { iterations: times(iterations.applicationCreate), warmup: 5 }, async () => {
      const member = random.pick(builders);
      const hostname = `bench-app-${++sequence}.client-${member.orgId}.test`;
      const app = await createApplication(platform, { actor: actor(member), hostname, org: member.org });
      created.push({ ref: app.ref, userId: member.userId });
    });
    measured.push({ measurement: appCreate, target: { text: "p50 ≤ 150 ms", met: (m) => m.p50 <= 150 } });

    progress("measuring env create…");
    const envCreate = await measure("env create", counter, { iterations: times(iterations.environmentCreate), warmup: 5 }, async () => {
      const app = random.pick(created);
      await createEnvironment(platform, { actor: { userId: app.userId }, app: app.ref, env: `bench-${++sequence}` });
    });
    measured.push({ measurement: envCreate, target: { text: "p50 ≤ 50 ms", met: (m) => m.p50 <= 50 } });

    // The floor of any audited write: a transaction of two one-row inserts, committed to disk.
    progress("measuring the committed-write baseline…");
    await sql`create table bench_write_probe (id integer generated always as identity primary key, note text not null)`.execute(handle.db);
    const committedWrite = await measure("committed write (BEGIN, 2 inserts, COMMIT)", counter, { iterations: times(iterations.domainAdd), warmup: 20 }, () =>
      handle.db.transaction().execute(async (tx) => {
        await sql`insert into bench_write_probe (note) values ('change')`.execute(tx);
        await sql`insert into bench_write_probe (note) values ('audit')`.execute(tx);
      }),
    );

    progress("measuring domain add…");
    const domainAdd = await measure("domain add", counter, { iterations: times(iterations.domainAdd), warmup: 20 }, async () => {
      const member = random.pick(builders);
      await addDomain(platform, {
        actor: actor(member),
        app: appOf(member),
        env: random.pick(environmentNames),
        hostname: `bench-domain-${++sequence}.client-${member.orgId}.test`,
      });
    });
    measured.push({ measurement: domainAdd, target: { text: "p99 ≤ 10 ms", met: (m) => m.p99 <= 10 } });
    if (explainClient) {
      explained.push({ command: "domain add", plans: await explainAll(explainClient, domainAdd.lastQueries) });
      printExplained(explained, progress);
    }

    progress("re-measuring the round trip…");
    const roundTripAfter = await measureRoundTrip(handle.db, counter, times(iterations.roundTrip));

    const rows: ResultRow[] = [
      {
        command: roundTrip.name,
        p50: roundTrip.p50,
        p99: roundTrip.p99,
        statements: statementsCell(roundTrip),
        ratio: 1,
        target: "baseline",
        met: undefined,
      },
      {
        command: committedWrite.name,
        p50: committedWrite.p50,
        p99: committedWrite.p99,
        statements: statementsCell(committedWrite),
        ratio: committedWrite.p50 / roundTrip.p50,
        target: "write baseline",
        met: undefined,
      },
      ...measured.map(({ measurement, target }) => ({
        command: measurement.name,
        p50: measurement.p50,
        p99: measurement.p99,
        statements: statementsCell(measurement),
        ratio: measurement.p50 / roundTrip.p50,
        target: target.text,
        met: target.met(measurement),
      })),
    ];
    const missed = measured
      .filter(({ measurement, target }) => !target.met(measurement))
      .map(({ measurement, target }) => `${measurement.name}: target ${target.text}, measured p50 ${measurement.p50.toFixed(2)} ms, p99 ${measurement.p99.toFixed(2)} ms, ${measurement.statements.max} statements`);
    const loggedMatchesWire = [roundTrip, ...measured.map(({ measurement }) => measurement)].every((m) => m.logged === m.statements.max);

    const loadAtEnd = loadavg()[0] ?? 0;
    const summary = [
      `1-minute load average: ${context.machine.loadAtStart.toFixed(2)} at the start, ${loadAtEnd.toFixed(2)} at the end (${context.machine.cores} cores)`,
      `seeded ${formatCounts(seeded.counts)} in ${seeded.seconds.toFixed(1)} s`,
      `round trip re-measured after the writes: p50 ${roundTripAfter.p50.toFixed(3)} ms, p99 ${roundTripAfter.p99.toFixed(3)} ms`,
    ];
    const markdown = coreMarkdown({
      context,
      seeded,
      rows,
      missed,
      roundTripAfter,
      loadAtEnd,
      loggedMatchesWire,
      iterationsUsed: { read: times(iterations.read), roundTrip: times(iterations.roundTrip), appCreate: appCreate.iterations, envCreate: envCreate.iterations, domainAdd: domainAdd.iterations },
      statementLists: measured.map(({ measurement }) => [measurement.name, describeStatements(measurement.lastQueries)] as const),
    });
    return { rows, summary, markdown, missed };
  } finally {
    await explainClient?.end();
    await handle.close();
    await rm(gitRoot, { recursive: true, force: true });
  }
}

function statementsCell(measurement: Measurement): string {
  const count = measurement.statements.min === measurement.statements.max ? `${measurement.statements.max}` : `${measurement.statements.min}–${measurement.statements.max}`;
  return measurement.transactions > 0 ? `${count} (${measurement.transactions} tx)` : count;
}

function describeScale(scale: number): string {
  return scale === 1 ? "full size" : `scale ${scale}`;
}

function formatCounts(counts: SeededCounts): string {
  return [
    `${counts.orgs.toLocaleString("en")} orgs`,
    `${counts.users.toLocaleString("en")} users`,
    `${counts.memberships.toLocaleString("en")} memberships`,
    `${counts.applications.toLocaleString("en")} applications`,
    `${counts.environments.toLocaleString("en")} environments`,
    `${counts.domains.toLocaleString("en")} domains`,
    `${counts.auditEvents.toLocaleString("en")} audit events`,
  ].join(", ");
}

/** "select orgs+memberships, begin, insert domains, …": what a call sent, in order. */
function describeStatements(queries: readonly CompiledQuery[]): string {
  return queries
    .map((query) => {
      const text = query.sql.trim();
      const verb = /^(\w+)/.exec(text)?.[1]?.toLowerCase() ?? "?";
      if (verb === "begin" || verb === "commit" || verb === "rollback") return verb.toUpperCase();
      const tables = [...new Set([...text.matchAll(/\b(?:from|into|update|join)\s+"(\w+)"/gi)].map((match) => match[1]!))];
      return `${verb} ${tables.join("+")}`;
    })
    .join(" → ");
}

async function explainAll(client: pg.Client, queries: readonly CompiledQuery[]): Promise<string[]> {
  const plans: string[] = [];
  for (const query of queries) {
    if (!/^\s*select\b/i.test(query.sql)) continue;
    const result = await client.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${query.sql}`, [...query.parameters]);
    plans.push(`${query.sql}\n  -- ${JSON.stringify(query.parameters)}\n${result.rows.map((row) => row["QUERY PLAN"]).join("\n")}`);
  }
  return plans;
}

function printExplained(explained: ReadonlyArray<{ command: string; plans: string[] }>, print: (line: string) => void): void {
  for (const { command, plans } of explained) {
    print(`\n=== EXPLAIN ${command} ===`);
    for (const plan of plans) print(`${plan}\n`);
  }
}

function coreMarkdown(input: {
  context: BenchContext;
  seeded: { counts: SeededCounts; seconds: number; steps: Array<[string, number]> };
  rows: ResultRow[];
  missed: string[];
  roundTripAfter: Measurement;
  loadAtEnd: number;
  loggedMatchesWire: boolean;
  iterationsUsed: { read: number; roundTrip: number; appCreate: number; envCreate: number; domainAdd: number };
  statementLists: ReadonlyArray<readonly [string, string]>;
}): string {
  const { context, seeded, rows, missed, roundTripAfter, iterationsUsed } = input;
  const machine = context.machine;
  const counts = seeded.counts;
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineLine(machine)}` +
      `. The 1-minute load average was ${machine.loadAtStart.toFixed(2)} at the start and ${input.loadAtEnd.toFixed(2)} at the end` +
      ` on ${machine.cores} cores: anything above ${machine.cores} means other work competed for the CPU, which shows first in the p99 column` +
      ` (compare the round trip's own p99).`,
    "",
    `Seeded (${describeScale(context.scale)}, set-based \`INSERT … SELECT generate_series\`, then \`VACUUM (ANALYZE)\` and \`CHECKPOINT\`) in **${seeded.seconds.toFixed(1)} s**:`,
    "",
    "| rows | target | seeded |",
    "|---|---:|---:|",
    `| orgs | ${fullSizes.orgs.toLocaleString("en")} | ${counts.orgs.toLocaleString("en")} |`,
    `| users | ${fullSizes.users.toLocaleString("en")} | ${counts.users.toLocaleString("en")} |`,
    `| memberships (1–3 orgs a user, every org has an owner) | — | ${counts.memberships.toLocaleString("en")} |`,
    `| applications (1–19 an org, 10 on average) | ${fullSizes.applications.toLocaleString("en")} | ${counts.applications.toLocaleString("en")} |`,
    `| environments (production, staging, development) | ${fullSizes.environments.toLocaleString("en")} | ${counts.environments.toLocaleString("en")} |`,
    `| domains (5 + 3 + 2 an application) | ${fullSizes.domains.toLocaleString("en")} | ${counts.domains.toLocaleString("en")} |`,
    `| audit events (one per app and branched environment) | — | ${counts.auditEvents.toLocaleString("en")} |`,
    "",
    `Each command calls its core function (\`src/core/*.ts\`) one call at a time, for a random seeded member` +
      ` (owners and admins for \`audit\`, builders for the writes) and a random application of their org:` +
      ` ${iterationsUsed.read} calls per read, ${iterationsUsed.appCreate} app creates, ${iterationsUsed.envCreate} env creates and` +
      ` ${iterationsUsed.domainAdd} domain adds, each after a warm-up. App create makes a real repository (git init, first commit);` +
      ` env create branches one of those repositories (the seeded applications have none).`,
    "",
    markdownTable(rows),
    "",
    `The round trip (\`select 1\` through the same Kysely instance, ${iterationsUsed.roundTrip} calls) measured again after the writes:` +
      ` p50 ${roundTripAfter.p50.toFixed(3)} ms, p99 ${roundTripAfter.p99.toFixed(3)} ms.`,
    "",
    missed.length === 0 ? "**Every target is met.**" : `**Targets missed:**\n\n${missed.map((line) => `- ${line}`).join("\n")}`,
    "",
    "**Statements** are counted on the wire (every query a `pg` client sends, BEGIN and COMMIT included) and cross-checked" +
      " with Kysely's `log` hook (`openDatabase({ onQuery })`, events of level `query` or `error`). " +
      (input.loggedMatchesWire
        ? "With Kysely 0.28 the two agree: its PostgresDriver sends BEGIN and COMMIT through the same logged connection, so they appear in the log too. `(1 tx)` marks calls that ran one transaction."
        : "The two counts differ for some commands: the wire count is the one shown. `(1 tx)` marks calls that ran one transaction.") +
      " What each call sent:",
    "",
    ...input.statementLists.map(([command, list]) => `- ${command}: ${list}`),
  ];
  return lines.join("\n");
}
