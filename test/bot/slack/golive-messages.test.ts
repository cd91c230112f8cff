import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import type { SlackApp } from "../../../src/bot/slack/app.ts";
import type { OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import { setApplicationChannel } from "../../../src/core/applications.ts";
import { recheckEnvironment } from "../../../src/core/dns-rechecks.ts";
import { goLive } from "../../../src/core/golive.ts";
import type { Platform } from "../../../src/core/platform.ts";
import { createDnsVerifier, type DnsVerifier } from "../../../src/dns/verify.ts";
import { startJobQueue, type JobQueue } from "../../../src/jobs/queue.ts";
import { startDnsServer, type TestDnsServer, type ZoneRecord } from "../../support/dns-server.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { manualOutbox, signedRequest, slashCommandBody, startSlackApp, testTeam } from "../../support/slack-app.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, unique, useWorld, type TestUser } from "../../support/world.ts";

const world = useWorld();
const fake = new FakeSlack();
const suffix = "edge.test.net";
let server: TestDnsServer;
let dns: DnsVerifier;
let queue: JobQueue;
/** The platform with the job queue: go-live schedules its re-checks on it. */
let platform: Platform;
let slack: SlackApp;
let url: string;
let outbox: OutboxWorker;
const zone = new Map<string, ZoneRecord[]>();

function pointAt(hostname: string, where: "edge" | "elsewhere"): void {
  zone.set(hostname, [{ name: hostname, type: "CNAME", target: where === "edge" ? `${hostname}.${suffix}` : "old.other-cdn.example" }]);
  server.replaceRecords([...zone.values()].flat().concat({ name: "old.other-cdn.example", type: "A", address: "203.0.113.5" }));
}

beforeAll(async () => {
  await fake.start();
  server = await startDnsServer({ records: [] });
  dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: [] });
  world.platform = { ...world.platform, dns };
  queue = await startJobQueue({ platform: world.platform, logger: pino({ level: "silent" }), pollingIntervalSeconds: 0.5 });
  platform = { ...world.platform, rechecks: queue.rechecks };
  ({ slack, url } = await startSlackApp(platform, fake, { dns }));
  outbox = manualOutbox(world.platform.db, fake);
});

afterAll(async () => {
  await outbox?.stop();
  await slack?.stop();
  await queue?.stop();
  dns?.close();
  await server?.close();
  await fake.stop();
});

/** A person Slack and edgebot both know (Slack id `U<NAME>`). */
async function person(): Promise<TestUser & { slackId: string }> {
  const user = await buildUser(world.platform, unique("ana"));
  const slackId = `U${user.displayName.toUpperCase()}`;
  fake.addUser({ id: slackId, teamId: testTeam, email: user.email, name: user.displayName });
  return { ...user, slackId };
}

/** An org owned by `owner` with one application serving a new hostname, its channel `channel` unless null. */
async function application(owner: TestUser, channel: string | null) {
  const org = await buildOrg(world.platform, owner);
  const hostname = `${unique("www")}.truth.example`;
  const { ref } = await buildApplication(world.platform, owner, org, hostname);
  if (channel !== null) await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: channel, teamId: testTeam });
  return { org, ref, hostname };
}

/** Types `/edge <text>` in `channelId`; resolves with the answer as the person reads it and whether all see it. */
async function type(userId: string, text: string, channelId = "C0GENERAL", channelName = "general"): Promise<{ seen: string; visibility: unknown }> {
  const made = slashCommandBody(fake, { text, userId });
  const body = made.body.replace("channel_id=C0GENERAL", `channel_id=${channelId}`).replace("channel_name=general", `channel_name=${channelName}`);
  expect((await signedRequest(url, body)).status).toBe(200);
  const answer = await fake.waitFor(() => fake.responses.get(made.responseId)?.[0], 10_000);
  return { seen: plainText({ text: String(answer.text), blocks: [] }), visibility: answer.response_type };
}

/** What the outbox posts to `channel` from now on, as people read it (`raw`: with Slack's markup). */
async function postedTo(channel: string, since: number): Promise<Array<{ seen: string; raw: string }>> {
  await outbox.deliverDue();
  return fake.calls
    .slice(since)
    .filter((call) => call.method === "chat.postMessage" && call.args.channel === channel)
    .map((call) => ({ seen: plainText({ text: String(call.args.text), blocks: [] }), raw: String(call.args.text) }));
}

async function productionOf(ref: string): Promise<number> {
  const row = await world.platform.db.selectFrom("environments").select("id").where("application_id", "=", await applicationId(world.platform, ref)).where("name", "=", "production").executeTakeFirstOrThrow();
  return row.id;
}

/** `<!date^…>` of `date`, as the message carries it for Slack to show in each reader's time zone. */
function slackDate(date: Date): string {
  return `<!date^${Math.floor(date.getTime() / 1000)}^`;
}

describe("go-live messages that tell the truth, through the Bolt app", () => {
  it("says in the channel that the first passing check took the environment live, and later ones that it was already", async () => {
    const ana = await person();
    const { ref, hostname } = await application(ana, "C0FIRSTLIVE");
    pointAt(hostname, "edge");

    let since = fake.calls.length;
    const first = await type(ana.slackId, `golive ${ref} production`);
    expect(first.visibility).toBe("ephemeral");
    expect(first.seen).toContain(`Go-live check of ${ref} production: 1 of 1 domains point at the edge.`);
    expect(first.seen).toContain(`${ref} production is live.`);
    expect(first.seen).toContain("Results posted in #C0FIRSTLIVE.");
    // The answer says where the results are; the table is the channel's.
    expect(first.seen).not.toContain(`${hostname} passes`);
    const wentLive = await postedTo("C0FIRSTLIVE", since);
    expect(wentLive.map((message) => message.seen)).toEqual([expect.stringContaining(`${ref} production is live.`), expect.stringContaining(`${ref} production is live:`)]);
    expect(wentLive[0]!.seen).toContain(`${hostname} passes`);
    expect(wentLive[0]!.seen).not.toContain("already live");

    since = fake.calls.length;
    await type(ana.slackId, `golive ${ref} production`);
    const again = await postedTo("C0FIRSTLIVE", since);
    expect(again).toHaveLength(1);
    expect(again[0]!.seen).toContain(`Every domain passes: ${ref} production was already live.`);
  });

  it("names the next background re-check in the results, and does not ask to run golive again while re-checks run", async () => {
    const ana = await person();
    const { ref, hostname } = await application(ana, "C0WAITING");
    pointAt(hostname, "elsewhere");

    const since = fake.calls.length;
    const answer = await type(ana.slackId, `golive ${ref} production`);
    const [results] = await postedTo("C0WAITING", since);
    const row = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "golive.results").where("channel_id", "=", "C0WAITING").executeTakeFirstOrThrow();
    const next = new Date((row.payload as { nextRecheckAt: string }).nextRecheckAt);
    expect(Math.abs(next.getTime() - (Date.now() + 60_000))).toBeLessThan(15_000);
    for (const [text, raw] of [
      [answer.seen, answer.seen],
      [results!.seen, results!.raw],
    ] as const) {
      expect(text).toMatch(/edgebot re-checks DNS in the background; next check at \d{4}-\d\d-\d\d \d\d:\d\d( UTC)? \(in 1 minute\), then less and less often for 48 hours\. edgebot announces when it is live\./);
      expect(text).not.toContain("golive");
      if (raw !== text) expect(raw).toContain(slackDate(next));
    }
    expect(results!.seen).toContain(`${hostname} fails`);

    // Asked again while that re-check waits: the one that waits is the one named.
    const sinceAgain = fake.calls.length;
    await type(ana.slackId, `golive ${ref} production`);
    const [again] = await postedTo("C0WAITING", sinceAgain);
    expect(again!.raw).toContain(slackDate(next));
  });

  it("posts a typed golive's results in the conversation it was typed in when no channel is set, through the outbox", async () => {
    const ana = await person();
    const { ref, hostname } = await application(ana, null);
    pointAt(hostname, "elsewhere");

    const since = fake.calls.length;
    const answer = await type(ana.slackId, `golive ${ref} production`, "C0TYPEDHERE");
    expect(answer.visibility).toBe("ephemeral");
    expect(answer.seen).toContain("Results posted in this conversation.");
    expect(answer.seen).not.toContain(`${hostname} fails`);
    const posted = await postedTo("C0TYPEDHERE", since);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.seen).toContain(`Go-live check of ${ref} production: 0 of 1 domains point at the edge.`);
    expect(posted[0]!.seen).toContain(`${hostname} fails`);
    expect(posted[0]!.seen).toContain(`by ${ana.displayName}`);
  });

  it("sends a golive typed in a direct or group message to the person from edgebot, which may not be in that conversation", async () => {
    const ana = await person();
    const { ref, hostname } = await application(ana, null);
    pointAt(hostname, "elsewhere");

    for (const [channelId, channelName] of [
      ["D0BETWEENPEOPLE", "directmessage"],
      ["C0GROUPDM", "mpdm-ana--ben-1"],
    ] as const) {
      const since = fake.calls.length;
      const answer = await type(ana.slackId, `golive ${ref} production`, channelId, channelName);
      expect(answer.seen).toContain("Results sent to you in a direct message from edgebot.");
      expect(await postedTo(channelId, since)).toEqual([]);
      const direct = fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && call.args.channel === ana.slackId);
      expect(direct).toHaveLength(1);
      expect(plainText({ text: String(direct[0]!.args.text), blocks: [] })).toContain(`${hostname} fails`);
    }
  });

  it("tells the org's owners and admins directly of a regression the daily re-check finds when no channel is set", async () => {
    const owner = await person();
    const { org, ref, hostname } = await application(owner, null);
    const admin = await person();
    const developer = await person();
    const viewer = await person();
    await addMember(world.platform, org, admin, "admin");
    await addMember(world.platform, org, developer, "developer");
    await addMember(world.platform, org, viewer, "viewer");
    pointAt(hostname, "edge");
    expect(await goLive(platform, { actor: owner, app: ref, env: "production" })).toMatchObject({ wentLive: true, posted: undefined });

    pointAt(hostname, "elsewhere");
    const since = fake.calls.length;
    const outcome = await recheckEnvironment(platform, { environmentId: await productionOf(ref), attempt: 0, since: new Date().toISOString(), askedBy: null });
    expect(outcome).toMatchObject({ kind: "regressed" });
    await outbox.deliverDue();
    const told = fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && String(call.args.text).includes(`${ref} production is no longer live`));
    expect(told.map((call) => call.args.channel).sort()).toEqual([owner.slackId, admin.slackId].sort());
    const text = plainText({ text: String(told[0]!.args.text), blocks: [] });
    expect(text).toContain(`${hostname} fails`);
    expect(text).toMatch(/Found by edgebot's background DNS check\. edgebot re-checks DNS in the background; next check at .* \(in 1 minute\)/);
    expect(text).not.toContain("golive");
  });

  it("tells the developer who asked, besides the owners and admins, when a background re-check takes it live with no channel set", async () => {
    const owner = await person();
    const { org, ref, hostname } = await application(owner, null);
    const developer = await person();
    await addMember(world.platform, org, developer, "developer");
    pointAt(hostname, "elsewhere");
    await goLive(platform, { actor: developer, app: ref, env: "production" });

    pointAt(hostname, "edge");
    const since = fake.calls.length;
    expect(await recheckEnvironment(platform, { environmentId: await productionOf(ref), attempt: 1, since: new Date().toISOString(), askedBy: developer.userId })).toEqual({ kind: "live", wentLive: true });
    await outbox.deliverDue();
    const told = fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && String(call.args.text).includes(`${ref} production is live`));
    expect(told.map((call) => call.args.channel).sort()).toEqual([owner.slackId, developer.slackId].sort());
  });
});
