import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CompiledQuery, sql } from "kysely";
import PgBoss from "pg-boss";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Recheck } from "../../src/core/platform.ts";
import { createDnsVerifier } from "../../src/dns/verify.ts";
import { recheckQueueName, startJobQueue } from "../../src/jobs/queue.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { testBotToken, testSigningSecret } from "../support/slack-app.ts";
import { until } from "../support/until.ts";
import { applicationId, buildApplication, buildOrg, buildUser, useWorld } from "../support/world.ts";

const world = useWorld();
const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const suffix = "edge.test.net";
const due = 1000;
const hostname = (n: number) => `site${n}.workers.example`;

/** Two workers sharing the database: edgebot processes on a Postgres server, two job queues in one process on PGlite (which one process owns). */
interface Worker {
  /** How many re-checks it ran, from its log. */
  rechecks(): number;
  /** The end of its log, to show when the work does not get done. */
  tail(): string;
  stop(): Promise<void>;
}

let server: TestDnsServer;
let environmentIds: number[];

beforeAll(async () => {
  server = await startDnsServer({ records: Array.from({ length: due }, (_, i) => ({ name: hostname(i), type: "CNAME" as const, target: `${hostname(i)}.${suffix}` })) });
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org, "www.workers.example");
  const app = await applicationId(world.platform, ref);
  // A thousand environments awaiting DNS, one domain each.
  const { rows } = await sql<{ id: number }>`
    insert into environments (application_id, name, based_on, created_by)
    select ${app}, 'w' || n, 'production', ${owner.userId} from generate_series(0, ${due - 1}) as n returning id`.execute(world.platform.db);
  environmentIds = rows.map((row) => row.id).sort((a, b) => a - b);
  await sql`insert into domains (environment_id, hostname, created_by)
    select e.id, 'site' || substr(e.name, 2) || '.workers.example', ${owner.userId} from environments e where e.application_id = ${app} and e.name like 'w%'`.execute(world.platform.db);
});

afterAll(async () => {
  await server?.close();
});

/** `npm start` in Slack mode against the test's Postgres database: the web server, the outbox and the job queue. */
async function edgebotProcess(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: projectRoot, env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...env } });
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stdin.end();
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  // It listens while its job queue starts: the jobs are queued once the queue has made its queues.
  await until(() => (log.includes("edgebot listening") && log.includes('"msg":"job queue started"') ? true : undefined), { what: "edgebot to listen", timeoutMs: 30_000, everyMs: 200 }).catch(async () => {
    // Not left running behind the failed test.
    child.kill("SIGKILL");
    await exited;
    throw new Error(`edgebot did not start:\n${log}`);
  });
  return {
    rechecks: () => log.split("\n").filter((line) => line.includes('"msg":"DNS re-checked"')).length,
    tail: () => log.split("\n").filter((line) => !line.includes('"msg":"DNS re-checked"')).slice(-15).join("\n"),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function startWorkers(): Promise<{ workers: Worker[]; cleanup: () => Promise<void> }> {
  const url = world.database.url;
  if (url !== undefined) {
    const fake = new FakeSlack();
    await fake.start();
    const dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-workers-"));
    const env = {
      DATABASE_URL: url,
      DATA_DIR: dataDir,
      PORT: "0",
      LOG_LEVEL: "info",
      SLACK_SIGNING_SECRET: testSigningSecret,
      SLACK_BOT_TOKEN: testBotToken,
      SLACK_API_URL: fake.apiUrl,
      DNS_SERVERS: server.address,
      EDGE_CNAME_SUFFIX: suffix,
    };
    const started = await Promise.allSettled([edgebotProcess(env), edgebotProcess(env)]);
    const workers = started.flatMap((start) => (start.status === "fulfilled" ? [start.value] : []));
    const failed = started.find((start) => start.status === "rejected");
    if (failed) {
      // The one that started is stopped before the failure is told.
      await Promise.all(workers.map((worker) => worker.stop()));
      await fake.stop();
      throw failed.reason;
    }
    return {
      workers,
      cleanup: async () => {
        await Promise.all(workers.map((worker) => worker.stop()));
        await fake.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  // One after the other: both start on PGlite's single connection.
  const workers: Worker[] = [];
  for (const _ of [1, 2]) {
    workers.push(
      await (async () => {
      let rechecks = 0;
      const other: string[] = [];
      const logger = pino({ level: "info" }, { write: (line: string) => void (line.includes('"msg":"DNS re-checked"') ? (rechecks += 1) : other.push(line)) });
      const dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 2000, dnsConcurrency: 200, edgeCnameSuffix: suffix, edgeIpv4: [] });
      const queue = await startJobQueue({ platform: { ...world.platform, dns }, logger });
        return {
          rechecks: () => rechecks,
          tail: () => other.slice(-15).join(""),
          stop: async () => {
            await queue.stop();
            dns.close();
          },
        };
      })(),
    );
  }
  return { workers, cleanup: async () => void (await Promise.all(workers.map((worker) => worker.stop()))) };
}

describe("two edgebot workers sharing one database", () => {
  it(`run each of ${due} due DNS re-checks exactly once`, { timeout: 420_000 }, async () => {
    const { workers, cleanup } = await startWorkers();
    try {
      // The checks fall due all at once, queued through pg-boss as edgebot queues them.
      const boss = new PgBoss({ db: { executeSql: async (text, values) => ({ rows: (await world.platform.db.executeQuery(CompiledQuery.raw(text, values ?? []))).rows }) }, schema: "pgboss" });
      const since = new Date().toISOString();
      await boss.insert(environmentIds.map((environmentId) => ({ name: recheckQueueName, data: { environmentId, attempt: 1, since, askedBy: null } satisfies Recheck, singletonKey: `environment:${environmentId}` })));

      const checked = async () => Number((await sql<{ n: string }>`select count(*) as n from dns_checks where trigger = 'recheck'`.execute(world.platform.db)).rows[0]!.n);
      // About 30 s alone; several times that while the rest of the suite shares the 2 cores.
      await until(async () => ((await checked()) >= due ? true : undefined), { what: `${due} checks`, timeoutMs: 330_000, everyMs: 200 }).catch(async (error: Error) => {
        const logs = workers.map((worker, index) => `worker ${index + 1} ran ${worker.rechecks()} re-checks; its other log lines:\n${worker.tail()}`);
        throw new Error(`${error.message}: ${await checked()} of ${due} checks done\n${logs.join("\n")}`);
      });
      await until(() => (workers.reduce((sum, worker) => sum + worker.rechecks(), 0) >= due ? true : undefined), { what: "the workers' logs", timeoutMs: 10_000 });
      // Long enough for a duplicate to show: a second polling round of both workers.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      await cleanup();
    }

    const perDomain = await sql<{ checks: number; domains: number }>`
      select count(*)::int as checks, count(distinct domain_id)::int as domains from dns_checks where trigger = 'recheck'`.execute(world.platform.db);
    expect(perDomain.rows[0]).toEqual({ checks: due, domains: due });
    const live = await world.platform.db.selectFrom("environments").select(sql<string>`count(*)`.as("n")).where("id", "in", environmentIds).where("live_at", "is not", null).executeTakeFirstOrThrow();
    expect(Number(live.n)).toBe(due);
    const jobs = await sql<{ state: string; n: number }>`select state, count(*)::int as n from pgboss.job where name = ${recheckQueueName} group by state`.execute(world.platform.db);
    expect(jobs.rows).toEqual([{ state: "completed", n: due }]);
    const counts = workers.map((worker) => worker.rechecks());
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(due);
    // The work was shared: each worker ran some of it.
    expect(Math.min(...counts)).toBeGreaterThan(0);
  });
});
