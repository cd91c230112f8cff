import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { machineLine } from "./machine.ts";
import { stopProcess } from "./processes.ts";
import { percentile } from "./measure.ts";
import type { BenchContext, BenchSection, SectionResult } from "./section.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
// Inside the project, so that the compiled code and the bare app find node_modules.
const buildDir = path.join(projectRoot, "node_modules", ".cache", "edgebot-bench-startup");
const signingSecret = "bench-signing-secret-0123456789abcdef";
const botToken = "xoxb-bench-bot-token";
const targets = { startRatio: 1.5, rssRatio: 1.3 };
/** How long a process idles after it is healthy before its resident memory is read. */
const idleMs = 2000;

export const startupSection: BenchSection = {
  id: "startup",
  title: "Start-up",
  run: runStartup,
};

/** One way of starting a process, timed from its spawn to its first 200 on `/healthz`. */
interface Subject {
  name: string;
  command: string[];
  env: Record<string, string>;
}

interface Run {
  startMs: number;
  rssMb: number;
  /** For edgebot: when each start-up step ended, from its log lines' times, in ms after the spawn. */
  steps: Record<string, number>;
}

/** Each start-up step and the log lines that end it: the step ends with the last of them. */
const stepEnds: Array<[messages: string[], step: string]> = [
  [["database ready"], "load modules, connect, check migrations"],
  [["repositories reconciled with the database"], "reconcile GIT_ROOT (while Bolt's modules load)"],
  [["job queue started", "Slack accepted the bot token"], "start the job queue (begun after reconciling), and check the token with Slack (auth.test)"],
];

async function runStartup(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  const runs = context.scale < 1 ? 3 : 9;
  const scratch = await mkdtemp(path.join(tmpdir(), "edgebot-bench-startup-"));
  const slack = await fakeSlack();
  try {
    progress("building (npm run build) into node_modules/.cache…");
    await promisify(execFile)(process.execPath, [path.join(projectRoot, "scripts", "build.mjs"), buildDir], { cwd: projectRoot });
    const bare = path.join(buildDir, "bare-bolt.mjs");
    await writeFile(bare, bareBoltApp);
    const common = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), SLACK_SIGNING_SECRET: signingSecret, SLACK_BOT_TOKEN: botToken, SLACK_API_URL: slack.url, PORT: "0" };
    const edgebotEnv = { ...common, DATABASE_URL: context.databaseUrl, DATA_DIR: path.join(scratch, "data"), GIT_ROOT: path.join(scratch, "repos"), LOG_LEVEL: "info" };
    const subjects: Subject[] = [
      { name: "bare Bolt 5 app (HTTP, acks only)", command: [process.execPath, bare], env: common },
      { name: "edgebot, production build (node dist/main.js)", command: [process.execPath, path.join(buildDir, "main.js")], env: edgebotEnv },
      { name: "edgebot with tsx (npm start)", command: [process.execPath, "--import", "tsx", path.join(projectRoot, "src", "main.ts")], env: edgebotEnv },
    ];
    // One warm-up each (the database warm, the files in the page cache), then runs in turn.
    for (const subject of subjects) await startOnce(subject);
    const results = new Map<string, Run[]>(subjects.map((subject) => [subject.name, []]));
    for (let round = 1; round <= runs; round++) {
      progress(`round ${round} of ${runs}`);
      for (const subject of subjects) results.get(subject.name)!.push(await startOnce(subject));
    }
    return report(context, subjects, results, runs);
  } finally {
    await slack.close();
    await rm(scratch, { recursive: true, force: true });
    await rm(buildDir, { recursive: true, force: true });
  }
}

/** Starts a subject, waits until `/healthz` answers 200, lets it idle, reads its RSS, stops it. */
async function startOnce(subject: Subject): Promise<Run> {
  const started = performance.now();
  const startedAt = Date.now();
  const child = spawn(subject.command[0]!, subject.command.slice(1), { cwd: projectRoot, env: subject.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    const port = await waitFor(() => /"port":(\d+)/.exec(output)?.[1] ?? /^listening on (\d+)$/m.exec(output)?.[1], child, () => output);
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined), child, () => output, 1);
    const startMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const status = await readFile(`/proc/${child.pid}/status`, "utf8");
    const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    return { startMs, rssMb, steps: stepTimes(output, startedAt) };
  } finally {
    await stopProcess(child);
  }
}

/** When each start-up step ended, from the pino lines' `time`, in ms after `startedAt`. */
function stepTimes(output: string, startedAt: number): Record<string, number> {
  const steps: Record<string, number> = {};
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as { msg?: string; time?: number };
    const step = stepEnds.find(([messages]) => parsed.msg !== undefined && messages.includes(parsed.msg))?.[1];
    if (step !== undefined && parsed.time !== undefined) steps[step] = Math.max(steps[step] ?? 0, parsed.time - startedAt);
  }
  return steps;
}

async function waitFor<T>(read: () => T | undefined | Promise<T | undefined>, child: ChildProcess, output: () => string, everyMs = 2): Promise<T> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (child.exitCode !== null) throw new Error(`the process exited before it was healthy:\n${output()}`);
    if (performance.now() > deadline) throw new Error(`not healthy within 60 s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A Web API on loopback that accepts the bot token (auth.test) and answers ok to anything else. */
async function fakeSlack(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, team_id: "T0BENCH", user_id: "U0BOT", bot_id: "B0BOT", url: "https://bench.slack.invalid/" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The yardstick: a Bolt 5 app over HTTP that acknowledges the slash command and answers /healthz. */
const bareBoltApp = `import bolt from "@slack/bolt";
const { App, HTTPReceiver, LogLevel } = bolt;
const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET,
  customRoutes: [{ path: "/healthz", method: ["GET"], handler: (_request, response) => { response.writeHead(200); response.end("ok"); } }],
});
const app = new App({ token: process.env.SLACK_BOT_TOKEN, receiver, tokenVerificationEnabled: false, logLevel: LogLevel.ERROR });
app.command("/edge", async ({ ack }) => { await ack(); });
const server = await app.start(0);
process.stdout.write("listening on " + server.address().port + "\\n");
process.on("SIGTERM", () => app.stop().then(() => process.exit(0)));
`;

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

function report(context: BenchContext, subjects: Subject[], results: Map<string, Run[]>, runs: number): SectionResult {
  const [bare, built, dev] = subjects.map((subject) => results.get(subject.name)!) as [Run[], Run[], Run[]];
  // Ratios pair each run with the bare app's of the same round, as the machine drifts.
  const startRatios = built.map((run, index) => run.startMs / bare[index]!.startMs);
  const rssRatios = built.map((run, index) => run.rssMb / bare[index]!.rssMb);
  const startRatio = median(startRatios);
  const rssRatio = median(rssRatios);
  const missed: string[] = [];
  if (!(startRatio <= targets.startRatio)) missed.push(`start to healthy, production build, at most ${targets.startRatio}× the bare app's: measured ${startRatio.toFixed(2)}×`);
  if (!(rssRatio <= targets.rssRatio)) missed.push(`idle RSS, production build, at most ${targets.rssRatio}× the bare app's: measured ${rssRatio.toFixed(2)}×`);

  const line = (name: string, list: Run[]) => `| ${name} | ${median(list.map((run) => run.startMs)).toFixed(0)} | ${Math.min(...list.map((run) => run.startMs)).toFixed(0)}–${Math.max(...list.map((run) => run.startMs)).toFixed(0)} | ${median(list.map((run) => run.rssMb)).toFixed(0)} |`;
  const table = [
    "| process | start to healthy, median ms | range ms | idle RSS, median MB |",
    "|---|---:|---:|---:|",
    line(subjects[0]!.name, bare),
    line(subjects[1]!.name, built),
    line(subjects[2]!.name, dev),
  ].join("\n");
  const stepNames = stepEnds.map(([, step]) => step);
  const stepRows = stepNames.map((step, index) => {
    const ends = built.map((run) => run.steps[step]).filter((value): value is number => value !== undefined);
    const starts = index === 0 ? ends.map(() => 0) : built.map((run) => run.steps[stepNames[index - 1]!]).filter((value): value is number => value !== undefined);
    const lengths = ends.map((end, at) => end - (starts[at] ?? 0));
    return `| ${step} | ${lengths.length === 0 ? "—" : median(lengths).toFixed(0)} |`;
  });
  const last = built.map((run) => run.steps[stepNames.at(-1)!] ?? NaN);
  const listenRow = `| create the Slack app, listen, first /healthz | ${median(built.map((run, index) => run.startMs - (last[index] ?? 0))).toFixed(0)} |`;
  const targetTable = [
    "| target | measured | met |",
    "|---|---:|---|",
    `| start to healthy, production build, warm database: ≤ ${targets.startRatio}× the bare app | ${startRatio.toFixed(2)}× | ${startRatio <= targets.startRatio ? "yes" : "**NO**"} |`,
    `| idle RSS after start, production build: ≤ ${targets.rssRatio}× the bare app | ${rssRatio.toFixed(2)}× | ${rssRatio <= targets.rssRatio ? "yes" : "**NO**"} |`,
  ].join("\n");
  const stepTable = ["| step of the production build's start-up | median ms |", "|---|---:|", ...stepRows, listenRow].join("\n");
  const markdown = [
    `_${machineLine(context.machine)}_`,
    "",
    `Each process is started ${runs} times (after one warm-up each), in turn, and timed from its spawn to its first 200 on \`GET /healthz\`; its resident memory (VmRSS) is read ${idleMs / 1000} s later, idle. edgebot runs in HTTP mode on the benchmark's Postgres database, already migrated, with a Web API on loopback that accepts its token; the bare app is a Bolt 5 App over HTTP that only acknowledges \`/edge\` and answers \`/healthz\`. Ratios are the median of each round's own ratio.`,
    "",
    table,
    "",
    "Where the production build's start-up goes, each step timed by its log lines:",
    "",
    stepTable,
    "",
    targetTable,
  ].join("\n");
  return {
    rows: [],
    table: `${table}\n\n${stepTable}\n\n${targetTable}`,
    summary: [machineLine(context.machine), `${runs} starts each, after a warm-up`],
    markdown,
    missed,
  };
}
