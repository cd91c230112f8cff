import { randomBytes } from "node:crypto";
import { beforeAll, afterAll, describe, expect, it } from "vitest";
import { notificationMessage } from "../../../src/bot/blocks/notifications.ts";
import { plainText } from "../../../src/bot/shell.ts";
import { createApplication } from "../../../src/core/applications.ts";
import { editConfigFile } from "../../../src/core/configs.ts";
import { addDomain } from "../../../src/core/domains.ts";
import { createEnvironment } from "../../../src/core/environments.ts";
import { createDnsVerifier, type DnsVerifier } from "../../../src/dns/verify.ts";
import { startDnsServer, type TestDnsServer } from "../../support/dns-server.ts";
import type { RecordedCall } from "../../support/fake-slack.ts";
import { addSlackPerson, appHomeOpenedBody, blockActionPayload, interactionBody, manualOutbox, signedRequest, slashCommandBody, useSlackApp, type SlackAppMode } from "../../support/slack-app.ts";
import { addMember, applicationId, buildOrg, commitOn, gitIn, snapshot, unique } from "../../support/world.ts";

const suffix = "edge.test.net";
// Hostnames the DNS server answers for: one at the edge, one still at another CDN.
const zone = `${unique("z")}.buttons.example`;
const atEdge = (label: string) => `${label}.${zone}`;

// The DNS server starts before the Bolt App, which checks DNS with it.
const mode: SlackAppMode = {};
let server: TestDnsServer;
let dns: DnsVerifier;
beforeAll(async () => {
  server = await startDnsServer({ records: [] });
  dns = createDnsVerifier({ dnsServers: [server.address], dnsTimeoutMs: 500, dnsConcurrency: 20, edgeCnameSuffix: suffix, edgeIpv4: [] });
  mode.dns = dns;
});
afterAll(async () => {
  dns?.close();
  await server?.close();
});
const bed = useSlackApp(mode);

type Person = Awaited<ReturnType<typeof addSlackPerson>>;

/** Points `hostname` at the edge (or, with `elsewhere`, at another CDN) from now on. */
function pointAt(records: Array<{ hostname: string; elsewhere?: boolean }>): void {
  server.replaceRecords(
    records.flatMap(({ hostname, elsewhere }) =>
      elsewhere
        ? [
            { name: hostname, type: "CNAME" as const, target: "old.cdn.example" },
            { name: "old.cdn.example", type: "A" as const, address: "203.0.113.5" },
          ]
        : [{ name: hostname, type: "CNAME" as const, target: `${hostname}.${suffix}` }],
    ),
  );
}

/** An org with an owner, an admin, a developer and a viewer, and an application whose production serves one hostname. */
async function team() {
  const owner = await addSlackPerson(bed);
  const developer = await addSlackPerson(bed);
  const viewer = await addSlackPerson(bed);
  const stranger = await addSlackPerson(bed);
  const org = await buildOrg(bed.world.platform, owner.actor);
  await addMember(bed.world.platform, org, developer.actor, "developer");
  await addMember(bed.world.platform, org, viewer.actor, "viewer");
  // The stranger has an org of their own, not this one.
  await buildOrg(bed.world.platform, stranger.actor);
  const hostname = atEdge(unique("www"));
  const app = await createApplication(bed.world.platform, { actor: owner.actor, hostname, org, name: "shop" });
  return { org, owner, developer, viewer, stranger, ref: app.ref, hostname };
}

/** Types `/edge <text>`; resolves with the answer as Slack received it. */
async function type(person: Person, text: string): Promise<{ text: string; blocks: Block[] }> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id });
  await signedRequest(bed.url, body);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return { text: String(answer.text), blocks: (answer.blocks ?? []) as Block[] };
}

interface Block {
  type: string;
  elements?: Array<{ type: string; action_id: string; value: string; text: { text: string }; style?: string; confirm?: { style?: string } }>;
}

/** The buttons of a message or view, by their text. */
function buttonsOf(blocks: unknown[]): Map<string, { actionId: string; value: string; style?: string; confirm?: { style?: string } }> {
  const found = new Map<string, { actionId: string; value: string; style?: string; confirm?: { style?: string } }>();
  for (const block of blocks as Block[]) {
    if (block.type !== "actions") continue;
    for (const element of block.elements ?? []) {
      if (element.type === "button") found.set(element.text.text, { actionId: element.action_id, value: element.value, ...(element.style ? { style: element.style } : {}), ...(element.confirm ? { confirm: element.confirm } : {}) });
    }
  }
  return found;
}

/** Where a button was shown: a message (its channel and time stamp), or a Home tab publication. */
type Place = { message: string } | { home: string };

function aMessage(): Place {
  return { message: `${Math.floor(Date.now() / 1000)}.${randomBytes(3).readUIntBE(0, 3)}` };
}

/** A click as Slack posts it, on a button of the message or the Home tab at `place`. */
function clickBody(person: Person, button: { actionId: string; value: string }, place: Place, responseId: string): string {
  const payload = blockActionPayload({ userId: person.id, actionId: button.actionId, value: button.value, ...("message" in place ? { responseUrl: bed.fake.responseUrl(responseId) } : {}) });
  if ("message" in place) payload.container = { type: "message", message_ts: place.message, channel_id: "C0GENERAL", is_ephemeral: false };
  else {
    payload.container = { type: "view", view_id: place.home };
    payload.view = { id: place.home, type: "home", team_id: "T0TEST" };
  }
  return interactionBody(payload);
}

/** Clicks a button of a message; resolves with what the clicker is answered under it. */
async function click(person: Person, button: { actionId: string; value: string }, place: Place = aMessage()): Promise<{ text: string; response_type: unknown; blocks: unknown[] }> {
  const responseId = unique("click");
  const response = await signedRequest(bed.url, clickBody(person, button, place, responseId));
  expect(response.status).toBe(200);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0], 10_000);
  return { text: plainText({ text: String(answer.text), blocks: [] }), response_type: answer.response_type, blocks: (answer.blocks ?? []) as unknown[] };
}

/** Two people (or one, twice) clicking the same button of the same message at the same moment; resolves with both answers. */
async function clickTogether(people: [Person, Person], button: { actionId: string; value: string }, place: Place = aMessage()): Promise<string[]> {
  return Promise.all(people.map((person) => click(person, button, place).then((answer) => answer.text)));
}

/** Runs `step`, then delivers the outbox; resolves with what it posted to `channel` meanwhile, as people read it. */
async function postedIn(channel: string, step: () => unknown): Promise<Array<{ text: string; blocks: unknown[] }>> {
  const since = bed.fake.calls.length;
  await step();
  const outbox = manualOutbox(bed.world.platform.db, bed.fake);
  try {
    await outbox.deliverDue();
  } finally {
    await outbox.stop();
  }
  return bed.fake.calls
    .slice(since)
    .filter((call) => call.method === "chat.postMessage" && call.args.channel === channel)
    .map((call) => ({ text: plainText({ text: String(call.args.text), blocks: [] }), blocks: (typeof call.args.blocks === "string" ? JSON.parse(call.args.blocks) : (call.args.blocks ?? [])) as unknown[] }));
}

function directMessagesTo(person: Person): RecordedCall[] {
  return bed.fake.callsOf("chat.postMessage").filter((call) => call.args.channel === person.id);
}

/** Clicks a button on the Home tab; resolves with the direct message that answers it. */
async function clickOnHome(person: Person, button: { actionId: string; value: string }, place: Place = { home: `V${unique("HOME").toUpperCase()}` }): Promise<string> {
  const before = directMessagesTo(person).length;
  const response = await signedRequest(bed.url, clickBody(person, button, place, "unused"));
  expect(response.status).toBe(200);
  const told = await bed.fake.waitFor(() => directMessagesTo(person)[before], 10_000);
  return plainText({ text: String(told.args.text), blocks: [] });
}

async function openHome(person: Person): Promise<unknown[]> {
  const publishes = () => bed.fake.callsOf("views.publish").filter((call) => call.args.user_id === person.id);
  const before = publishes().length;
  await signedRequest(bed.url, appHomeOpenedBody({ userId: person.id }), { contentType: "application/json" });
  const call = await bed.fake.waitFor(() => publishes()[before]);
  const view = (typeof call.args.view === "string" ? JSON.parse(call.args.view) : call.args.view) as { blocks: unknown[] };
  return view.blocks;
}

async function dnsChecksOf(hostname: string): Promise<Array<{ checked_by: number | null; verdict: string }>> {
  return bed.world.platform.db.selectFrom("dns_checks").select(["checked_by", "verdict"]).where("hostname", "=", hostname).execute();
}

async function auditOf(action: string, target: string): Promise<number[]> {
  const rows = await bed.world.platform.db.selectFrom("audit_events").select("actor_id").where("action", "=", action).where("target", "=", target).execute();
  return rows.map((row) => row.actor_id!);
}

describe("Check again, on go-live results", () => {
  it("is on a typed golive's results, and checks DNS again as the person who clicks, answered as a typed golive is", async () => {
    const { owner, developer, ref, hostname } = await team();
    pointAt([{ hostname, elsewhere: true }]);
    const typed = await type(owner, `golive ${ref} production`);
    expect(plainText({ text: typed.text, blocks: [] })).toContain("Results posted in this conversation.");
    // No channel is set: the results come to the conversation the command was typed in, through the outbox.
    const [results] = await postedIn("C0GENERAL", () => undefined);
    expect(results!.text).toContain(`${hostname} fails`);
    const checkAgain = buttonsOf(results!.blocks).get("Check again");
    expect(checkAgain).toEqual({ actionId: "golive_check_again", value: JSON.stringify({ app: ref, env: "production" }) });

    // The client fixes DNS; the developer clicks.
    pointAt([{ hostname }]);
    let answer: Awaited<ReturnType<typeof click>> | undefined;
    const [again] = await postedIn("C0GENERAL", async () => {
      answer = await click(developer, checkAgain!);
    });
    // Like a typed golive's: the clicker is told where the results are, and they are posted there.
    expect(answer!.text).toContain(`${ref} production is live`);
    expect(answer!.text).toContain("Results posted in this conversation.");
    expect(again!.text).toContain(`Go-live check of ${ref} production`);
    expect(again!.text).toContain(`${hostname} passes`);
    expect(again!.text).toContain(`${ref} production is live`);
    // Its own results come with their own Check again.
    expect(buttonsOf(again!.blocks).has("Check again")).toBe(true);
    expect((await dnsChecksOf(hostname)).map((check) => [check.checked_by, check.verdict])).toEqual([
      [owner.user.id, "fails"],
      [developer.user.id, "passes"],
    ]);
    expect(await auditOf("env.golive", `${ref} production`)).toEqual([owner.user.id, developer.user.id]);
  });

  it("refuses a viewer and someone of another org, and writes nothing", async () => {
    const { viewer, stranger, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const button = { actionId: "golive_check_again", value: JSON.stringify({ app: ref, env: "production" }) };
    const before = await snapshot(bed.world.platform);

    const refused = await click(viewer, button);
    expect(refused.text).toMatch(/not (allowed|found)|may not|viewer/i);
    expect(refused.response_type).toBe("ephemeral");
    const unknown = await click(stranger, button);
    expect(unknown.text).toContain("not found");

    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await dnsChecksOf(hostname)).toEqual([]);
  });

  it("checks once when two people click the same button at the same moment", async () => {
    const { owner, developer, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const button = { actionId: "golive_check_again", value: JSON.stringify({ app: ref, env: "production" }) };

    const answers = await clickTogether([owner, developer], button);
    expect(answers.filter((text) => text.includes(`Go-live check of ${ref} production`))).toHaveLength(1);
    expect(answers.filter((text) => text.includes("already used"))).toHaveLength(1);
    expect(await dnsChecksOf(hostname)).toHaveLength(1);
    expect(await auditOf("env.golive", `${ref} production`)).toHaveLength(1);

    // A retry of the same click, later, does nothing more either.
    const again = await click(owner, button, { message: "1.000001" }).then(() => click(owner, button, { message: "1.000001" }));
    expect(again.text).toContain("already used");
    expect(await dnsChecksOf(hostname)).toHaveLength(2);
  });

  it("answers a forged or malformed value clearly, and writes nothing", async () => {
    const { developer, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const before = await snapshot(bed.world.platform);
    for (const value of ["not json", JSON.stringify({ app: ref }), JSON.stringify({ app: `${ref} --x`, env: "production" }), JSON.stringify({ app: ref, env: "production", extra: 1 }), JSON.stringify({ app: ref, env: "Production" }), "x".repeat(3000)]) {
      const answer = await click(developer, { actionId: "golive_check_again", value });
      expect(answer.text).toContain("That button is not one edgebot made");
      expect(answer.text).toContain("nothing was done");
    }
    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await dnsChecksOf(hostname)).toEqual([]);
  });
});

describe("Check again, on the background re-checks' messages", () => {
  it("is under a regression and under a give-up, for the environment they are about", () => {
    const failing = { status: "fails" as const, hostname: "www.acme.example", expectedTarget: `www.acme.example.${suffix}`, found: ["CNAME old.cdn.example"], recordToCreate: `CNAME www.acme.example → www.acme.example.${suffix}` };
    const delivered = { id: 1, channelId: "C0ACME", teamId: "T0TEST", attempts: 0 };
    const regression = notificationMessage({ ...delivered, kind: "env.regressed", payload: { app: "acme/www", env: "production", verdicts: [failing], background: true, actor: null } } as Parameters<typeof notificationMessage>[0]);
    const gaveUp = notificationMessage({ ...delivered, kind: "golive.gave_up", payload: { app: "acme/www", env: "staging", verdicts: [failing], since: new Date().toISOString(), actor: null } } as Parameters<typeof notificationMessage>[0]);
    expect(buttonsOf(regression.blocks).get("Check again")).toEqual({ actionId: "golive_check_again", value: JSON.stringify({ app: "acme/www", env: "production" }) });
    expect(buttonsOf(gaveUp.blocks).get("Check again")).toEqual({ actionId: "golive_check_again", value: JSON.stringify({ app: "acme/www", env: "staging" }) });
    // The text the shell prints and screen readers read has no button in it.
    expect(regression.text).not.toContain("Check again");
  });
});

describe("Promote, on env diff results", () => {
  /** A team whose staging has a commit production lacks, with the diff's Promote button as the owner sees it. */
  async function stagingAhead() {
    const world = await team();
    await createEnvironment(bed.world.platform, { actor: world.owner.actor, app: world.ref, env: "staging" });
    const id = await applicationId(bed.world.platform, world.ref);
    const head = (branch: string) => gitIn(bed.world, id, ["rev-parse", `refs/heads/${branch}`]);
    await editConfigFile(bed.world.platform, { actor: world.owner.actor, app: world.ref, env: "staging", path: "staged.json", content: '{"staged":true}\n', base: await head("staging") });
    const diff = await type(world.owner, `env diff ${world.ref} staging production`);
    const promote = buttonsOf(diff.blocks).get("Promote to production")!;
    return { ...world, id, promote, head };
  }

  it("promotes staging into production as the owner who clicks, after Slack's confirmation", async () => {
    const { owner, ref, promote, head } = await stagingAhead();
    const staged = await head("staging");
    expect(promote.actionId).toBe("env_promote");
    expect(promote.confirm?.style).toBe("primary");
    const answer = await click(owner, promote);
    expect(answer.text).toContain(`Promoted staging into ${ref} production`);
    expect(await head("production")).toBe(staged);
    expect(await auditOf("env.promote", `${ref} production`)).toEqual([owner.user.id]);
  });

  it("refuses a developer (production needs an owner or admin), a viewer and someone of another org, and changes nothing", async () => {
    const { developer, viewer, stranger, promote, head } = await stagingAhead();
    const production = await head("production");
    const before = await snapshot(bed.world.platform);
    expect((await click(developer, promote)).text).toMatch(/owner or admin|not allowed|may not/i);
    expect((await click(viewer, promote)).text).toMatch(/owner or admin|not allowed|may not/i);
    expect((await click(stranger, promote)).text).toContain("not found");
    expect(await head("production")).toBe(production);
    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("promotes once when the owner double-clicks", async () => {
    const { owner, ref, promote, head } = await stagingAhead();
    const answers = await clickTogether([owner, owner], promote);
    expect(answers.filter((text) => text.includes("Promoted staging"))).toHaveLength(1);
    expect(answers.filter((text) => text.includes("already used") || text.includes("nothing to promote"))).toHaveLength(1);
    expect(await auditOf("env.promote", `${ref} production`)).toHaveLength(1);
    expect(await head("production")).toBe(await head("staging"));
  });

  it("promotes nothing when staging changed since the diff, and shows the diff as it is now", async () => {
    const { owner, ref, id, promote, head } = await stagingAhead();
    const production = await head("production");
    await commitOn(bed.world, id, "staging", "a change nobody reviewed");
    const answer = await click(owner, promote);
    expect(answer.text).toContain("changed since that diff: nothing was promoted");
    expect(answer.text).toContain("what promoting staging into production brings");
    expect(buttonsOf(answer.blocks).has("Promote to production")).toBe(true);
    expect(await head("production")).toBe(production);
    expect(await auditOf("env.promote", `${ref} production`)).toEqual([]);
  });

  it("answers a forged value clearly and promotes nothing", async () => {
    const { owner, ref, promote, head } = await stagingAhead();
    const production = await head("production");
    const value = JSON.parse(promote.value) as Record<string, string>;
    for (const forged of [{ ...value, fromHead: "HEAD" }, { ...value, to: "production --force" }, { app: ref, from: "staging", to: "production" }]) {
      const answer = await click(owner, { actionId: "env_promote", value: JSON.stringify(forged) });
      expect(answer.text).toContain("That button is not one edgebot made");
    }
    expect(await head("production")).toBe(production);
  });
});

describe("Go live and Check DNS, on the Home tab", () => {
  it("shows Go live to those who may build and Check DNS to every member, for each environment with domains", async () => {
    const { developer, viewer, owner, ref } = await team();
    await createEnvironment(bed.world.platform, { actor: owner.actor, app: ref, env: "development" });
    const forDeveloper = buttonsOf(await openHome(developer));
    expect([...forDeveloper.keys()].filter((text) => text.includes(":"))).toEqual(["Go live: production", "Check DNS: production"]);
    const value = JSON.parse(forDeveloper.get("Go live: production")!.value) as { app: string; env: string; home: string };
    expect(value).toMatchObject({ app: ref, env: "production" });
    const forViewer = buttonsOf(await openHome(viewer));
    expect(forViewer.has("Go live: production")).toBe(false);
    expect(forViewer.has("Check DNS: production")).toBe(true);
  });

  it("Go live checks DNS as the developer who clicks, tells them directly, and publishes the Home tab again", async () => {
    const { developer, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const goLive = buttonsOf(await openHome(developer)).get("Go live: production")!;
    const publishes = bed.fake.callsOf("views.publish").filter((call) => call.args.user_id === developer.id).length;
    const told = await clickOnHome(developer, goLive);
    expect(told).toContain(`Go-live check of ${ref} production`);
    expect(told).toContain(`${ref} production is live`);
    expect((await dnsChecksOf(hostname)).map((check) => check.checked_by)).toEqual([developer.user.id]);
    await bed.fake.waitFor(() => bed.fake.callsOf("views.publish").filter((call) => call.args.user_id === developer.id)[publishes]);
  });

  it("Check DNS tells the clicker what DNS says of each domain, and records no check", async () => {
    const { owner, viewer, ref, hostname } = await team();
    const other = atEdge(unique("shop"));
    await addDomain(bed.world.platform, { actor: owner.actor, app: ref, env: "production", hostname: other });
    pointAt([{ hostname }, { hostname: other, elsewhere: true }]);
    const checkDns = buttonsOf(await openHome(viewer)).get("Check DNS: production")!;
    const told = await clickOnHome(viewer, checkDns);
    expect(told).toContain(`DNS of ${ref} production: 1 of 2 domains point at the edge`);
    expect(told).toContain(`${hostname} points at the edge`);
    expect(told).toContain(`${other} does not point at the edge yet`);
    expect(await dnsChecksOf(hostname)).toEqual([]);
  });

  it("refuses Go live to a viewer and both buttons to someone of another org, writing nothing", async () => {
    const { viewer, stranger, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const value = JSON.stringify({ app: ref, env: "production", home: "abc" });
    const before = await snapshot(bed.world.platform);
    expect(await clickOnHome(viewer, { actionId: "home_golive:production", value })).toMatch(/not (allowed|found)|may not|viewer/i);
    expect(await clickOnHome(stranger, { actionId: "home_golive:production", value })).toContain("not found");
    expect(await clickOnHome(stranger, { actionId: "home_check_dns:production", value })).toContain("not found");
    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await dnsChecksOf(hostname)).toEqual([]);
  });

  it("answers a double click once, and a bad value clearly", async () => {
    const { developer, ref, hostname } = await team();
    pointAt([{ hostname }]);
    const goLive = buttonsOf(await openHome(developer)).get("Go live: production")!;
    const place = { home: `V${unique("HOME").toUpperCase()}` };
    const before = directMessagesTo(developer).length;
    await Promise.all([0, 1].map(() => signedRequest(bed.url, clickBody(developer, goLive, place, "unused"))));
    const told = await bed.fake.waitFor(() => directMessagesTo(developer).length >= before + 2 && directMessagesTo(developer).slice(before));
    const texts = told.map((call) => String(call.args.text));
    expect(texts.filter((text) => text.includes(`Go-live check of ${ref} production`))).toHaveLength(1);
    expect(texts.filter((text) => text.includes("already used"))).toHaveLength(1);
    expect(await dnsChecksOf(hostname)).toHaveLength(1);

    expect(await clickOnHome(developer, { actionId: "home_check_dns:production", value: "{}" })).toContain("That button is not one edgebot made");
  });

  it("keeps a big org within Slack's 100 blocks, with at most 25 buttons a row and ids unique in each", async () => {
    const ana = await addSlackPerson(bed);
    const orgs = [await buildOrg(bed.world.platform, ana.actor), await buildOrg(bed.world.platform, ana.actor)];
    // Applications written straight to the tables, each with 12 environments with a domain each.
    for (const org of orgs) {
      const { id: orgId } = await bed.world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
      const apps = await bed.world.platform.db
        .insertInto("applications")
        .values(Array.from({ length: 60 }, (_, index) => ({ org_id: orgId, slug: `app-${index}`, origin: "origin.example.com", created_by: ana.user.id })))
        .returning("id")
        .execute();
      const environments = await bed.world.platform.db
        .insertInto("environments")
        .values(apps.flatMap((app) => Array.from({ length: 12 }, (_, index) => ({ application_id: app.id, name: index === 0 ? "production" : `env-${index}`, created_by: ana.user.id }))))
        .returning("id")
        .execute();
      await bed.world.platform.db
        .insertInto("domains")
        .values(environments.map((environment) => ({ environment_id: environment.id, hostname: `${unique("h")}.big.example`, created_by: ana.user.id })))
        .execute();
    }
    const blocks = (await openHome(ana)) as Block[];
    expect(blocks.length).toBeLessThanOrEqual(100);
    const rows = blocks.filter((block) => block.type === "actions");
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      expect(row.elements!.length).toBeLessThanOrEqual(25);
      const ids = row.elements!.map((element) => element.action_id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const element of row.elements!) expect(element.value.length).toBeLessThanOrEqual(2000);
    }
    expect(JSON.stringify(blocks)).toMatch(/more applications in/);
  });
});
