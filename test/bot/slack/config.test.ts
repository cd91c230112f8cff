import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import type { SlackApp } from "../../../src/bot/slack/app.ts";
import type { OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import { escapeText, maxSectionText } from "../../../src/bot/message.ts";
import { createEnvironment } from "../../../src/core/environments.ts";
import { lockRepository } from "../../../src/core/repository-locks.ts";
import {
  addSlackPerson,
  interactionBody,
  signedRequest,
  slashCommandBody,
  manualOutbox,
  startSlackApp,
  useSlackApp,
  viewOf,
  viewSubmissionPayload,
  type OpenedView,
} from "../../support/slack-app.ts";
import { addMember, applicationId, buildApplication, buildOrg, commitOn, gitIn, snapshot, unique } from "../../support/world.ts";

const bed = useSlackApp();
let outbox: OutboxWorker;

beforeAll(() => {
  outbox = manualOutbox(bed.world.platform.db, bed.fake);
});

afterAll(async () => {
  await outbox.stop();
});

type Person = Awaited<ReturnType<typeof addSlackPerson>>;

const config = (origin: string) => `${JSON.stringify({ proxychain: [{ name: "varnish", image: "varnish:7.4" }], origin: { address: origin } }, null, 2)}\n`;

/** An application with staging, an owner and a developer in Slack, notifications in a channel. */
async function agency() {
  const owner = await addSlackPerson(bed, unique("owner"));
  const developer = await addSlackPerson(bed, unique("dev"));
  const org = await buildOrg(bed.world.platform, owner.actor);
  await addMember(bed.world.platform, org, developer.actor, "developer");
  const { ref } = await buildApplication(bed.world.platform, owner.actor, org);
  await createEnvironment(bed.world.platform, { actor: owner.actor, app: ref, env: "staging" });
  const channel = `C${randomBytes(4).toString("hex").toUpperCase()}`;
  await type(owner, `org channel ${org} ${channel}`);
  await outbox.deliverDue();
  return { org, owner, developer, ref, channel, id: await applicationId(bed.world.platform, ref) };
}

/** Types `/edge <text>` and resolves with the answer as the person reads it. */
async function type(person: Person, text: string): Promise<string> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id });
  await signedRequest(bed.url, body);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return plainText({ text: String(answer.text), blocks: [] });
}

/** Types `config edit …` and resolves with the editor edgebot opened, and where the command answers. */
async function openEditor(person: Person, text: string): Promise<{ view: OpenedView; responseId: string }> {
  const opened = bed.fake.callsOf("views.open").length;
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id });
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  return { view: viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened])), responseId };
}

/** Submits the editor as Slack would (to the App at `url`, by default the test bed's); resolves with edgebot's acknowledgement. */
async function submit(person: Person, view: OpenedView, fill: Record<string, string | null>, viewId = newViewId(), url = bed.url) {
  const response = await signedRequest(url, interactionBody(viewSubmissionPayload({ view, viewId, userId: person.id, fill })));
  const text = await response.text();
  return (text === "" ? {} : JSON.parse(text)) as { response_action?: string; errors?: Record<string, string>; view?: { blocks: Array<{ text?: { text: string } }>; submit?: unknown } };
}

function newViewId(): string {
  return `V${randomBytes(5).toString("hex").toUpperCase()}`;
}


/** What the channel was sent when the outbox delivered, as people read it. */
async function postedTo(channel: string): Promise<string[]> {
  const since = bed.fake.calls.length;
  await outbox.deliverDue();
  return bed.fake.calls
    .slice(since)
    .filter((call) => call.method === "chat.postMessage" && call.args.channel === channel)
    .map((call) => plainText({ text: String(call.args.text), blocks: [] }));
}

describe("config edit in Slack", () => {
  it("opens a modal holding the file, and commits it on submit as the person, announced in the channel", async () => {
    const { developer, ref, id, channel } = await agency();
    const head = await bed.world.platform.repositories.head(id, "staging");
    const { view, responseId } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    expect(view.callback_id).toBe("config_edit");
    const content = view.blocks.find((block) => block.block_id === "content")!;
    expect(content.element).toMatchObject({ type: "plain_text_input", multiline: true, max_length: 3000, initial_value: config(await originOf(ref)) });
    expect(JSON.parse(view.private_metadata!)).toMatchObject({ app: ref, env: "staging", path: "section.config.json", base: head });

    const ack = await submit(developer, view, { content: config("new-origin.example.com"), message: "Fetch from the new origin" });
    expect(ack).toEqual({ response_action: "clear" });
    expect(await gitIn(bed.world, id, ["show", "refs/heads/staging:section.config.json"])).toContain("new-origin.example.com");
    expect(await gitIn(bed.world, id, ["log", "-1", "--format=%ae %s", "refs/heads/staging"])).toBe(`${developer.email} Fetch from the new origin`);
    const answers = await bed.fake.waitFor(() => (bed.fake.responses.get(responseId)?.length ?? 0) >= 2 && bed.fake.responses.get(responseId));
    expect(plainText({ text: String(answers[1]!.text), blocks: [] })).toContain(`Committed section.config.json to ${ref} staging`);
    const [announced] = await postedTo(channel);
    expect(announced).toContain(`section.config.json of ${ref} staging was edited: Fetch from the new origin`);
  });

  it("keeps the modal open with the error on the field for bad JSON or a schema mismatch, and commits nothing", async () => {
    const { developer, ref, id } = await agency();
    const { view } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    const head = await bed.world.platform.repositories.head(id, "staging");
    const before = await snapshot(bed.world.platform);
    const badJson = await submit(developer, view, { content: '{"proxychain": [' });
    expect(badJson.response_action).toBe("errors");
    expect(badJson.errors?.content).toContain("section.config.json is not valid JSON");
    const offSchema = await submit(developer, view, { content: JSON.stringify({ proxychain: [{ name: "Varnish!", image: "varnish:7.4" }], origin: { address: "o.example.com" } }) });
    expect(offSchema.errors?.content).toContain("does not match its schema: proxychain.0.name");
    expect(await bed.world.platform.repositories.head(id, "staging")).toBe(head);
    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("refuses the second of two edits opened from the same head: changed since you opened it", async () => {
    const { developer, owner, ref, id } = await agency();
    const first = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    const second = await openEditor(owner, `config edit ${ref} staging section.config.json`);
    expect(await submit(developer, first.view, { content: config("first.example.com") })).toEqual({ response_action: "clear" });
    const committed = await bed.world.platform.repositories.head(id, "staging");
    const refused = await submit(owner, second.view, { content: config("second.example.com") });
    expect(refused.response_action).toBe("errors");
    expect(refused.errors?.content).toContain("changed since you opened it");
    expect(await bed.world.platform.repositories.head(id, "staging")).toBe(committed);
    expect(await gitIn(bed.world, id, ["show", "refs/heads/staging:section.config.json"])).toContain("first.example.com");
  });

  it("commits once when the same modal is submitted twice", async () => {
    const { developer, ref, id } = await agency();
    const head = await bed.world.platform.repositories.head(id, "staging");
    const { view } = await openEditor(developer, `config edit ${ref} staging varnish/default.vcl`);
    const viewId = newViewId();
    expect(await submit(developer, view, { content: "vcl 4.1;\n# once\n" }, viewId)).toEqual({ response_action: "clear" });
    expect(await submit(developer, view, { content: "vcl 4.1;\n# once\n" }, viewId)).toEqual({});
    expect(await gitIn(bed.world, id, ["rev-list", "--count", `${head}..refs/heads/staging`])).toBe("1");
  });

  it("does not open the editor for production to a developer, nor for a file too long for it", async () => {
    const { developer, owner, ref, id } = await agency();
    const opened = bed.fake.callsOf("views.open").length;
    expect(await type(developer, `config edit ${ref} production section.config.json`)).toContain("only an owner or admin can change production's configuration");
    const { view } = await openEditor(owner, `config edit ${ref} staging varnish/big.vcl`);
    expect(await submit(owner, view, { content: `${"# a long comment line\n".repeat(140)}` })).toEqual({ response_action: "clear" });
    const before = bed.fake.callsOf("views.open").length;
    expect(before).toBe(opened + 1);
    expect(await type(owner, `config edit ${ref} staging varnish/big.vcl`)).toContain("more than Slack's editor holds (3000)");
    expect(bed.fake.callsOf("views.open")).toHaveLength(before);
    expect(await gitIn(bed.world, id, ["rev-list", "--count", "refs/heads/production"])).toBe("1");
  });

  it("answers a modal whose metadata was tampered with, and a path or limit that is not valid, changing nothing", async () => {
    const { developer, ref, id } = await agency();
    const { view } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    const head = await bed.world.platform.repositories.head(id, "staging");
    const tampered = await submit(developer, { ...view, private_metadata: "{not json" }, { content: config("x.example.com") });
    expect(tampered.errors?.content).toContain("this form is out of date");
    const escaping = await submit(developer, { ...view, private_metadata: JSON.stringify({ ...JSON.parse(view.private_metadata!), path: "../x" }) }, { content: "x" });
    expect(escaping.errors?.content).toContain("must be a path inside the repository");
    expect(await bed.world.platform.repositories.head(id, "staging")).toBe(head);
    expect(await type(developer, `config show ${ref} staging ../x`)).toContain("path must be a path inside the repository");
    expect(await type(developer, `env log ${ref} staging --limit 0`)).toContain("--limit must be at least 1");
    expect(await type(developer, `env promote ${ref} staging`)).toContain("<to> is missing");
  });
});

describe("config edit in Slack while the repository is busy", () => {
  // Short, so the tests are quick; the App's own wait (2 s) leaves room within Slack's 3 s.
  const editWaitMs = 250;
  let impatient: { slack: SlackApp; url: string } | undefined;
  const holds: Array<() => Promise<void>> = [];

  /** Another App on the same database and fake Slack, as another replica is, that waits `editWaitMs` for a commit. */
  async function impatientApp(): Promise<{ url: string }> {
    impatient = await startSlackApp(bed.world.platform, bed.fake, { editWaitMs });
    return impatient;
  }

  /** Stops that App once every request it took has finished: it can send nothing more. */
  async function finished(): Promise<void> {
    const stopping = impatient;
    impatient = undefined;
    await stopping?.slack.stop();
  }

  /**
   * Another change to an application's repository in progress, as a push is for all of its
   * receive-pack: a transaction holding the repository lock until released. (On PGlite, one
   * connection, that transaction holds the whole database: an edit waits all the same.)
   */
  async function holdRepository(id: number): Promise<{ release: () => Promise<void> }> {
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const done = bed.world.platform.db.transaction().execute(async (tx) => {
      await lockRepository(tx, id);
      locked();
      await released;
    });
    await Promise.race([holding, done]);
    const release = async () => {
      letGo();
      await done;
    };
    holds.push(release);
    return { release };
  }

  afterEach(async () => {
    for (const release of holds.splice(0)) await release();
    await finished();
  });

  it("acknowledges in time that the edit goes on, then confirms the commit where config edit was typed, once for a form submitted twice", async () => {
    const { developer, ref, id } = await agency();
    const app = await impatientApp();
    const { view, responseId } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    const head = await bed.world.platform.repositories.head(id, "staging");
    const push = await holdRepository(id);

    const viewId = newViewId();
    const started = performance.now();
    const acks = await Promise.all([1, 2].map(() => submit(developer, view, { content: config("held.example.com") }, viewId, app.url)));
    expect(performance.now() - started).toBeLessThan(3000);
    for (const ack of acks) {
      expect(ack.response_action).toBe("update");
      expect(ack.view?.submit).toBeUndefined();
      expect(ack.view?.blocks[0]?.text?.text).toContain("is taking a while to commit");
    }
    expect(await bed.world.platform.repositories.head(id, "staging")).toBe(head);

    await push.release();
    const answers = await bed.fake.waitFor(() => (bed.fake.responses.get(responseId)?.length ?? 0) >= 2 && bed.fake.responses.get(responseId));
    expect(plainText({ text: String(answers[1]!.text), blocks: [] })).toContain(`Committed section.config.json to ${ref} staging`);
    expect(await gitIn(bed.world, id, ["show", "refs/heads/staging:section.config.json"])).toContain("held.example.com");
    // Both submissions have finished once the App has stopped: the second, already done, said nothing.
    await finished();
    expect(bed.fake.responses.get(responseId)).toHaveLength(2);
    expect(await gitIn(bed.world, id, ["rev-list", "--count", `${head}..refs/heads/staging`])).toBe("1");
  });

  it("posts a refusal that comes after the acknowledgement with the whole text submitted, so it is not lost", async () => {
    const { developer, ref, id } = await agency();
    const app = await impatientApp();
    const { view, responseId } = await openEditor(developer, `config edit ${ref} staging varnish/default.vcl`);
    const push = await holdRepository(id);

    // Markup Slack would read, and more than one section's worth once escaped.
    const content = `vcl 4.1;\n${"# <origin> & ``` fenced\n".repeat(120)}`;
    expect((await submit(developer, view, { content }, newViewId(), app.url)).response_action).toBe("update");
    // The push lands first: the edit was made from a head that is no longer staging's.
    const pushed = await commitOn(bed.world, id, "staging", "pushed while the edit waited");
    await push.release();

    const answers = await bed.fake.waitFor(() => (bed.fake.responses.get(responseId)?.length ?? 0) >= 2 && bed.fake.responses.get(responseId));
    const blocks = answers[1]!.blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }>;
    expect(blocks[0]!.text!.text).toContain(`Your edit of *varnish/default.vcl* of *${ref} staging* was not committed.`);
    expect(blocks[0]!.text!.text).toContain("changed since you opened it");
    const codeSections = blocks.filter((block) => block.text?.text.startsWith("```\n"));
    expect(codeSections.length).toBeGreaterThan(1);
    for (const section of codeSections) expect(section.text!.text.length).toBeLessThanOrEqual(maxSectionText);
    const shown = codeSections.map((section) => section.text!.text.slice("```\n".length, -"\n```".length)).join("\n");
    expect(shown).toBe(escapeText(content.replace(/\n$/, "")).replace(/```/g, "`\u200b``"));
    expect(blocks.at(-1)!.elements![0]!.text).toContain(`config edit ${ref} staging varnish/default.vcl`);
    expect(await bed.world.platform.repositories.head(id, "staging")).toBe(pushed);
  });
});

describe("config show, env log, env diff and env promote in Slack", () => {
  it("shows files, one file, the log and the diff", async () => {
    const { developer, ref } = await agency();
    const { view } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    await submit(developer, view, { content: config("new-origin.example.com"), message: "New origin" });
    expect(await type(developer, `config show ${ref} staging`)).toMatch(/section\.config\.json` · \d+ B[\s\S]*varnish\/default\.vcl/);
    expect(await type(developer, `config show ${ref} staging section.config.json`)).toContain('"address": "new-origin.example.com"');
    expect(await type(developer, `env log ${ref} staging --limit 1`)).toContain(`New origin — ${developer.actor.displayName} (${developer.email})`);
    const diff = await type(developer, `env diff ${ref} staging production`);
    expect(diff).toContain("modified `section.config.json`");
    expect(diff).toContain('+    "address": "new-origin.example.com"');
  });

  it("promotes staging into production for an owner and announces it: from, to, who, commit", async () => {
    const { developer, owner, ref, id, channel } = await agency();
    const { view } = await openEditor(developer, `config edit ${ref} staging section.config.json`);
    await submit(developer, view, { content: config("new-origin.example.com") });
    await postedTo(channel);
    const staging = await bed.world.platform.repositories.head(id, "staging");
    expect(await type(developer, `env promote ${ref} staging production`)).toContain("only an owner or admin can change production's configuration");
    expect(await bed.world.platform.repositories.head(id, "production")).not.toBe(staging);
    expect(await type(owner, `env promote ${ref} staging production`)).toContain(`Promoted staging into ${ref} production, now at \`${staging.slice(0, 10)}\``);
    expect(await bed.world.platform.repositories.head(id, "production")).toBe(staging);
    const [announced] = await postedTo(channel);
    expect(announced).toContain(`${ref} staging was promoted into production, now at \`${staging.slice(0, 10)}\``);
    expect(announced).toContain(`by ${owner.actor.displayName} (${owner.email})`);
  });

  it("on conflict changes nothing, lists the conflicting files and announces nothing", async () => {
    const { owner, ref, id, channel } = await agency();
    for (const [env, origin] of [
      ["staging", "staging.example.com"],
      ["production", "production.example.com"],
    ] as const) {
      const { view } = await openEditor(owner, `config edit ${ref} ${env} section.config.json`);
      expect(await submit(owner, view, { content: config(origin) })).toEqual({ response_action: "clear" });
    }
    await postedTo(channel);
    const production = await bed.world.platform.repositories.head(id, "production");
    const before = await snapshot(bed.world.platform);
    const answer = await type(owner, `env promote ${ref} staging production`);
    expect(answer).toContain("nothing was promoted. Files in conflict:");
    expect(answer).toContain("• `section.config.json`");
    expect(await bed.world.platform.repositories.head(id, "production")).toBe(production);
    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await postedTo(channel)).toEqual([]);
  });
});

async function originOf(ref: string): Promise<string> {
  const [org, app] = ref.split("/");
  const row = await bed.world.platform.db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select("a.origin")
    .where("o.slug", "=", org!)
    .where("a.slug", "=", app!)
    .executeTakeFirstOrThrow();
  return row.origin;
}
