import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql, type Kysely } from "kysely";
import type { Database } from "../src/db/schema.ts";
import { stopProcess } from "./processes.ts";
import type { LoadResult, LoadSpec } from "./slack-driver.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

/** CPU seconds used per second of the closed loop, by who used them. */
export interface CpuShare {
  edgebot: number;
  driver: number;
  postgres: number;
}

/** One closed loop against edgebot run as `processes` processes of the production build. */
export interface ProcessesRun {
  processes: number;
  result: LoadResult;
  cpu: CpuShare;
}

export interface ProcessesInput {
  databaseUrl: string;
  /** The database the processes use, to find its Postgres backends (their CPU is counted). */
  db: Kysely<Database>;
  /** The shared GIT_ROOT, already holding the seeded world's repositories. */
  gitRoot: string;
  /** The driver's fake Web API (auth.test, users.info). */
  apiUrl: string;
  signingSecret: string;
  botToken: string;
  slashCommand: string;
  /** The driver's process id, whose CPU is counted. */
  driverPid: number;
  /** Runs the driver's load against these URLs for `seconds` (it spreads its requests over them); an open loop at `rate` per second when given. */
  load(kind: LoadSpec["kind"], urls: string[], seconds: number, rate?: number): Promise<LoadResult>;
  /** The closed loop's length. */
  seconds: number;
  progress(line: string): void;
}

/**
 * edgebot as a platform team runs it: the production build (`node main.js`, built by
 * scripts/build.mjs), HTTP mode, each process with its own port, metrics port and job queue, all
 * on one Postgres database and one GIT_ROOT. The closed loop runs once against one process and
 * once against three, the driver's senders spread round-robin over the three URLs as a load
 * balancer would. What each used of the CPU is read from /proc: every edgebot process, the driver,
 * and the Postgres backends of the database.
 */
export async function measureProcesses(input: ProcessesInput, counts: number[]): Promise<ProcessesRun[]> {
  const scratch = await mkdtemp(path.join(tmpdir(), "edgebot-bench-processes-"));
  // Inside the project, where the packages the build leaves out (luxon, PGlite) resolve.
  const buildDir = path.join(projectRoot, "node_modules", ".cache", "edgebot-bench-processes");
  try {
    input.progress("building the production build (scripts/build.mjs)…");
    await promisify(execFile)(process.execPath, [path.join(projectRoot, "scripts", "build.mjs"), buildDir], { cwd: projectRoot });
    const runs: ProcessesRun[] = [];
    for (const count of counts) {
      input.progress(`closed loop against ${count} edgebot process${count === 1 ? "" : "es"} (production build)…`);
      const started = await Promise.all(Array.from({ length: count }, (_, index) => startProcess(input, buildDir, path.join(scratch, `data-${count}-${index}`))));
      try {
        const urls = started.map((one) => one.url);
        // Each process warms up: its pools fill, it registers the user (one users.info), it compiles its hot
        // paths. Gently first, as a load balancer brings a new process in: a cold process hit at once with
        // 100 commands a second on a loaded machine acknowledged its first ones seconds late, and its
        // connections to Postgres timed out while it caught up.
        for (const url of urls) await input.load("open", [url], 2, 5);
        await input.load("open", urls, 2);
        const pids = started.map((one) => one.child.pid!);
        const before = await cpuReading(input.db, input.driverPid, pids);
        const startedAt = performance.now();
        const result = await input.load("closed", urls, input.seconds);
        const seconds = (performance.now() - startedAt) / 1000;
        const after = await cpuReading(input.db, input.driverPid, pids);
        runs.push({ processes: count, result, cpu: cpuShare(before, after, seconds) });
      } finally {
        await Promise.all(started.map((one) => stopProcess(one.child)));
      }
    }
    return runs;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Starts one edgebot process and resolves once it listens, with its events URL. */
async function startProcess(input: ProcessesInput, buildDir: string, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    DATABASE_URL: input.databaseUrl,
    GIT_ROOT: input.gitRoot,
    DATA_DIR: dataDir,
    SLACK_SIGNING_SECRET: input.signingSecret,
    SLACK_BOT_TOKEN: input.botToken,
    SLACK_API_URL: input.apiUrl,
    SLASH_COMMAND: input.slashCommand,
    PORT: "0",
    // Metrics on, on a port of its own (each process takes a free one), as production is watched.
    METRICS_PORT: "0",
    LOG_LEVEL: "info",
  };
  const child = spawn(process.execPath, [path.join(buildDir, "main.js")], { cwd: projectRoot, env, stdio: ["ignore", "ignore", "pipe"] });
  // The log lines go to a pipe, as to journald: read until the line that gives the port, then drained unread.
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`edgebot did not listen within 60 s:\n${output.slice(-4000)}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = output.split("\n").find((line) => line.includes('"msg":"edgebot listening'));
      if (listening === undefined) return;
      clearTimeout(timer);
      child.stderr!.off("data", onData).resume();
      resolve((JSON.parse(listening) as { port: number }).port);
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`edgebot exited (${code}) before it listened:\n${output.slice(-4000)}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}/slack/events` };
}

/** CPU seconds used so far: by the app's processes, the driver, and each of the database's Postgres backends. */
export interface CpuReading {
  edgebot: number;
  driver: number;
  /** By backend process id: a backend that starts during the run counts from zero. */
  postgres: Map<number, number>;
}

/** Reads /proc for the app's processes (`appPids`), the driver and the Postgres backends of `db`'s database (not the one asking). */
export async function cpuReading(db: Kysely<Database>, driverPid: number, appPids: number[]): Promise<CpuReading> {
  const backends = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`.execute(db);
  const postgres = new Map<number, number>();
  for (const { pid } of backends.rows) {
    const seconds = cpuSeconds(pid);
    if (seconds !== undefined) postgres.set(pid, seconds);
  }
  return { edgebot: appPids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0), driver: cpuSeconds(driverPid) ?? 0, postgres };
}

/** What each used between two readings, per second of `seconds`. */
export function cpuShare(before: CpuReading, after: CpuReading, seconds: number): CpuShare {
  let postgres = 0;
  for (const [pid, used] of after.postgres) postgres += used - (before.postgres.get(pid) ?? 0);
  return { edgebot: (after.edgebot - before.edgebot) / seconds, driver: (after.driver - before.driver) / seconds, postgres: postgres / seconds };
}

/** User and system CPU seconds a process has used (Linux /proc; clock ticks of 10 ms). */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
