import path from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/db/connect.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { createBenchDatabase, defaultAdminUrl, serverVersion, type BenchDatabase } from "./bench-database.ts";
import { coreSection } from "./core.ts";
import { dnsSection } from "./dns.ts";
import { dnsSweepSection } from "./dns-sweep.ts";
import { gitSection } from "./git.ts";
import { gitHttpSection } from "./git-http.ts";
import { describeMachine, machineLine } from "./machine.ts";
import { textTable, writeDocumentSection } from "./report.ts";
import type { BenchSection } from "./section.ts";
import { outboxSection } from "./outbox.ts";
import { slackSection } from "./slack.ts";
import { startupSection } from "./startup.ts";

/** Every section `npm run bench` runs, in order; Slack, DNS and git join here. */
const sections: BenchSection[] = [coreSection, slackSection, outboxSection, dnsSection, dnsSweepSection, gitSection, gitHttpSection, startupSection];

const usage = `usage: npm run bench -- [--quick | --scale <0..1>] [--explain] [--section <id>] [--no-docs] [--docs]
  --quick         1/20 of the data and a fifth of the iterations; Slack runs of 5 s (same as BENCH_SCALE=0.05)
  --scale <n>     data scale, 1 = full size (default; also BENCH_SCALE)
  --explain       print EXPLAIN (ANALYZE, BUFFERS) of each read's statements
  --section <id>  run only this section (${sections.map((section) => section.id).join(", ")})
  --no-docs       do not write docs/BENCHMARKS.md (a full run writes it by default)
  --docs          write docs/BENCHMARKS.md even for a scaled-down run
DATABASE_URL is the admin connection (default ${defaultAdminUrl}); loopback only.`;

interface Options {
  scale: number;
  explain: boolean;
  only: string | undefined;
  writeDocs: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let scale = process.env.BENCH_SCALE === undefined || process.env.BENCH_SCALE === "" ? 1 : Number(process.env.BENCH_SCALE);
  let explain = false;
  let only: string | undefined;
  let docs: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") scale = 0.05;
    else if (arg === "--scale") scale = Number(argv[++i]);
    else if (arg.startsWith("--scale=")) scale = Number(arg.slice("--scale=".length));
    else if (arg === "--explain") explain = true;
    else if (arg === "--section") only = argv[++i];
    else if (arg === "--no-docs") docs = false;
    else if (arg === "--docs") docs = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(usage);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${usage}`);
  }
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) throw new Error(`the scale must be a number in (0, 1], not ${scale}`);
  if (only !== undefined && !sections.some((section) => section.id === only)) throw new Error(`no section ${only}\n${usage}`);
  return { scale, explain, only, writeDocs: docs ?? scale === 1 };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

// `npm run bench | head` closes stdout early; keep going so the database is still dropped.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const adminUrl = process.env.DATABASE_URL || defaultAdminUrl;
  const machine = await describeMachine(await serverVersion(adminUrl));
  progress(`machine: ${machineLine(machine)}`);

  let database: BenchDatabase | undefined;
  const dropOnInterrupt = () => {
    progress("interrupted: dropping the benchmark database…");
    void (database?.drop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", dropOnInterrupt);
  process.once("SIGTERM", dropOnInterrupt);
  try {
    database = await createBenchDatabase(adminUrl);
    progress(`created database ${database.name}`);
    const handle = await openDatabase({ databaseUrl: database.url, poolSize: 1 });
    try {
      await migrateToLatest(handle.db);
    } finally {
      await handle.close();
    }

    const documentFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "BENCHMARKS.md");
    let missedTargets = 0;
    for (const section of sections.filter((candidate) => options.only === undefined || candidate.id === options.only)) {
      progress(`\n# ${section.title}`);
      const result = await section.run({ databaseUrl: database.url, scale: options.scale, machine, explain: options.explain, progress });
      console.log(`\n${section.title}${options.scale === 1 ? "" : ` (scale ${options.scale})`}`);
      for (const line of result.summary) console.log(line);
      console.log(`\n${result.table ?? textTable(result.rows)}\n`);
      if (result.missed.length > 0) {
        console.log(`MISSED ${result.missed.length} target(s):\n${result.missed.map((line) => `  - ${line}`).join("\n")}\n`);
        missedTargets += result.missed.length;
      } else {
        console.log("every target met\n");
      }
      if (options.writeDocs) {
        await writeDocumentSection(documentFile, section.id, section.title, result.markdown);
        progress(`wrote the ${section.title} section of ${path.relative(process.cwd(), documentFile)}`);
      }
    }
    if (missedTargets > 0) progress(`${missedTargets} target(s) missed (reported above; not an error)`);
  } finally {
    process.removeListener("SIGINT", dropOnInterrupt);
    process.removeListener("SIGTERM", dropOnInterrupt);
    if (database) {
      await database.drop();
      progress(`dropped database ${database.name}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
