import { until } from "../../support/until.ts";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { PassThrough, Readable } from "node:stream";
import type { Kysely } from "kysely";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { notificationMessage } from "../../../src/bot/blocks/notifications.ts";
import { maxBlocks, maxSectionText } from "../../../src/bot/message.ts";
import { printNotifications, runShell } from "../../../src/bot/shell.ts";
import { SlackInstallations } from "../../../src/bot/slack/installations.ts";
import { TokenCipher } from "../../../src/bot/slack/token-cipher.ts";
import { singleWorkspaceToken, startOutboxWorker, type OutboxWorker, type OutboxWorkerOptions } from "../../../src/bot/slack/outbox.ts";
import { addDomain } from "../../../src/core/domains.ts";
import { notify, outboxChannel, type Notification } from "../../../src/core/notifications.ts";
import { setOrgChannel } from "../../../src/core/orgs.ts";
import { openDatabase, type DatabaseHandle } from "../../../src/db/connect.ts";
import type { Database } from "../../../src/db/schema.ts";
import { FakeSlack, type RecordedCall } from "../../support/fake-slack.ts";
import { buildApplication, buildOrg, buildUser, unique, useWorld, type TestUser } from "../../support/world.ts";

const world = useWorld();
const fake = new FakeSlack();
const logger = pino({ level: "silent" });
const workers: OutboxWorker[] = [];
const extraHandles: DatabaseHandle[] = [];

beforeAll(async () => {
  await fake.start();
});

// A polling worker left running would deliver the next test's rows.
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
});

afterAll(async () => {
  for (const handle of extraHandles) await handle.close();
  await fake.stop();
});

/** Single-workspace mode against the fake Slack: every row is posted with one token. */
function oneWorkspace(): Pick<OutboxWorkerOptions, "botTokenFor" | "slackApiUrl"> {
  return { botTokenFor: singleWorkspaceToken("xoxb-test"), slackApiUrl: fake.apiUrl };
}

/** A worker that only delivers when the test asks (its poll is far away), unless `pollMs` says otherwise. */
function worker(options: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
  const started = startOutboxWorker({ platform: world.platform, ...oneWorkspace(), logger, pollMs: 60_000, backoffBaseMs: 50, backoffMaxMs: 400, ...options });
  workers.push(started);
  return started;
}

/** A database handle of its own, as another edgebot process would have (the same one on embedded PGlite). */
async function secondHandle(): Promise<Kysely<Database>> {
  if (!world.database.url) return world.platform.db;
  const handle = await openDatabase({ databaseUrl: world.database.url, poolSize: 4 });
  extraHandles.push(handle);
  return handle.db;
}

function freshChannel(): string {
  return `C${unique("CH").toUpperCase()}`;
}

/** An owner and an org whose notifications go to `channel`. */
async function orgWithChannel(channel: string): Promise<{ owner: TestUser; org: string; orgId: number }> {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  await setOrgChannel(world.platform, { actor: owner, org, channelId: channel, teamId: "T0TEST" });
  const { id } = await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
  return { owner, org, orgId: id };
}

/** Writes `count` domain-added notifications for `channel` through notify, committed; returns their hostnames. */
async function queue(channel: string, count = 1): Promise<string[]> {
  return (await queueBy(channel, count)).hostnames;
}

/** Like `queue`, and returns who caused the notifications. */
async function queueBy(channel: string, count = 1): Promise<{ owner: TestUser; hostnames: string[] }> {
  const { owner, org, orgId } = await orgWithChannel(channel);
  const hostnames = Array.from({ length: count }, () => `${unique("n")}.example.com`);
  await world.platform.db.transaction().execute(async (tx) => {
    for (const hostname of hostnames) {
      await notify(tx, { org: { id: orgId }, actor: owner, kind: "domain.added", payload: { app: `${org}/www`, env: "production", hostname } });
    }
  });
  return { owner, hostnames };
}

/** A private channel: the bot is not in it, and joining it fails with `error`. */
function refusesTheBot(channel: string, error: string): void {
  fake.on("chat.postMessage", (call) => (call.args.channel === channel ? { body: { ok: false, error: "not_in_channel" } } : undefined));
  fake.on("conversations.join", (call) => (call.args.channel === channel ? { body: { ok: false, error } } : undefined));
}

/** The Slack user id of a test user in the test workspace. */
async function chatUserId(user: TestUser): Promise<string> {
  const row = await world.platform.db.selectFrom("user_identities").select("chat_user_id").where("user_id", "=", user.id).where("team_id", "=", "T0TEST").executeTakeFirstOrThrow();
  return row.chat_user_id;
}

function postsTo(channel: string): RecordedCall[] {
  return fake.callsOf("chat.postMessage").filter((call) => call.args.channel === channel);
}

async function rowsFor(channel: string) {
  return world.platform.db
    .selectFrom("outbox")
    .select(["id", "kind", "payload", "attempts", "delivered_at", "message_ts", "last_error", "given_up_at", "next_attempt_at"])
    .where("channel_id", "=", channel)
    .orderBy("id")
    .execute();
}

describe("the outbox worker", () => {
  it("posts a notification once, with its rendered text and blocks, and records the message ts", async () => {
    const channel = freshChannel();
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    await setOrgChannel(world.platform, { actor: owner, org, channelId: channel, teamId: "T0TEST" });
    const hostname = `${unique("added")}.example.com`;
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname });

    expect(await worker().deliverDue()).toBe(1);
    expect(await worker().deliverDue()).toBe(0);

    const posts = postsTo(channel);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.args.text).toBe(`:globe_with_meridians: *${hostname}* was added to *${ref}* production.\nby ${owner.displayName} (${owner.email})`);
    expect(posts[0]!.args.blocks).toHaveLength(2);
    const [row] = await rowsFor(channel);
    expect(row).toMatchObject({ attempts: 1, last_error: null, given_up_at: null });
    expect(row!.delivered_at).toBeInstanceOf(Date);
    expect(row!.message_ts).toMatch(/^\d+\.\d+$/);
  });

  it("is woken by the committing transaction (LISTEN/NOTIFY) and posts without waiting for its poll", async () => {
    const channel = freshChannel();
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    // Its poll is an hour away: only the wake-up can deliver within the test.
    const woken = worker({ pollMs: 3_600_000 });
    const unlisten = await world.database.listen(outboxChannel, () => woken.wake());
    try {
      await setOrgChannel(world.platform, { actor: owner, org, channelId: channel, teamId: "T0TEST" });
      const hostname = `${unique("woken")}.example.com`;
      const committed = performance.now();
      await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname });
      const [post] = await until(() => (postsTo(channel).length > 0 ? postsTo(channel) : undefined), { what: "the post the wake-up sends", timeoutMs: 10_000, everyMs: 5 });
      expect(String(post!.args.text)).toContain(hostname);
      expect(performance.now() - committed).toBeLessThan(10_000);
      // Marked delivered right after Slack took it.
      expect(await until(async () => (await rowsFor(channel))[0]!.delivered_at ?? undefined, { what: "the row marked delivered", timeoutMs: 5_000, everyMs: 5 })).toBeInstanceOf(Date);
    } finally {
      await unlisten();
    }
  });

  it("a 429 with Retry-After delays the message and pauses its workspace, then delivers once", async () => {
    const channel = freshChannel();
    const [first, second] = await queue(channel, 2);
    fake.replyOnce("chat.postMessage", { status: 429, headers: { "retry-after": "1" }, body: { ok: false, error: "ratelimited" } });

    worker({ pollMs: 20 });
    const posts = await fake.waitFor(() => postsTo(channel).length >= 3 && postsTo(channel), 5000);

    const limitedAt = posts[0]!.at;
    // Nothing went out to that workspace during the pause, not even the other channel-mate.
    expect(posts[1]!.at - limitedAt).toBeGreaterThanOrEqual(1000);
    const delivered = posts.slice(1).map((call) => String(call.args.text));
    expect(delivered.filter((text) => text.includes(first!))).toHaveLength(1);
    expect(delivered.filter((text) => text.includes(second!))).toHaveLength(1);
    const rows = await until(async () => {
      const found = await rowsFor(channel);
      return found.every((row) => row.delivered_at !== null) && found;
    }, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    // A rate limit is not the message's fault: it does not use up an attempt.
    expect(rows.map((row) => row.attempts)).toEqual([1, 1]);
  });

  it("a 500 is retried with backoff and then delivered once", async () => {
    const channel = freshChannel();
    await queue(channel);
    fake.replyOnce("chat.postMessage", { status: 500, body: { ok: false } });

    worker({ pollMs: 10, backoffBaseMs: 200 });
    const posts = await fake.waitFor(() => postsTo(channel).length >= 2 && postsTo(channel), 5000);

    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(200);
    const [row] = await until(async () => {
      const found = await rowsFor(channel);
      return found[0]?.delivered_at ? found : undefined;
    }, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    expect(row).toMatchObject({ attempts: 2, last_error: null });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(postsTo(channel)).toHaveLength(2);
  });

  it("gives up after the last attempt and keeps the last error", async () => {
    const channel = freshChannel();
    await queue(channel);
    fake.on("chat.postMessage", (call) => (call.args.channel === channel ? { status: 503, body: { ok: false } } : undefined));

    const delivering = worker({ maxAttempts: 3, backoffBaseMs: 1, backoffMaxMs: 1 });
    await until(async () => {
      await delivering.deliverDue();
      return (await rowsFor(channel))[0]!.given_up_at !== null;
    }, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });

    expect(postsTo(channel)).toHaveLength(3);
    const [row] = await rowsFor(channel);
    expect(row).toMatchObject({ attempts: 3, delivered_at: null, last_error: "gave up after 3 attempts: HTTP 503 from Slack" });
    await delivering.deliverDue();
    expect(postsTo(channel)).toHaveLength(3);
  });

  it("a network error is retried, and a worker with a reachable Slack delivers it", async () => {
    const channel = freshChannel();
    const [hostname] = await queue(channel);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    expect(await worker({ slackApiUrl: `http://127.0.0.1:${port}/api/` }).deliverDue()).toBe(0);
    const [failed] = await rowsFor(channel);
    expect(failed).toMatchObject({ attempts: 1, delivered_at: null, given_up_at: null });
    expect(failed!.last_error).toMatch(/^could not reach Slack/);

    const delivering = worker();
    await until(async () => (await delivering.deliverDue()) === 1, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    expect(postsTo(channel).map((call) => String(call.args.text).includes(hostname!))).toEqual([true]);
    expect((await rowsFor(channel))[0]).toMatchObject({ attempts: 2, last_error: null });
  });

  it("a notification written before the bot was killed is delivered once by the next one to start", async () => {
    const channel = freshChannel();
    await queue(channel);
    // The "killed" bot wrote the row and never ran a worker; a new process starts with its own client and database handle.
    const restarted = startOutboxWorker({ platform: { db: await secondHandle() }, ...oneWorkspace(), logger, pollMs: 20 });
    workers.push(restarted);

    await fake.waitFor(() => postsTo(channel).length === 1, 5000);
    await until(async () => (await rowsFor(channel))[0]!.delivered_at !== null, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    await restarted.stop();
    expect(await worker().deliverDue()).toBe(0);
    expect(postsTo(channel)).toHaveLength(1);
  });

  it("two workers delivering at once post each of 50 messages exactly once", async () => {
    const channel = freshChannel();
    const hostnames = await queue(channel, 50);
    const one = worker({ batchSize: 100 });
    const other = worker({ batchSize: 100, platform: { db: await secondHandle() } });

    const [a, b] = await Promise.all([one.deliverDue(), other.deliverDue()]);

    expect(a + b).toBe(50);
    // Both took part: the rows were shared out, not handed to whoever came first.
    expect(Math.min(a, b)).toBeGreaterThan(0);
    const texts = postsTo(channel).map((call) => String(call.args.text));
    expect(texts).toHaveLength(50);
    for (const hostname of hostnames) expect(texts.filter((text) => text.includes(`*${hostname}*`))).toHaveLength(1);
    expect((await rowsFor(channel)).every((row) => row.delivered_at !== null && row.attempts === 1)).toBe(true);
  });

  it("a message in flight is not taken by another worker", async () => {
    const channel = freshChannel();
    await queue(channel);
    fake.delay("chat.postMessage", 300);
    try {
      const slow = worker().deliverDue();
      await fake.waitFor(() => postsTo(channel).length === 1);

      // The first worker holds the row's lease while Slack is answering: the second skips it.
      expect(await worker({ platform: { db: await secondHandle() } }).deliverDue()).toBe(0);
      expect(await slow).toBe(1);
    } finally {
      fake.delay("chat.postMessage", 0);
    }
    expect(postsTo(channel)).toHaveLength(1);
  });

  it("leaves the database free for other work while Slack is answering", async () => {
    const channel = freshChannel();
    await queue(channel);
    fake.delay("chat.postMessage", 1000);
    try {
      let delivered = false;
      const slow = worker()
        .deliverDue()
        .then((count) => {
          delivered = true;
          return count;
        });
      await fake.waitFor(() => postsTo(channel).length === 1);
      // On the embedded database (one connection) a transaction held across the post would block this.
      await world.platform.db.selectFrom("outbox").select("id").limit(1).execute();
      expect(delivered).toBe(false);
      expect(await slow).toBe(1);
    } finally {
      fake.delay("chat.postMessage", 0);
    }
  });

  it("joins a public channel it is not in, then posts", async () => {
    const channel = freshChannel();
    await queue(channel);
    let joined = false;
    fake.on("chat.postMessage", (call) => (call.args.channel === channel && !joined ? { body: { ok: false, error: "not_in_channel" } } : undefined));
    fake.on("conversations.join", (call) => {
      if (call.args.channel === channel) joined = true;
      return undefined;
    });

    expect(await worker().deliverDue()).toBe(1);

    expect(fake.callsOf("conversations.join").filter((call) => call.args.channel === channel)).toHaveLength(1);
    expect(postsTo(channel)).toHaveLength(2);
    expect((await rowsFor(channel))[0]).toMatchObject({ attempts: 1, last_error: null });
  });

  it("gives up on a private channel it cannot join, and tells the person whose change it was, once", async () => {
    const channel = freshChannel();
    const { owner } = await queueBy(channel, 3);
    const ownerInSlack = await chatUserId(owner);
    refusesTheBot(channel, "method_not_supported_for_channel_type");
    const delivering = worker();

    // Three notifications fail together: their author gets one message about it.
    expect(await delivering.deliverDue()).toBe(1);
    expect(await delivering.deliverDue()).toBe(0);

    expect(postsTo(channel)).toHaveLength(3);
    const rows = await rowsFor(channel);
    expect(rows.every((row) => row.given_up_at instanceof Date)).toBe(true);
    expect(rows[0]!.last_error).toMatch(/cannot join it \(method_not_supported_for_channel_type\): invite it/);
    const told = postsTo(ownerInSlack);
    expect(told).toHaveLength(1);
    expect(told[0]!.token).toBe("xoxb-test");
    expect(String(told[0]!.args.text)).toContain(`<#${channel}>`);
    expect(String(told[0]!.args.text)).toContain("/invite @edgebot");
    expect(String(told[0]!.args.text)).toContain("set the channel again");
  });

  it("tells the person once even when Slack fails the message to them at first", async () => {
    const channel = freshChannel();
    const { owner } = await queueBy(channel);
    const ownerInSlack = await chatUserId(owner);
    refusesTheBot(channel, "channel_not_found");
    let failedOnce = false;
    fake.on("chat.postMessage", (call) => {
      if (call.args.channel !== ownerInSlack || failedOnce) return undefined;
      failedOnce = true;
      return { status: 500, body: { ok: false } };
    });
    const delivering = worker({ backoffBaseMs: 1, backoffMaxMs: 1 });

    await until(async () => (await delivering.deliverDue()) === 1, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await delivering.deliverDue()).toBe(0);

    // The message to them is an outbox row of its own: retried after the 500, posted once, and the
    // channel's notification (given up at once) never asked for a second one.
    expect(postsTo(channel)).toHaveLength(1);
    expect(postsTo(ownerInSlack)).toHaveLength(2);
    const toOwner = await rowsFor(ownerInSlack);
    expect(toOwner).toHaveLength(1);
    expect(toOwner[0]).toMatchObject({ kind: "channel.unreachable", attempts: 2, last_error: null });
    expect((await rowsFor(channel))[0]!.last_error).toMatch(/cannot join it \(channel_not_found\)/);
  });

  it("gives up on a channel that does not exist instead of retrying forever", async () => {
    const channel = freshChannel();
    await queue(channel);
    fake.on("chat.postMessage", (call) => (call.args.channel === channel ? { body: { ok: false, error: "channel_not_found" } } : undefined));
    const delivering = worker();

    expect(await delivering.deliverDue()).toBe(0);
    expect(await delivering.deliverDue()).toBe(0);

    expect(postsTo(channel)).toHaveLength(1);
    const [row] = await rowsFor(channel);
    expect(row).toMatchObject({ attempts: 1, delivered_at: null });
    expect(row!.given_up_at).toBeInstanceOf(Date);
    expect(row!.last_error).toMatch(/channel_not_found/);
  });
});

describe("the outbox worker in several workspaces", () => {
  const installations = () => new SlackInstallations(world.platform.db, new TokenCipher(randomBytes(32)));

  /** Installs edgebot in a workspace, as the OAuth flow stores it. */
  async function install(store: SlackInstallations, teamId: string, botToken: string): Promise<void> {
    await store.storeInstallation({
      team: { id: teamId },
      enterprise: undefined,
      user: { id: "UINSTALLER", token: undefined, scopes: undefined },
      bot: { token: botToken, id: `B${teamId}`, userId: `U${teamId}BOT`, scopes: ["chat:write"] },
      isEnterpriseInstall: false,
    });
  }

  /** An org whose channel was set in workspace `teamId`; the function writes one notification for it and returns its hostname. */
  async function channelSetIn(teamId: string, channel: string): Promise<() => Promise<string>> {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    await setOrgChannel(world.platform, { actor: owner, org, channelId: channel, teamId });
    const { id } = await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
    return async () => {
      const hostname = `${unique("w")}.example.com`;
      await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id }, actor: owner, kind: "domain.added", payload: { app: `${org}/www`, env: "production", hostname } }));
      return hostname;
    };
  }

  /** An org whose channel was set in workspace `teamId`, with one notification waiting for it; returns its hostname. */
  async function queueIn(teamId: string, channel: string): Promise<string> {
    return (await channelSetIn(teamId, channel))();
  }

  /** Two workspaces with edgebot installed, each with its own bot token and channel. */
  async function twoWorkspaces() {
    const store = installations();
    const [alpha, beta] = [unique("TALPHA").toUpperCase(), unique("TBETA").toUpperCase()];
    const tokens = { alpha: `xoxb-${alpha.toLowerCase()}`, beta: `xoxb-${beta.toLowerCase()}` };
    await install(store, alpha, tokens.alpha);
    await install(store, beta, tokens.beta);
    return { store, alpha, beta, tokens, channels: { alpha: freshChannel(), beta: freshChannel() }, botTokenFor: (teamId: string | null) => store.botTokenFor(teamId) };
  }

  /** Slack answers the next post made with `token` (that workspace's) with 429 and Retry-After. */
  function rateLimitsOnce(token: string, retryAfterSeconds: number): void {
    let limited = false;
    fake.on("chat.postMessage", (call) => {
      if (call.token !== token || limited) return undefined;
      limited = true;
      return { status: 429, headers: { "retry-after": String(retryAfterSeconds) }, body: { ok: false, error: "ratelimited" } };
    });
  }

  it("a 429 in one workspace holds back only its notifications: the other's go out in the same pass, and its own after the pause", async () => {
    const { alpha, beta, tokens, channels, botTokenFor } = await twoWorkspaces();
    const alphaHostnames = [await queueIn(alpha, channels.alpha), await queueIn(alpha, channels.alpha)];
    const betaHostnames = [await queueIn(beta, channels.beta), await queueIn(beta, channels.beta)];
    const secondBefore = (await rowsFor(channels.alpha))[1]!;
    rateLimitsOnce(tokens.alpha, 1);
    const delivering = worker({ botTokenFor });

    // One pass: alpha's first post is refused, and beta's two still go out.
    expect(await delivering.deliverDue()).toBe(2);
    const [limited] = postsTo(channels.alpha);
    expect(postsTo(channels.alpha)).toHaveLength(1);
    expect(String(limited!.args.text)).toContain(alphaHostnames[0]!);
    expect(postsTo(channels.beta).map((call) => [call.token, betaHostnames.findIndex((hostname) => String(call.args.text).includes(hostname))])).toEqual([
      [tokens.beta, 0],
      [tokens.beta, 1],
    ]);
    expect((await rowsFor(channels.beta)).map((row) => [row.attempts, row.delivered_at instanceof Date])).toEqual([
      [1, true],
      [1, true],
    ]);
    const [first, second] = await rowsFor(channels.alpha);
    // The refused one waits for the end of the pause without using up an attempt; the other was not even claimed.
    expect(first).toMatchObject({ attempts: 0, delivered_at: null, given_up_at: null, last_error: "rate limited: retry after 1s" });
    expect(first!.next_attempt_at.getTime()).toBeGreaterThanOrEqual(limited!.at + 1000);
    expect(second).toEqual(secondBefore);

    // During the pause a pass posts nothing to alpha and leaves its rows alone.
    expect(await delivering.deliverDue()).toBe(0);
    expect(postsTo(channels.alpha)).toHaveLength(1);
    expect((await rowsFor(channels.alpha))[1]).toEqual(secondBefore);

    let afterPause = 0;
    await until(async () => (afterPause += await delivering.deliverDue()) === 2, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    const posts = postsTo(channels.alpha);
    expect(posts).toHaveLength(3);
    expect(posts.every((call) => call.token === tokens.alpha)).toBe(true);
    expect(posts[1]!.at - limited!.at).toBeGreaterThanOrEqual(1000);
    for (const hostname of alphaHostnames) expect(posts.slice(1).filter((call) => String(call.args.text).includes(hostname))).toHaveLength(1);
    expect((await rowsFor(channels.alpha)).map((row) => [row.attempts, row.last_error, row.delivered_at instanceof Date])).toEqual([
      [1, null, true],
      [1, null, true],
    ]);
    expect(postsTo(channels.beta)).toHaveLength(2);
  });

  it("while one workspace is paused, the polling worker keeps delivering another's new notifications", async () => {
    const { alpha, beta, tokens, channels, botTokenFor } = await twoWorkspaces();
    const alphaHostname = await queueIn(alpha, channels.alpha);
    const notifyBeta = await channelSetIn(beta, channels.beta);
    rateLimitsOnce(tokens.alpha, 2);

    worker({ botTokenFor, pollMs: 20 });
    const [limited] = await fake.waitFor(() => postsTo(channels.alpha).length === 1 && postsTo(channels.alpha));
    // Written after the 429, so only a later pass can deliver it: one in the usual poll, not after the pause.
    const betaHostname = await notifyBeta();
    const [toBeta] = await fake.waitFor(() => postsTo(channels.beta).length === 1 && postsTo(channels.beta));
    expect(toBeta!.at - limited!.at).toBeLessThan(2000);
    expect(String(toBeta!.args.text)).toContain(betaHostname);
    expect(postsTo(channels.alpha)).toHaveLength(1);

    const posts = await fake.waitFor(() => postsTo(channels.alpha).length === 2 && postsTo(channels.alpha), 5000);
    expect(posts[1]!.at - limited!.at).toBeGreaterThanOrEqual(2000);
    expect(String(posts[1]!.args.text)).toContain(alphaHostname);
    const [row] = await until(async () => {
      const found = await rowsFor(channels.alpha);
      return found[0]?.delivered_at ? found : undefined;
    }, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });
    expect(row).toMatchObject({ attempts: 1, last_error: null });
  });

  it("posts each notification with the bot token of the workspace its channel was set in", async () => {
    const store = installations();
    const [alpha, beta] = [unique("TALPHA").toUpperCase(), unique("TBETA").toUpperCase()];
    await install(store, alpha, "xoxb-alpha-token");
    await install(store, beta, "xoxb-beta-token");
    const [alphaChannel, betaChannel] = [freshChannel(), freshChannel()];
    await queueIn(alpha, alphaChannel);
    await queueIn(beta, betaChannel);

    expect(await worker({ botTokenFor: (teamId) => store.botTokenFor(teamId) }).deliverDue()).toBe(2);

    expect(postsTo(alphaChannel).map((call) => call.token)).toEqual(["xoxb-alpha-token"]);
    expect(postsTo(betaChannel).map((call) => call.token)).toEqual(["xoxb-beta-token"]);
  });

  it("gives up on a notification whose workspace has no installation, saying so", async () => {
    const store = installations();
    const nowhere = unique("TGONE").toUpperCase();
    const channel = freshChannel();
    await queueIn(nowhere, channel);

    expect(await worker({ botTokenFor: (teamId) => store.botTokenFor(teamId) }).deliverDue()).toBe(0);

    expect(postsTo(channel)).toEqual([]);
    const [row] = await rowsFor(channel);
    expect(row).toMatchObject({ attempts: 1, delivered_at: null });
    expect(row!.given_up_at).toBeInstanceOf(Date);
    expect(row!.last_error).toBe(`edgebot is not installed in workspace ${nowhere} (or was uninstalled): install it again, then set the channel again`);
  });

  it("retries a notification whose workspace's token cannot be read, then gives up saying why", async () => {
    const teamId = unique("TKEY").toUpperCase();
    await install(installations(), teamId, "xoxb-under-the-old-key");
    const channel = freshChannel();
    await queueIn(teamId, channel);
    // Another key than the one the token was stored under, as after SLACK_TOKEN_KEY changed.
    const otherKey = installations();
    const delivering = worker({ botTokenFor: (team) => otherKey.botTokenFor(team), maxAttempts: 2, backoffBaseMs: 1, backoffMaxMs: 1 });

    await until(async () => {
      await delivering.deliverDue();
      return (await rowsFor(channel))[0]!.given_up_at !== null;
    }, { what: "the outbox", timeoutMs: 5000, everyMs: 20 });

    expect(postsTo(channel)).toEqual([]);
    expect((await rowsFor(channel))[0]).toMatchObject({ attempts: 2, delivered_at: null });
    expect((await rowsFor(channel))[0]!.last_error).toMatch(/^gave up after 2 attempts: could not read the workspace's bot token: /);
  });
});

describe("notification messages", () => {
  it("stay within Block Kit's limits for an environment deleted with 500 domains", () => {
    const notification = {
      id: 1,
      channelId: "C1",
      teamId: "T0TEST",
      attempts: 0,
      kind: "env.deleted",
      payload: { app: "acme/www", env: "staging", domains: Array.from({ length: 500 }, (_, i) => `host-${i}-${"x".repeat(50)}.example.com`), actor: null },
    } satisfies Notification;
    const message = notificationMessage(notification);
    expect(message.blocks.length).toBeLessThanOrEqual(maxBlocks);
    for (const block of message.blocks) {
      if (block.type === "section") expect(block.text!.text.length).toBeLessThanOrEqual(maxSectionText);
    }
    expect(message.text).toContain("…and 480 more domains");
    expect(message.text).toContain("by a user who has since left");
  });
});

describe("the local shell's notifications", () => {
  it("are printed after the command that caused them, with their channel, and only once", async () => {
    // Earlier tests leave nothing due: the shell prints only what its own commands cause.
    const channelRows = await world.platform.db.selectFrom("outbox").select("id").where("delivered_at", "is", null).where("given_up_at", "is", null).execute();
    expect(channelRows).toEqual([]);
    const user = unique("shell");
    const org = unique("sorg");
    const channel = freshChannel();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    const script = [`org create ${org}`, `org channel ${org} ${channel}`, `app create ${unique("shop")}.example.com --org ${org}`, `app list ${org}`].join("\n");

    await runShell({ platform: world.platform, user, slashCommand: "/edge", logger, input: Readable.from([script]), output, interactive: false });

    const notice = new RegExp(`\\[#${channel}\\] ${org}/\\S+ was created: production serves`, "g");
    expect(printed.match(notice)).toHaveLength(1);
    // Printed right after `app create`'s reply, before `app list`'s.
    expect(printed.indexOf("was created: production serves")).toBeLessThan(printed.indexOf(`Applications in ${org}`));
    expect(printed).toContain(`by ${user} (${user}@localhost)`);
    expect(await printNotifications(world.platform, output)).toBe(0);
  });
});
