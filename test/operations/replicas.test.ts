import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../src/bot/shell.ts";
import { deliveryLeaseSeconds } from "../../src/core/notifications.ts";
import { repositoryLockSpace } from "../../src/db/repository-locks.ts";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.ts";
import { startEdgebot, type EdgebotProcess } from "../support/edgebot-process.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { runGitClient } from "../support/git-client.ts";
import { PostgresServer } from "../support/postgres-server.ts";
import {
  blockActionPayload,
  interactionBody,
  signedRequest,
  slashCommandBody,
  testBotToken,
  testSigningSecret,
  viewOf,
  viewSubmissionPayload,
  type OpenedView,
} from "../support/slack-app.ts";
import { until } from "../support/until.ts";

const channel = "CREPLICAS";
const owner = "UREPLICAOWNER";
const studioChannel = "CSTUDIO";
/** Studio's admin, developer, and a client's person the developer asks to invite. */
const ada = "UREPLICAADA";
const dan = "UREPLICADAN";
const cleo = "UREPLICACLEO";

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
    fake.addUser({ id: ada, teamId: "T0TEST", email: "ada@agency.example", name: "ada" });
    fake.addUser({ id: dan, teamId: "T0TEST", email: "dan@agency.example", name: "dan" });
    fake.addUser({ id: cleo, teamId: "T0TEST", email: "cleo@client.example", name: "cleo" });
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

  /** `userId` types `/edge <text>` to process `n`; resolves with the response id once the answer came. */
  async function type(n: number, text: string, userId = owner): Promise<{ responseId: string; answer: string }> {
    const { body, responseId } = slashCommandBody(fake, { text, userId });
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

  /** Runs the git client in `cwd`, as the agency's Olga. */
  function git(args: string[], cwd: string) {
    return runGitClient(args, { cwd, home: scratch, author: { name: "Olga", email: "olga@agency.example" } });
  }

  /** Application `app`'s repository through process `n`, signed in with `token`. */
  function remote(n: number, app: string, token: string): string {
    const url = new URL(`${processes[n]!.url}/git/${app}.git`);
    url.username = "olga";
    url.password = token;
    return url.toString();
  }

  /**
   * Commits `count` changes of varnish/default.vcl in the clone at `home` and pushes each to
   * staging through process `through(i)`; resolves with how many were taken.
   */
  async function pushChanges(input: { home: string; remote: (n: number) => string; through: (i: number) => number; count: number; attempts?: number }): Promise<number> {
    let pushed = 0;
    for (let i = 0; i < input.count; i++) {
      const url = input.remote(input.through(i));
      await writeFile(path.join(input.home, "varnish", "default.vcl"), `vcl 4.1;\n# change ${i}\nbackend default none;\n`);
      expect((await git(["commit", "--quiet", "-am", `Change ${i}`], input.home)).code).toBe(0);
      for (let attempt = 0; attempt < (input.attempts ?? 5); attempt++) {
        const result = await git(["push", "--quiet", url, "HEAD:staging"], input.home);
        if (result.code === 0) {
          pushed += 1;
          break;
        }
        // Someone moved staging meanwhile (a promotion does not; a push or an edit might): rebase and try again.
        expect((await git(["pull", "--quiet", "--rebase", url, "staging"], input.home)).code).toBe(0);
      }
    }
    return pushed;
  }

  /** The commit `ref` of application `applicationId`'s repository points at. */
  async function head(applicationId: number, ref: string): Promise<string> {
    return (await promisify(execFile)("git", ["--git-dir", path.join(scratch, "repos", `${applicationId}.git`), "rev-parse", ref])).stdout.trim();
  }

  /** Opens the config editor as `userId` typing `config edit …` to process `n`: the modal edgebot opened, and where the command answers. */
  async function openEditor(n: number, userId: string, text: string): Promise<{ view: OpenedView; responseId: string }> {
    const { body, responseId } = slashCommandBody(fake, { text, userId });
    const trigger = new URLSearchParams(body).get("trigger_id");
    expect((await signedRequest(processes[n]!.url, body)).status).toBe(200);
    const opened = await fake.waitFor(() => fake.callsOf("views.open").find((call) => call.args.trigger_id === trigger), 30_000);
    return { view: viewOf(opened), responseId };
  }

  /**
   * Submits a modal as `userId` to process `n`, as Slack sends a submission to any replica; resolves
   * with edgebot's acknowledgement, and how many earlier sends of it went unacknowledged. Slack
   * waits 3 seconds for it: past that, Bolt answers 404 and logs it, and Slack shows the person an
   * error and keeps the modal open. They submit again, and Slack sends the same view again (same
   * id), here to the next process.
   */
  async function submit(n: number, userId: string, view: OpenedView, fill: Record<string, string>): Promise<{ ack: { response_action?: string; errors?: Record<string, string> }; late: number }> {
    const viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`;
    for (let late = 0; ; late++) {
      const through = processes[(n + late) % processes.length]!;
      const overruns = () => through.run.stderr().split("not acknowledged within 3 seconds").length;
      const before = overruns();
      const response = await signedRequest(through.url, interactionBody(viewSubmissionPayload({ view, viewId, userId, fill })));
      if (response.status === 404 && late < 5) {
        await until(() => overruns() > before, { what: "Bolt's log of the acknowledgement it gave up waiting for", timeoutMs: 5000, everyMs: 20 });
        continue;
      }
      expect(response.status).toBe(200);
      const text = await response.text();
      return { ack: text === "" ? {} : JSON.parse(text), late };
    }
  }

  /** Resolves once every notification written so far has been delivered or given up. */
  async function outboxEmptied(): Promise<void> {
    await until(async () => Number((await query<{ n: string }>("select count(*) as n from outbox where delivered_at is null and given_up_at is null"))[0]!.n) === 0, { what: "the outbox to empty", timeoutMs: 120_000, everyMs: 500 });
  }

  it("commit or refuse, never lose, edits of one environment submitted at once through the three processes, alongside pushes and promotions", { timeout: 240_000 }, async () => {
    expect((await type(0, "org create studio")).answer).toContain("Created org studio");
    await type(1, `org channel studio <#${studioChannel}|studio>`);
    expect((await type(2, "app create shop.client.test --org studio --name shop")).answer).toContain("Created studio/shop");
    expect((await type(0, "env create studio/shop staging")).answer).toContain("Created studio/shop staging");
    // Ada, an admin, and Dan, a developer, whom edgebot knows from a first command.
    for (const person of [ada, dan]) await type(1, "org list", person);
    expect((await type(2, `member invite studio <@${ada}|ada> --role admin`)).answer).toContain("is now admin of studio");
    expect((await type(0, `member invite studio <@${dan}|dan> --role developer`)).answer).toContain("is now developer of studio");
    const token = /edgebot_pat_[A-Za-z0-9_-]{43}/.exec((await type(1, "token create")).answer)![0];
    const [shop] = await query<{ id: number }>("select id from applications where slug = 'shop'");
    const stagingBefore = await head(shop!.id, "refs/heads/staging");
    const productionBefore = await head(shop!.id, "refs/heads/production");

    // Pushes to staging through each process in turn, meanwhile.
    const home = path.join(scratch, "shop-client");
    expect((await git(["clone", "--quiet", "--branch", "staging", remote(0, "studio/shop", token), home], scratch)).code).toBe(0);
    const pushes = pushChanges({ home, remote: (n) => remote(n, "studio/shop", token), through: (i) => i % 3, count: 6, attempts: 20 });

    // Olga, Ada and Dan make two edits each of staging's section.config.json, in waves: in each, all
    // who still have an edit to make open the editor, then submit it at the same moment, each
    // through another process than the one that opened it. Opened from the same head, one edit of
    // a wave can be committed; the others are refused, and opened again in the next wave. A
    // promotion of staging into production goes with each wave's submissions.
    const editors = [owner, ada, dan];
    const editsEach = 2;
    const waves = (async () => {
      const remaining = editors.map((_, k) => Array.from({ length: editsEach }, (_, i) => `p${k}e${i}.origin.test`));
      const committed: Array<{ address: string; shortCommit: string; responseId: string }> = [];
      const refused: string[] = [];
      const promoted: string[] = [];
      let late = 0;
      for (let wave = 0; remaining.some((addresses) => addresses.length > 0); wave++) {
        expect(wave, "waves before every edit was committed").toBeLessThan(40);
        const editing = editors.map((person, k) => ({ person, k, address: remaining[k]![0] })).filter((edit) => edit.address !== undefined);
        const opened = await Promise.all(editing.map((edit) => openEditor((edit.k + wave) % 3, edit.person, "config edit studio/shop staging section.config.json")));
        const promotion = type(wave % 3, "env promote studio/shop staging production");
        const submitted = await Promise.all(
          editing.map((edit, e) => {
            const { view } = opened[e]!;
            const shown = view.blocks.find((block) => block.block_id === "content")!.element!.initial_value;
            // The editor shows the file as it is at the head it was opened from.
            expect(shown, `the editor shows section.config.json; it said: ${JSON.stringify(view.blocks[0])}, ${view.private_metadata}`).toBeDefined();
            const content = JSON.parse(shown!) as { origin: { address: string } };
            content.origin.address = edit.address!;
            return submit((edit.k + wave + 1) % 3, edit.person, view, { content: `${JSON.stringify(content, null, 2)}\n`, message: `Fetch from ${edit.address}` });
          }),
        );
        promoted.push((await promotion).answer);
        for (const [e, edit] of editing.entries()) {
          const { ack } = submitted[e]!;
          const { responseId } = opened[e]!;
          late += submitted[e]!.late;
          // Committed by this submission, or (`{}`) by an earlier send of the same modal that Slack gave up waiting for.
          if (ack.response_action === "clear" || (submitted[e]!.late > 0 && Object.keys(ack).length === 0)) {
            const answers = await fake.waitFor(() => (fake.responses.get(responseId)?.length ?? 0) >= 2 && fake.responses.get(responseId), 30_000);
            const confirmed = plainText({ text: String(answers[1]!.text), blocks: [] });
            expect(confirmed).toContain("Committed section.config.json to studio/shop staging");
            committed.push({ address: edit.address!, shortCommit: /as `?([0-9a-f]{7,40})/.exec(confirmed)![1]!, responseId });
            remaining[edit.k]!.shift();
          } else {
            // Refused, in words the person can act on: never lost silently, never "something went wrong".
            expect(ack).toEqual({ response_action: "errors", errors: { content: expect.stringContaining("changed since you opened it") } });
            refused.push(responseId);
          }
        }
      }
      return { committed, refused, promoted, late };
    })();
    // Both are waited for, so that the pushes do not outlive a failure of the edits.
    await Promise.allSettled([waves, pushes]);
    const { committed, refused, promoted, late } = await waves;
    if (late > 0) console.info(`${late} submissions were not acknowledged within Slack's 3 seconds and were sent again`);
    expect(await pushes).toBe(6);
    for (const answer of promoted) expect(answer).toMatch(/Promoted staging into studio\/shop production|nothing to promote|changed while it was being promoted/);
    expect(committed).toHaveLength(editors.length * editsEach);
    expect(refused.length, "edits refused because another was committed first").toBeGreaterThan(0);
    // Each command answered once more when its edit was committed, never when it was refused.
    for (const { responseId } of committed) expect(fake.responses.get(responseId)).toHaveLength(2);
    for (const responseId of refused) expect(fake.responses.get(responseId)).toHaveLength(1);

    // Each committed edit is in staging's history once, as its person wrote it, and audited once.
    const repository = path.join(scratch, "repos", `${shop!.id}.git`);
    const gitDir = (args: string[]) => promisify(execFile)("git", ["--git-dir", repository, ...args]);
    const edits = await query<{ commit: string; message: string }>("select details->>'commit' as commit, details->>'message' as message from audit_events where action = 'config.edit' and target = 'studio/shop staging'");
    expect(edits.map((edit) => edit.message).sort()).toEqual(committed.map((edit) => `Fetch from ${edit.address}`).sort());
    for (const { address, shortCommit } of committed) {
      const { commit } = edits.find((edit) => edit.message === `Fetch from ${address}`)!;
      expect(commit.startsWith(shortCommit)).toBe(true);
      expect((await gitDir(["show", `${commit}:section.config.json`])).stdout).toContain(address);
      await gitDir(["merge-base", "--is-ancestor", commit, "refs/heads/staging"]);
    }

    // The audit follows the refs: staging's edits and pushes, in the order they were recorded, lead
    // from its first head to its last one, each starting where the one before ended, and bring
    // exactly the commits staging gained; production's promotions do the same.
    const stagingMoves = await query<{ from: string; to: string; commits: number }>(
      `select coalesce(details->>'base', details->>'from') as from, coalesce(details->>'commit', details->>'to') as to, coalesce((details->>'commits')::int, 1) as commits
         from audit_events where action in ('config.edit', 'git.push') and target = 'studio/shop staging' order by id`,
    );
    expect(stagingMoves).toHaveLength(committed.length + 6);
    expect(stagingMoves.map((move) => move.from)).toEqual([stagingBefore, ...stagingMoves.slice(0, -1).map((move) => move.to)]);
    const stagingAfter = await head(shop!.id, "refs/heads/staging");
    expect(stagingMoves.at(-1)!.to).toBe(stagingAfter);
    expect(Number((await gitDir(["rev-list", "--count", `${stagingBefore}..${stagingAfter}`])).stdout)).toBe(stagingMoves.reduce((sum, move) => sum + move.commits, 0));
    const promotionsAudited = await query<{ previous: string; commit: string }>("select details->>'previous' as previous, details->>'commit' as commit from audit_events where action = 'env.promote' and target = 'studio/shop production' order by id");
    expect(promotionsAudited.length).toBe(promoted.filter((answer) => answer.includes("Promoted")).length);
    expect(promotionsAudited.map((move) => move.previous)).toEqual([productionBefore, ...promotionsAudited.slice(0, -1).map((move) => move.commit)]);
    expect(promotionsAudited.at(-1)?.commit ?? productionBefore).toBe(await head(shop!.id, "refs/heads/production"));
    const fsck = await gitDir(["fsck", "--strict"]);
    expect(fsck.stderr).not.toMatch(/error|missing|broken/i);

    // Every announcement delivered once: one per committed edit, one per push and promotion.
    await outboxEmptied();
    const kinds = await query<{ kind: string; n: string }>("select kind, count(*) as n from outbox where channel_id = $1 and delivered_at is not null group by kind", [studioChannel]);
    const delivered = Object.fromEntries(kinds.map((row) => [row.kind, Number(row.n)]));
    expect(delivered).toMatchObject({ "config.edited": committed.length, "git.pushed": 6, "env.promoted": promotionsAudited.length });
    const totalDelivered = Object.values(delivered).reduce((sum, n) => sum + n, 0);
    expect(fake.callsOf("chat.postMessage").filter((call) => call.args.channel === studioChannel)).toHaveLength(totalDelivered);
  });

  it("make one decision when Approve on one invitation is clicked at the same moment through the three processes", { timeout: 120_000 }, async () => {
    // Cleo has never used edgebot: the approval finds her in the workspace by email.
    const email = "cleo@client.example";
    expect((await type(1, `member invite studio <mailto:${email}|${email}> --role developer`, dan)).answer).toMatch(/Asked to invite/);
    const [invitation] = await query<{ id: number }>("select id from invitations where invitee_email = $1", [email]);
    const id = String(invitation!.id);
    // The request is posted before anyone can click its buttons.
    await outboxEmptied();
    const requests = Number((await query<{ n: string }>("select count(*) as n from outbox where kind = 'invitation.requested' and payload->>'invitation' = $1 and delivered_at is not null", [id]))[0]!.n);
    expect(requests).toBeGreaterThan(0);

    // Olga, the owner, and Ada twice (a double click), at once, each click to another process.
    const clicks: Array<[number, string]> = [[0, owner], [1, ada], [2, ada]];
    const seen = await Promise.all(
      clicks.map(async ([n, userId]) => {
        const responseId = randomBytes(6).toString("hex");
        const payload = blockActionPayload({ userId, actionId: "invitation_approve", value: id, responseUrl: fake.responseUrl(responseId) });
        expect((await signedRequest(processes[n]!.url, interactionBody(payload))).status).toBe(200);
        const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0], 30_000);
        return plainText({ text: String(answer.text), blocks: [] });
      }),
    );
    expect(seen.filter((text) => text.includes("is now developer of studio"))).toHaveLength(1);
    expect(seen.filter((text) => text.includes(`invitation ${id} was already approved by`))).toHaveLength(2);

    const memberships = await query("select m.role from memberships m join users u on u.id = m.user_id join orgs o on o.id = m.org_id where u.email = $1 and o.slug = 'studio'", [email]);
    expect(memberships).toEqual([{ role: "developer" }]);
    const audited = await query<{ action: string; n: string }>("select action, count(*) as n from audit_events where details->>'invitation' = $1 group by action order by action", [id]);
    expect(audited.map((row) => [row.action, Number(row.n)])).toEqual([["invitation.accept", 1], ["invitation.approve", 1], ["invitation.create", 1]]);

    // Cleo is told once, Dan who asked once, and each copy of the request is edited once.
    await outboxEmptied();
    const written = await query<{ kind: string; n: string }>("select kind, count(*) as n from outbox where payload->>'invitation' = $1 or (kind = 'member.joined' and channel_id = $2) group by kind", [id, cleo]);
    expect(Object.fromEntries(written.map((row) => [row.kind, Number(row.n)]))).toEqual({ "invitation.requested": requests, "invitation.settled": requests, "invitation.decided": 1, "member.joined": 1 });
    expect(fake.callsOf("chat.postMessage").filter((call) => call.args.channel === cleo)).toHaveLength(1);
    expect(fake.callsOf("chat.postMessage").filter((call) => call.args.channel === dan && String(call.args.text).includes("was approved"))).toHaveLength(1);
    expect(fake.callsOf("chat.update").filter((call) => String(call.args.text).includes(email))).toHaveLength(requests);
  });

  it("answer every command once, deliver every notification once, keep git whole, and carry on when one is killed", { timeout: 300_000 }, async () => {
    expect((await type(0, "org create agency")).answer).toContain("Created org agency");
    await type(1, `org channel agency <#${channel}|ops>`);
    expect((await type(2, "app create www.client.test --org agency --name www")).answer).toContain("Created agency/www");
    expect((await type(0, "env create agency/www staging")).answer).toContain("Created agency/www staging");
    const token = /edgebot_pat_[A-Za-z0-9_-]{43}/.exec((await type(1, "token create")).answer)![0];

    // Pushes to staging, through the first and the third process in turn, while commands go round.
    const home = path.join(scratch, "client");
    expect((await git(["clone", "--quiet", "--branch", "staging", remote(0, "agency/www", token), home], scratch)).code).toBe(0);
    const pushes = pushChanges({ home, remote: (n) => remote(n, "agency/www", token), through: (i) => (i % 2 === 0 ? 0 : 2), count: 9 });

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
    expect(await pushes).toBe(9);

    // Every command answered exactly once.
    expect(answered).toHaveLength(300);
    for (const id of answered) expect(fake.responses.get(id)).toHaveLength(1);

    // Every notification delivered: the outbox empties (the killed process's leases are taken over).
    await outboxEmptied();
    const [outbox] = await query<{ delivered: string; taken_over: string }>(
      "select count(*) as delivered, count(*) filter (where delivered_at >= created_at + make_interval(secs => $2)) as taken_over from outbox where channel_id = $1 and delivered_at is not null",
      [channel, deliveryLeaseSeconds - 1],
    );
    const delivered = Number(outbox!.delivered);
    expect(delivered).toBeGreaterThan(0);
    // Each row is one post, but for the window outbox.ts names: killed after Slack took a post and
    // before it marked the row, the process leaves that row to be posted again when its lease
    // ends. It delivers one row at a time, so at most one post is repeated, and only a row whose
    // lease was taken over.
    const repeated = fake.callsOf("chat.postMessage").filter((call) => call.args.channel === channel).length - delivered;
    expect(repeated).toBeGreaterThanOrEqual(0);
    expect(repeated).toBeLessThanOrEqual(Math.min(1, Number(outbox!.taken_over)));

    // Git is whole, and production's head is the last promotion's commit.
    const [app] = await query<{ id: number }>("select id from applications where slug = 'www'");
    const repository = path.join(scratch, "repos", `${app!.id}.git`);
    const fsck = await promisify(execFile)("git", ["--git-dir", repository, "fsck", "--strict"]);
    expect(fsck.stderr).not.toMatch(/error|missing|broken/i);
    const production = (await promisify(execFile)("git", ["--git-dir", repository, "rev-parse", "refs/heads/production"])).stdout.trim();
    const [lastPromotion] = await query<{ commit: string }>("select details->>'commit' as commit from audit_events where action = 'env.promote' and target = 'agency/www production' order by id desc limit 1");
    expect(production).toBe(lastPromotion!.commit);
    const staging = (await promisify(execFile)("git", ["--git-dir", repository, "rev-parse", "refs/heads/staging"])).stdout.trim();
    expect(staging).toBe((await git(["rev-parse", "HEAD"], home)).stdout.trim());
    const [pushAudits] = await query<{ n: string }>("select count(*) as n from audit_events where action = 'git.push' and target = 'agency/www staging'");
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
