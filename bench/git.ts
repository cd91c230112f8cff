import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { createApplication } from "../src/core/applications.ts";
import { diffEnvironments, editConfigFile, environmentLog, promoteEnvironment, startConfigEdit } from "../src/core/configs.ts";
import { createEnvironment } from "../src/core/environments.ts";
import { createOrg } from "../src/core/orgs.ts";
import type { Actor, Platform } from "../src/core/platform.ts";
import { registerUser } from "../src/core/users.ts";
import { openDatabase } from "../src/db/connect.ts";
import { Repositories } from "../src/repos/repositories.ts";
import { machineLine } from "./machine.ts";
import { measure, percentile, StatementCounter, type Measurement } from "./measure.ts";
import { markdownTable, type ResultRow } from "./report.ts";
import { unservedDns, type BenchContext, type BenchSection, type SectionResult } from "./section.ts";

const run = promisify(execFile);

/** Commits in every branch's history at full scale. */
const historyCommits = 1000;
/** Files in the tree besides the two every application starts with. */
const ruleFiles = 40;
/** Measured calls per command at full scale; --quick runs a fifth. */
const iterations = 100;
const targetMs = 100;

export const gitSection: BenchSection = {
  id: "git",
  title: "Git",
  run: runGit,
};

async function runGit(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  const quick = context.scale < 1;
  const times = quick ? Math.max(10, Math.round(iterations / 5)) : iterations;
  const counter = new StatementCounter();
  const handle = await openDatabase({ databaseUrl: context.databaseUrl, onQuery: counter.onQuery, poolSize: 4 });
  const gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-bench-git-"));
  const platform: Platform = { db: handle.db, repositories: new Repositories(gitRoot), dns: unservedDns() };
  try {
    const owner = await registerUser(platform, { teamId: "TBENCHGIT", chatUserId: "UBENCHGIT", email: "git-bench@example.com", displayName: "Git Bench" });
    const actor: Actor = { userId: owner.id };
    const org = `gitbench${Date.now().toString(36)}`;
    await createOrg(platform, { actor, slug: org });
    const { ref } = await createApplication(platform, { actor, hostname: `www.${org}.example`, org, name: "www" });
    const id = (await handle.db.selectFrom("applications").select("id").where("slug", "=", "www").orderBy("id", "desc").executeTakeFirstOrThrow()).id;
    const repository = platform.repositories.pathOf(id);

    const started = performance.now();
    await importHistory(repository, historyCommits);
    for (const env of ["staging", "qa", "hotfix"]) await createEnvironment(platform, { actor, app: ref, env });
    // As edgebot's maintenance job leaves a repository (git gc with the commit-graph); the edits
    // and merges measured below then pile up after it, as they would between two runs.
    await platform.repositories.maintain(id);
    const commits = Number((await git(repository, ["rev-list", "--count", "refs/heads/production"])).trim());
    progress(`history: ${commits} commits on production, branched to staging, qa and hotfix, in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // What the measured calls start from: staging a few edits ahead of production.
    for (let i = 0; i < 5; i++) await edit(platform, actor, ref, "staging", `varnish/rules-${i}.vcl`, `# staging rule ${i}\n`);

    const measured: Array<{ measurement: Measurement; note: string }> = [];
    const warmup = 3;
    measured.push({
      note: "one git process that lists a branch's files (`Repositories.files`, `git ls-tree`): the floor each git step of the rows below stands on",
      measurement: await measure("one git process (ls-tree)", counter, { iterations: times, warmup }, () => platform.repositories.files(id, "staging")),
    });
    measured.push({
      note: "a branch head read from the ref files, no process (`Repositories.head`)",
      measurement: await measure("branch head (ref files)", counter, { iterations: times, warmup }, () => platform.repositories.head(id, "staging")),
    });
    measured.push({
      note: "staging against production, 5 commits ahead",
      measurement: await measure("env diff (core diffEnvironments)", counter, { iterations: times, warmup }, () => diffEnvironments(platform, { actor, app: ref, from: "staging", to: "production" })),
    });
    measured.push({
      note: "open: permission, head and the file",
      measurement: await measure("config edit: open (core startConfigEdit)", counter, { iterations: times, warmup }, () => startConfigEdit(platform, { actor, app: ref, env: "staging", path: "section.config.json" })),
    });
    let edits = 0;
    // Each edit starts from the head the previous one made, as the editor's modal would carry it.
    let base = await platform.repositories.head(id, "staging");
    measured.push({
      note: "submit: validate the schema, commit without a work tree, compare-and-swap the branch, audit and announce",
      measurement: await measure("config edit: commit (core editConfigFile)", counter, { iterations: times, warmup }, async () => {
        edits += 1;
        base = (await editConfigFile(platform, { actor, app: ref, env: "staging", path: "section.config.json", content: sectionConfig(`origin-${edits}.example.com`), base })).commit;
      }),
    });
    let promotions = 0;
    measured.push({
      note: "staging into qa; a new staging edit before each call (not timed)",
      measurement: await measureWithSetup("env promote: fast-forward (core promoteEnvironment)", counter, times, warmup, async () => {
        promotions += 1;
        await edit(platform, actor, ref, "staging", "varnish/default.vcl", `vcl 4.1;\n# staging ${promotions}\nbackend default none;\n`);
      }, () => promoteEnvironment(platform, { actor, app: ref, from: "staging", to: "qa" })),
    });
    measured.push({
      note: "staging into hotfix, both changed (different files) before each call (not timed): git merge-tree",
      measurement: await measureWithSetup("env promote: merge commit (core promoteEnvironment)", counter, times, warmup, async () => {
        promotions += 1;
        await edit(platform, actor, ref, "staging", "varnish/default.vcl", `vcl 4.1;\n# staging ${promotions}\nbackend default none;\n`);
        await edit(platform, actor, ref, "hotfix", `varnish/hotfix-${promotions % 7}.vcl`, `# hotfix ${promotions}\n`);
      }, () => promoteEnvironment(platform, { actor, app: ref, from: "staging", to: "hotfix" })),
    });
    measured.push({
      note: "newest 10 of staging's history",
      measurement: await measure("env log --limit 10 (core environmentLog)", counter, { iterations: times, warmup }, () => environmentLog(platform, { actor, app: ref, env: "staging", limit: 10 })),
    });

    return report(context, { measured, commits, times });
  } finally {
    await handle.close();
    await rm(gitRoot, { recursive: true, force: true });
  }
}

/** Like `measure`, with an untimed setup step before each call (a new edit to promote). */
async function measureWithSetup(name: string, counter: StatementCounter, times: number, warmup: number, setup: () => Promise<void>, call: () => Promise<unknown>): Promise<Measurement> {
  const durations: number[] = [];
  let statements = { min: Number.POSITIVE_INFINITY, max: 0 };
  let transactions = 0;
  for (let i = -warmup; i < times; i++) {
    await setup();
    const counted = await counter.count(async () => {
      const start = performance.now();
      await call();
      return performance.now() - start;
    });
    if (i < 0) continue;
    durations.push(counted.result);
    statements = { min: Math.min(statements.min, counted.sent), max: Math.max(statements.max, counted.sent) };
    transactions = Math.max(transactions, counted.transactions);
  }
  durations.sort((a, b) => a - b);
  return { name, iterations: times, p50: percentile(durations, 0.5), p99: percentile(durations, 0.99), statements, logged: 0, transactions, lastQueries: [] };
}

async function edit(platform: Platform, actor: Actor, app: string, env: string, file: string, content: string): Promise<void> {
  const { base } = await startConfigEdit(platform, { actor, app, env, path: file });
  await editConfigFile(platform, { actor, app, env, path: file, content, base });
}

function sectionConfig(origin: string): string {
  return `${JSON.stringify({ proxychain: [{ name: "varnish", image: "varnish:7.4" }], origin: { address: origin } }, null, 2)}\n`;
}

/** Adds `count` commits on top of production with git fast-import: each changes a rule file and appends to a changelog. */
async function importHistory(repository: string, count: number): Promise<void> {
  const parent = (await git(repository, ["rev-parse", "refs/heads/production"])).trim();
  const chunks: string[] = [];
  const data = (text: string) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let changelog = "";
  const start = Math.floor(Date.now() / 1000) - count * 60;
  for (let i = 1; i <= count; i++) {
    changelog += `change ${i}\n`;
    const when = `${start + i * 60} +0000`;
    chunks.push(
      `commit refs/heads/production\n`,
      `author Bench <bench@example.com> ${when}\ncommitter Bench <bench@example.com> ${when}\n`,
      data(`Change ${i}`),
      i === 1 ? `from ${parent}\n` : "",
      `M 100644 inline varnish/rules-${i % ruleFiles}.vcl\n`,
      data(`# rule file ${i % ruleFiles}, revision ${i}\nsub rule_${i % ruleFiles} { }\n`),
      `M 100644 inline CHANGELOG\n`,
      data(changelog),
      "\n",
    );
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn("git", ["fast-import", "--quiet"], { cwd: repository, env: gitEnvironment(), stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import failed: ${stderr}`))));
    child.stdin.end(chunks.join(""));
  });
}

async function git(repository: string, args: string[]): Promise<string> {
  return (await run("git", args, { cwd: repository, env: gitEnvironment(), maxBuffer: 64 * 1024 * 1024 })).stdout;
}

function gitEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", LC_ALL: "C" };
}

function report(
  context: BenchContext,
  input: { measured: Array<{ measurement: Measurement; note: string }>; commits: number; times: number },
): SectionResult {
  const targeted = new Set(["env diff", "config edit: commit", "env promote: fast-forward", "env promote: merge commit"]);
  const rows: ResultRow[] = input.measured.map(({ measurement }) => {
    const hasTarget = [...targeted].some((name) => measurement.name.startsWith(name));
    return {
      command: measurement.name,
      p50: measurement.p50,
      p99: measurement.p99,
      statements: `${measurement.statements.max}${measurement.transactions > 0 ? ` (${measurement.transactions} tx)` : ""}`,
      ratio: undefined,
      target: hasTarget ? `p50 ≤ ${targetMs} ms` : "",
      met: hasTarget ? measurement.p50 <= targetMs : undefined,
    };
  });
  const missed = rows.filter((row) => row.met === false).map((row) => `${row.command}: p50 ${row.p50.toFixed(1)} ms, over ${targetMs} ms`);


  const machine = context.machine;
  const notes = input.measured.map(({ measurement, note }) => `- **${measurement.name}**: ${note}.`);
  const markdown = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineLine(machine)}. The 1-minute load average was ${machine.loadAtStart.toFixed(2)} at the start and ${(loadavg()[0] ?? 0).toFixed(2)} at the end on ${machine.cores} cores.`,
    "",
    `Git processes per call: env diff 2 (run together), config edit open 2 (ls-tree, cat-file), config edit commit 2 (ls-tree, fast-import), env promote 1 (fast-forward: merge-base) or 2 (merge: merge-base, merge-tree), env log 1. Without a process: branch heads are read from the ref files, a branch is moved by compare-and-swap under git's ref lock, and a merge commit is written by edgebot.`,
    "",
    `One application whose production branch holds ${input.commits} commits (made with \`git fast-import\`: each changes one of ${ruleFiles} rule files and appends to a changelog), with staging, qa and hotfix branched from it, then maintained as edgebot's maintenance job does it (\`git gc\` writing the commit-graph; the measured edits and merges pile up after it, as between two runs). Each row times the core function its command calls, as the command runs it (database lookups, permission, git, the transaction with its audit event and notification), ${input.times} calls after a warm-up; the database is Postgres on loopback. Git runs as child processes (\`simple-git\`), so each row is mostly the count of git processes it starts.`,
    "",
    ...notes,
    "",
    markdownTable(rows),
    "",
    "A fresh clone over HTTP against `git clone file://…` is measured in its own section, Git over HTTP.",
    "",
    missed.length === 0 ? "**Every target measured is met.**" : `**Missed ${missed.length} target(s):**\n\n${missed.map((line) => `- ${line}`).join("\n")}`,
  ].join("\n");
  const summary = [
    `1-minute load average: ${machine.loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (${machine.cores} cores)`,
    `${input.commits} commits on production; ${input.times} calls per command`,
  ];
  return { rows, summary, markdown, missed };
}
