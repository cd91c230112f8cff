import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../src/bot/shell.ts";
import { repositoryLockSpace } from "../../src/db/repository-locks.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { startEdgebot, type EdgebotProcess } from "../support/edgebot-process.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { runGitClient } from "../support/git-client.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../support/slack-app.ts";
import { until } from "../support/until.ts";

const channel = "CREPLICAS";
const owner = "UREPLICAOWNER";

describe("three edgebot processes on one Postgres database and one GIT_ROOT", () => {
  let server: PostgresServer;
  let dns: TestDnsServer;
  let scratch: string;
  let databaseUrl: string;
  const fake = new FakeSlack();
  const processes: Array<{ run: EdgebotProcess; url: string; alive: boolean }> = [];

  beforeAll(async () => {
    server = await PostgresServer.start();
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query("create database edgebot");
    await admin.end();
    databaseUrl = server.url("edgebot");
    dns = await startDnsServer({ records: [] });
    await fake.start();
    fake.addUser({ id: owner, teamId: "T0TEST", email: "olga@agency.example", name: "olga" });
    scratch = await mkdtemp(path.join(tmpdir(), "edgebot-replicas-"));
    const gitRoot = path.join(scratch, "repos");
    // Three processes starting together on a new database: they take turns migrating it.
    const runs = [1, 2, 3].map((n) =>
      startEdgebot({
        DATABASE_URL: databaseUrl,
        GIT_ROOT: gitRoot,
        DATA_DIR: path.join(scratch, `data-${n}`),
        PORT: "0",
        SLACK_API_URL: fake.apiUrl,
        SLACK_SIGNING_SECRET: testSigningSecret,
        SLACK_BOT_TOKEN: testBotToken,
        DNS_SERVERS: dns.address,
        DNS_TIMEOUT_MS: "300",
        EDGE_CNAME_SUFFIX: "edge.test.net",
      }),
    );
    for (const run of runs) processes.push({ run, url: `http://127.0.0.1:${await run.listening(90_000)}`, alive: true });
  }, 180_000);

  afterAll(async () => {
    for (const { run, alive } of processes) {
      if (!alive) continue;
      run.child.kill("SIGTERM");
      await run.exited;
    }
    await fake.stop();
    await dns?.close();
    await server?.destroy();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Types `/edge <text>` to process `n`; resolves with the response id once the answer came. */
  async function type(n: number, text: string): Promise<{ responseId: string; answer: string }> {
    const { body, responseId } = slashCommandBody(fake, { text, userId: owner });
    expect((await signedRequest(processes[n]!.url, body)).status).toBe(200);
    const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0], 30_000);
    return { responseId, answer: plainText({ text: String(answer.text), blocks: [] }) };
  }

  async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  it("answer every command once, deliver every notification once, keep git whole, and carry on when one is killed", { timeout: 300_000 }, async () => {
    expect((await type(0, "org create agency")).answer).toContain("Created org agency");
    await type(1, `org channel agency <#${channel}|ops>`);
    expect((await type(2, "app create www.client.test --org agency --name www")).answer).toContain("Created agency/www");
    expect((await type(0, "env create agency/www staging")).answer).toContain("Created agency/www staging");
    const token = /edgebot_pat_[A-Za-z0-9_-]{43}/.exec((await type(1, "token create")).answer)![0];

    // Pushes to staging, through the first and the third process in turn, while commands go round.
    const home = path.join(scratch, "client");
    const git = (args: string[], cwd = home) => runGitClient(args, { cwd, home: scratch, author: { name: "Olga", email: "olga@agency.example" } });
    const remote = (n: number) => {
      const url = new URL(`${processes[n]!.url}/git/agency/www.git`);
      url.username = "olga";
      url.password = token;
      return url.toString();
    };
    expect((await git(["clone", "--quiet", "--branch", "staging", remote(0), home], scratch)).code).toBe(0);
    let pushed = 0;
    const pushes = (async () => {
      for (let i = 0; i < 9; i++) {
        const through = i % 2 === 0 ? 0 : 2;
        await writeFile(path.join(home, "varnish", "default.vcl"), `vcl 4.1;\n# change ${i}\nbackend default none;\n`);
        expect((await git(["commit", "--quiet", "-am", `Change ${i}`])).code).toBe(0);
        for (let attempt = 0; attempt < 5; attempt++) {
          const result = await git(["push", "--quiet", remote(through), "HEAD:staging"]);
          if (result.code === 0) {
            pushed += 1;
            break;
          }
          // Someone moved staging meanwhile (a promotion does not; a push might): rebase and try again.
          await git(["pull", "--quiet", "--rebase", remote(through), "staging"]);
        }
      }
    })();

    // 300 commands, ten at a time, round-robin over the processes; the second is killed half-way.
    const kinds = (i: number) => [`domain add agency/www staging d${i}.client.test`, "app show agency/www", "env promote agency/www staging production", "env list agency/www", `golive agency/www staging`, "domain list agency/www"][i % 6]!;
    const answered: string[] = [];
    for (let batch = 0; batch < 30; batch++) {
      if (batch === 15) {
        processes[1]!.run.child.kill("SIGKILL");
        await processes[1]!.run.exited;
        processes[1]!.alive = false;
      }
      const alive = processes.map((entry, n) => (entry.alive ? n : -1)).filter((n) => n >= 0);
      const sent = await Promise.all(Array.from({ length: 10 }, (_, k) => batch * 10 + k).map((i) => type(alive[i % alive.length]!, kinds(i))));
      answered.push(...sent.map((one) => one.responseId));
    }
    await pushes;
    expect(pushed).toBe(9);

    // Every command answered exactly once.
    expect(answered).toHaveLength(300);
    for (const id of answered) expect(fake.responses.get(id)).toHaveLength(1);

    // Every notification delivered, once: the outbox empties (the killed process's leases are taken over), and each row is one post.
    await until(async () => Number((await query<{ n: string }>("select count(*) as n from outbox where delivered_at is null and given_up_at is null"))[0]!.n) === 0, { what: "the outbox to empty", timeoutMs: 120_000, everyMs: 500 });
    const delivered = Number((await query<{ n: string }>("select count(*) as n from outbox where channel_id = $1 and delivered_at is not null", [channel]))[0]!.n);
    expect(fake.callsOf("chat.postMessage").filter((call) => call.args.channel === channel)).toHaveLength(delivered);

    // Git is whole, and production's head is the last promotion's commit.
    const [app] = await query<{ id: number }>("select id from applications where slug = 'www'");
    const repository = path.join(scratch, "repos", `${app!.id}.git`);
    const fsck = await promisify(execFile)("git", ["--git-dir", repository, "fsck", "--strict"]);
    expect(fsck.stderr).not.toMatch(/error|missing|broken/i);
    const production = (await promisify(execFile)("git", ["--git-dir", repository, "rev-parse", "refs/heads/production"])).stdout.trim();
    const [lastPromotion] = await query<{ commit: string }>("select details->>'commit' as commit from audit_events where action = 'env.promote' order by id desc limit 1");
    expect(production).toBe(lastPromotion!.commit);
    const staging = (await promisify(execFile)("git", ["--git-dir", repository, "rev-parse", "refs/heads/staging"])).stdout.trim();
    expect(staging).toBe((await git(["rev-parse", "HEAD"])).stdout.trim());
    const [pushAudits] = await query<{ n: string }>("select count(*) as n from audit_events where action = 'git.push'");
    expect(Number(pushAudits!.n)).toBe(9);
  });

  it("run each scheduled job once per schedule, whichever process takes it", { timeout: 150_000 }, async () => {
    // invitations-expire is due every minute: wait for one run, then look at every one so far.
    const runs = await until(
      async () => {
        const rows = await query<{ minute: string; runs: string }>(
          "select date_trunc('minute', created_on) as minute, count(*) as runs from pgboss.job where name = 'invitations-expire' and state = 'completed' group by 1",
        );
        return rows.length > 0 ? rows : undefined;
      },
      { what: "a scheduled run of invitations-expire", timeoutMs: 130_000, everyMs: 1000 },
    );
    for (const minute of runs) expect(Number(minute.runs)).toBe(1);
  });

  it("take turns on one application's repository: a change waits while another process holds its lock", { timeout: 60_000 }, async () => {
    const [app] = await query<{ id: number }>("select id from applications where slug = 'www'");
    // Another process's git write to the application, as a push or maintenance holds it.
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query("select pg_advisory_lock($1, $2)", [repositoryLockSpace, app!.id]);
      const { body, responseId } = slashCommandBody(fake, { text: "env create agency/www qa", userId: owner });
      expect((await signedRequest(processes[0]!.url, body)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(fake.responses.get(responseId)).toBeUndefined();
      expect(await query("select id from environments where name = 'qa'")).toEqual([]);

      await holder.query("select pg_advisory_unlock($1, $2)", [repositoryLockSpace, app!.id]);
      const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0], 10_000);
      expect(String(answer.text)).toContain("Created");
      expect(await query("select id from environments where name = 'qa'")).toHaveLength(1);
    } finally {
      await holder.end();
    }
  });
});
