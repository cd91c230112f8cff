import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { say } from "../../../src/bot/message.ts";
import { SlackCallFailed, SlackSpeaker } from "../../../src/bot/slack/speaker.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { unique } from "../../support/world.ts";

const fake = new FakeSlack();
const token = "xoxb-speaker-test";

beforeAll(async () => {
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

function freshChannel(): string {
  return `C${unique("SPK").toUpperCase()}`;
}

function postsTo(channel: string) {
  return fake.callsOf("chat.postMessage").filter((call) => call.args.channel === channel);
}

/** What a call the speaker gave up on failed with. */
async function failureOf(attempt: Promise<unknown>): Promise<SlackCallFailed> {
  const error = await attempt.then(
    () => undefined,
    (failed: unknown) => failed,
  );
  expect(error).toBeInstanceOf(SlackCallFailed);
  return error as SlackCallFailed;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("the speaker, while someone waits for its answer", () => {
  // Made in each test: the fake's port is known once it has started.
  const speaker = () => new SlackSpeaker({ apiUrl: fake.apiUrl });
  const bot = () => speaker().bot(token);

  it("tries a message Slack fails with a 503 twice more, and posts it once when Slack answers", async () => {
    const channel = freshChannel();
    fake.replyOnce("chat.postMessage", { status: 503, body: { ok: false } });
    fake.replyOnce("chat.postMessage", { status: 503, body: { ok: false } });
    const posted = await bot().post(channel, say("hello"));
    expect(posted.channel).toBe(channel);
    expect(posted.ts).toMatch(/^\d+\.\d+$/);
    expect(postsTo(channel)).toHaveLength(3);
    expect(postsTo(channel).every((call) => call.token === token)).toBe(true);
  });

  it("gives up after its third try while Slack keeps failing, saying it may work later", async () => {
    const channel = freshChannel();
    for (let time = 0; time < 3; time += 1) fake.replyOnce("chat.postMessage", { status: 500, body: { ok: false } });
    const failed = await failureOf(bot().post(channel, say("hello")));
    expect(failed.failure).toEqual({ kind: "http", status: 500 });
    expect(failed.transient).toBe(true);
    expect(postsTo(channel)).toHaveLength(3);
  });

  it("waits out a short Retry-After, and refuses at once to wait a long one", async () => {
    const channel = freshChannel();
    fake.replyOnce("chat.postMessage", { status: 429, headers: { "retry-after": "1" }, body: { ok: false, error: "ratelimited" } });
    const started = Date.now();
    await bot().post(channel, say("after the wait"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(postsTo(channel)).toHaveLength(2);

    const later = freshChannel();
    fake.replyOnce("chat.postMessage", { status: 429, headers: { "retry-after": "30" }, body: { ok: false, error: "ratelimited" } });
    const failed = await failureOf(bot().post(later, say("not waiting that long")));
    expect(failed.failure).toEqual({ kind: "rate_limited", retryAfterMs: 30_000 });
    expect(postsTo(later)).toHaveLength(1);
  });

  it("gives up at once on a refusal, naming Slack's error", async () => {
    const channel = freshChannel();
    fake.replyOnce("chat.postMessage", { body: { ok: false, error: "channel_not_found" } });
    const failed = await failureOf(bot().post(channel, say("nowhere")));
    expect(failed.failure).toEqual({ kind: "refused", code: "channel_not_found" });
    expect(failed.transient).toBe(false);
    expect(failed.message).toBe("chat.postMessage: Slack answered channel_not_found");
    expect(postsTo(channel)).toHaveLength(1);
  });

  it("says Slack is unreachable when nothing answers, after its tries", async () => {
    const away = new SlackSpeaker({ apiUrl: `http://127.0.0.1:${await closedPort()}/api/` });
    const failed = await failureOf(away.bot(token).post(freshChannel(), say("into the void")));
    expect(failed.failure.kind).toBe("unreachable");
    expect(failed.transient).toBe(true);
  });

  it("answers through a response URL as Slack reads it, and tries an answer Slack failed again", async () => {
    const id = randomBytes(6).toString("hex");
    fake.replyOnceAtResponseUrl(id, { status: 500 });
    const message = say("done");
    await speaker().answer(fake.responseUrl(id), { replaceOriginal: false, text: message.text, blocks: message.blocks });
    expect(fake.responseUrlAttempts.get(id)).toBe(2);
    expect(fake.responses.get(id)).toEqual([{ response_type: "ephemeral", replace_original: false, text: message.text, blocks: message.blocks }]);

    const inChannel = randomBytes(6).toString("hex");
    await speaker().answer(fake.responseUrl(inChannel), { visibility: "in_channel", text: "for everyone" });
    expect(fake.responses.get(inChannel)).toEqual([{ response_type: "in_channel", text: "for everyone" }]);
  });

  it("gives up at once on a response URL Slack no longer knows", async () => {
    const id = randomBytes(6).toString("hex");
    fake.replyOnceAtResponseUrl(id, { status: 404 });
    const failed = await failureOf(speaker().answer(fake.responseUrl(id), { text: "too late" }));
    expect(failed.failure).toEqual({ kind: "http", status: 404 });
    expect(fake.responseUrlAttempts.get(id)).toBe(1);
    expect(fake.responses.has(id)).toBe(false);
  });

  it("finds nobody for an email the workspace does not know, and a person for one it does", async () => {
    expect(await bot().userByEmail(`${unique("nobody")}@example.com`)).toBeUndefined();
    const email = `${unique("known")}@example.com`;
    fake.addUser({ id: "USPEAKERKNOWN", teamId: "T0TEST", email, name: "known" });
    expect((await bot().userByEmail(email))?.id).toBe("USPEAKERKNOWN");
  });
});

describe("the speaker for the outbox, which schedules its own later tries", () => {
  // Made in the test: the fake's port is known once it has started.
  const once = () => new SlackSpeaker({ apiUrl: fake.apiUrl, policy: { retries: 0 } });

  it("tries once, and hands back a rate limit at once with its Retry-After", async () => {
    const channel = freshChannel();
    fake.replyOnce("chat.postMessage", { status: 503, body: { ok: false } });
    expect((await failureOf(once().bot(token).post(channel, say("once")))).failure).toEqual({ kind: "http", status: 503 });
    fake.replyOnce("chat.postMessage", { status: 429, headers: { "retry-after": "2" }, body: { ok: false, error: "ratelimited" } });
    expect((await failureOf(once().bot(token).post(channel, say("once")))).failure).toEqual({ kind: "rate_limited", retryAfterMs: 2000 });
    expect(postsTo(channel)).toHaveLength(2);
  });
});
