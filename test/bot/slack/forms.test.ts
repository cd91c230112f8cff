import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createApplication } from "../../../src/core/applications.ts";
import { plainText } from "../../../src/bot/shell.ts";
import {
  addSlackPerson,
  blockActionPayload,
  blockSuggestionPayload,
  interactionBody,
  signedRequest,
  slashCommandBody,
  useSlackApp,
  viewOf,
  viewSubmissionPayload,
  type OpenedView,
} from "../../support/slack-app.ts";
import { addMember, buildOrg, buildUser, snapshot, unique } from "../../support/world.ts";

const bed = useSlackApp();

/** Types `/edge <text>` and resolves with the modal edgebot opened for it. */
async function typeAndOpen(userId: string, text: string): Promise<{ view: OpenedView; triggerId: unknown; responseId: string }> {
  const opened = bed.fake.callsOf("views.open").length;
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId });
  const sent = new URLSearchParams(body).get("trigger_id");
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  const call = await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]);
  expect(call.args.trigger_id).toBe(sent);
  return { view: viewOf(call), triggerId: call.args.trigger_id, responseId };
}

/** Clicks a button (or a menu entry) on the Home tab and resolves with the modal it opened. */
async function clickAndOpen(userId: string, input: { actionId: string; value: string; overflow?: boolean }): Promise<OpenedView> {
  const opened = bed.fake.callsOf("views.open").length;
  const response = await signedRequest(bed.url, interactionBody(blockActionPayload({ userId, ...input })));
  expect(response.status).toBe(200);
  return viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
}

/** Submits a modal as Slack would; resolves with edgebot's acknowledgement (the body Slack reads response_action from). */
async function submit(userId: string, view: OpenedView, fill: Record<string, string | null>, viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`) {
  const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId, userId, fill })));
  const text = await response.text();
  return { status: response.status, ack: (text === "" ? {} : JSON.parse(text)) as { response_action?: string; errors?: Record<string, string>; view?: { blocks: unknown[] } }, viewId };
}

/** The ephemeral answer the response URL `responseId` received. */
async function answerAt(responseId: string): Promise<{ response_type: unknown; seen: string }> {
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return { response_type: answer.response_type, seen: plainText({ text: String(answer.text), blocks: [] }) };
}

function inputs(view: OpenedView): Array<{ block: string; element: string; initial?: string }> {
  return view.blocks
    .filter((block) => block.type === "input")
    .map((block) => ({ block: block.block_id!, element: block.element!.type, ...((block.element!.initial_value ?? block.element!.initial_option?.value) === undefined ? {} : { initial: block.element!.initial_value ?? block.element!.initial_option!.value }) }));
}

async function applicationsNamed(ref: string): Promise<number> {
  const [org, slug] = ref.split("/");
  const row = await bed.world.platform.db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("o.slug", "=", org!)
    .where("a.slug", "=", slug!)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("forms in Slack", () => {
  it("opens the application form when app create comes without arguments, and writes nothing", async () => {
    const ana = await addSlackPerson(bed);
    const before = await snapshot(bed.world.platform);
    const { view } = await typeAndOpen(ana.id, "app create");
    expect(view.callback_id).toBe("form:app create");
    expect(inputs(view)).toEqual([
      { block: "hostname", element: "plain_text_input" },
      { block: "--org", element: "external_select" },
      { block: "--new-org", element: "plain_text_input" },
      { block: "--name", element: "plain_text_input" },
      { block: "--origin", element: "plain_text_input" },
    ]);
    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("fills the form in with what was typed before the missing argument", async () => {
    const ana = await addSlackPerson(bed);
    const { view } = await typeAndOpen(ana.id, "env create acme/www --from staging");
    expect(view.callback_id).toBe("form:env create");
    expect(inputs(view)).toEqual([
      { block: "app", element: "external_select", initial: "acme/www" },
      { block: "env", element: "plain_text_input" },
      { block: "--from", element: "plain_text_input", initial: "staging" },
      { block: "--domain", element: "plain_text_input" },
    ]);
  });

  it("creates the application on submit, closes the modal and answers in the channel where the command was typed", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const hostname = `${unique("www")}.example.com`;
    const { view, responseId } = await typeAndOpen(ana.id, "app create");
    const homes = bed.fake.callsOf("views.publish").length;

    const { status, ack } = await submit(ana.id, view, { hostname: `https://${hostname}/shop`, "--org": org, "--name": "shop" });
    expect(status).toBe(200);
    expect(ack).toEqual({ response_action: "clear" });
    expect(await applicationsNamed(`${org}/shop`)).toBe(1);
    const answer = await answerAt(responseId);
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.seen).toContain(`${org}/shop`);
    expect(answer.seen).toContain(hostname);
    const home = await bed.fake.waitFor(() => bed.fake.callsOf("views.publish").slice(homes).find((call) => call.args.user_id === ana.id));
    expect(JSON.stringify(home.args.view)).toContain(`${org}/shop`);
  });

  it("splits an application from its form, with a bad prefix or name answered under its field", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const original = await createApplication(bed.world.platform, { actor: ana.actor, hostname: `${unique("www")}.example.com`, org, name: "site" });
    const { view, responseId } = await typeAndOpen(ana.id, "app split");
    expect(view.callback_id).toBe("form:app split");
    expect(inputs(view).map((input) => input.block)).toEqual(["app", "--prefix", "--name"]);
    const before = await snapshot(bed.world.platform);
    for (const [fill, field] of [
      [{ app: original.ref, "--prefix": "blog", "--name": "blog" }, "--prefix"],
      [{ app: original.ref, "--prefix": "/../", "--name": "blog" }, "--prefix"],
      [{ app: original.ref, "--prefix": "/blog/", "--name": "Blog!" }, "--name"],
      [{ app: original.ref, "--prefix": "/blog/", "--name": "site" }, "--name"],
    ] as const) {
      const { ack } = await submit(ana.id, view, fill);
      expect(ack.response_action, JSON.stringify(fill)).toBe("errors");
      expect(Object.keys(ack.errors ?? {}), JSON.stringify(fill)).toEqual([field]);
    }
    expect(await snapshot(bed.world.platform)).toEqual(before);

    expect((await submit(ana.id, view, { app: original.ref, "--prefix": "/blog/", "--name": "blog" })).ack).toEqual({ response_action: "clear" });
    expect(await applicationsNamed(`${org}/blog`)).toBe(1);
    expect((await answerAt(responseId)).seen).toContain(`Created ${org}/blog: it handles \`/blog/\``);
  });

  it("keeps the modal open with the error under the field at fault, and writes nothing", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    await createApplication(bed.world.platform, { actor: ana.actor, hostname: `${unique("taken")}.example.com`, org, name: "taken" });
    const { view } = await typeAndOpen(ana.id, "app create");
    const before = await snapshot(bed.world.platform);

    const cases: Array<[Record<string, string | null>, string, RegExp]> = [
      [{ hostname: "not a hostname!" }, "hostname", /is not a valid URL or hostname|is not a hostname/],
      [{ hostname: "10.0.0.1" }, "hostname", /IP address/],
      [{ hostname: `${unique("a")}.example.com`, "--org": org, "--name": "taken" }, "--name", /already has an application named taken/],
      [{ hostname: `${unique("b")}.example.com`, "--org": org, "--new-org": unique("neworg") }, "--org", /either --org or --new-org/],
      [{ hostname: `${unique("c")}.example.com`, "--new-org": "Not A Slug" }, "--new-org", /new org slug/],
      [{ hostname: `${unique("d")}.example.com`, "--org": "nobody-has-this-org" }, "--org", /not found/],
      [{ hostname: `${unique("e")}.example.com`, "--org": org, "--origin": "ftp://x" }, "--origin", /is not an origin/],
      [{ hostname: null }, "hostname", /Hostname is required/],
      [{ hostname: `${"a".repeat(2100)}.com` }, "hostname", /longer than 2048 characters/],
    ];
    for (const [fill, field, message] of cases) {
      const { status, ack } = await submit(ana.id, view, fill);
      expect(status, JSON.stringify(fill)).toBe(200);
      expect(ack.response_action, JSON.stringify(fill)).toBe("errors");
      expect(Object.keys(ack.errors ?? {}), JSON.stringify(fill)).toEqual([field]);
      expect(ack.errors![field], JSON.stringify(fill)).toMatch(message);
    }
    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("changes once when the same modal is submitted twice, even at the same moment", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const { view, responseId } = await typeAndOpen(ana.id, "app create");
    const viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`;
    const fill = { hostname: `${unique("twice")}.example.com`, "--org": org, "--name": "twice" };
    const before = await snapshot(bed.world.platform);

    const acks = await Promise.all([submit(ana.id, view, fill, viewId), submit(ana.id, view, fill, viewId)]);
    const again = await submit(ana.id, view, fill, viewId);
    expect(acks.map((result) => result.ack.response_action).sort()).toEqual(["clear", undefined]);
    expect(again.ack).toEqual({});
    expect(await applicationsNamed(`${org}/twice`)).toBe(1);
    const after = await snapshot(bed.world.platform);
    expect({ applications: after.applications! - before.applications!, audit: after.audit_events! - before.audit_events!, keys: after.request_keys! - before.request_keys! }).toEqual({ applications: 1, audit: 1, keys: 1 });
    await answerAt(responseId);
    expect(bed.fake.responses.get(responseId)).toHaveLength(1);
  });

  it("takes a corrected submission of a modal whose first submission was refused", async () => {
    const ana = await addSlackPerson(bed);
    const { view } = await typeAndOpen(ana.id, "org create");
    const viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`;
    const slug = unique("fixed");
    const refused = await submit(ana.id, view, { slug, "--billing-email": "not-an-email" }, viewId);
    expect(refused.ack.response_action).toBe("errors");
    expect(Object.keys(refused.ack.errors ?? {})).toEqual(["--billing-email"]);
    const accepted = await submit(ana.id, view, { slug, "--billing-email": "billing@example.com" }, viewId);
    expect(accepted.ack).toEqual({ response_action: "clear" });
    const row = await bed.world.platform.db.selectFrom("orgs").select(["slug", "billing_email"]).where("slug", "=", slug).executeTakeFirstOrThrow();
    expect(row).toEqual({ slug, billing_email: "billing@example.com" });
  });

  it("refuses a viewer on the application field, and writes nothing", async () => {
    const vic = await addSlackPerson(bed);
    const owner = await buildUser(bed.world.platform);
    const org = await buildOrg(bed.world.platform, owner);
    const app = await createApplication(bed.world.platform, { actor: owner, hostname: `${unique("www")}.example.com`, org, name: "shop" });
    await addMember(bed.world.platform, org, { ...vic.user, userId: vic.user.id }, "viewer");
    const { view } = await typeAndOpen(vic.id, `env create ${app.ref}`);
    const before = await snapshot(bed.world.platform);
    const { ack } = await submit(vic.id, view, { env: "staging" });
    expect(ack.response_action).toBe("errors");
    expect(ack.errors).toEqual({ app: expect.stringMatching(/you are a viewer here/) });
    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("opens forms from the Home tab's buttons and menus, and shows the result in the modal", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const app = await createApplication(bed.world.platform, { actor: ana.actor, hostname: `${unique("www")}.example.com`, org, name: "shop" });

    const create = await clickAndOpen(ana.id, { actionId: "open_form", value: `app create:${org}` });
    expect(create.callback_id).toBe("form:app create");
    expect(inputs(create)).toContainEqual({ block: "--org", element: "external_select", initial: org });

    const domain = await clickAndOpen(ana.id, { actionId: "open_form", value: `domain add:${app.ref}`, overflow: true });
    expect(inputs(domain)[0]).toEqual({ block: "app", element: "external_select", initial: app.ref });
    const hostname = `${unique("shop")}.example.com`;
    const homes = bed.fake.callsOf("views.publish").length;
    const { ack } = await submit(ana.id, domain, { env: "production", hostname });
    expect(ack.response_action).toBe("update");
    expect(JSON.stringify(ack.view?.blocks)).toContain(hostname);
    const row = await bed.world.platform.db.selectFrom("domains").select("hostname").where("hostname", "=", hostname).executeTakeFirst();
    expect(row).toEqual({ hostname });
    const home = await bed.fake.waitFor(() => bed.fake.callsOf("views.publish").slice(homes).find((call) => call.args.user_id === ana.id));
    expect(JSON.stringify(home.args.view)).toContain(hostname);
  });

  it("opens nothing for a button that names no form or a malformed subject", async () => {
    const ana = await addSlackPerson(bed);
    const opened = bed.fake.callsOf("views.open").length;
    for (const value of ["rm -rf", "org show:acme", "env create:../../etc", "app create:Not An Org", "domain add:acme/www:extra", ""]) {
      const response = await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: ana.id, actionId: "open_form", value })));
      expect(response.status, value).toBe(200);
    }
    // A message button with a bad value answers in the message's channel.
    const responseId = unique("bad-button");
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: ana.id, actionId: "open_form", value: "nonsense", responseUrl: bed.fake.responseUrl(responseId) })));
    expect((await answerAt(responseId)).seen).toMatch(/out of date/);
    expect(bed.fake.callsOf("views.open")).toHaveLength(opened);
  });

  it("answers with the usage when Slack will not open the form", async () => {
    const ana = await addSlackPerson(bed);
    bed.fake.replyOnce("views.open", { body: { ok: false, error: "expired_trigger_id" } });
    const { body, responseId } = slashCommandBody(bed.fake, { text: "domain add", userId: ana.id });
    await signedRequest(bed.url, body);
    const answer = await answerAt(responseId);
    expect(answer.seen).toMatch(/<app> is missing/);
    expect(answer.seen).toContain("Usage: `domain add <app> <env> <hostname>`");
  });

  it("refuses a submission of an unknown form or with tampered metadata without obeying it", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const { view } = await typeAndOpen(ana.id, "org create");
    const before = await snapshot(bed.world.platform);
    const unknown = await submit(ana.id, { ...view, callback_id: "form:org show" }, { slug: org });
    expect(unknown.ack).toEqual({ response_action: "errors", errors: { slug: "this form is out of date: close it and start again" } });
    expect(await snapshot(bed.world.platform)).toEqual(before);

    // Metadata that is not edgebot's own answers in the modal instead of posting anywhere it names.
    const slug = unique("meta");
    const tampered = await submit(ana.id, { ...view, private_metadata: JSON.stringify({ from: "command", responseUrl: "file:///etc/passwd" }) }, { slug });
    expect(tampered.ack.response_action).toBe("update");
    expect(JSON.stringify(tampered.ack.view?.blocks)).toContain(slug);
  });

  it("answers a button, form or picker it no longer has (an earlier edgebot's) at once, and writes nothing", async () => {
    const ana = await addSlackPerson(bed);
    await buildOrg(bed.world.platform, ana.actor);
    const before = await snapshot(bed.world.platform);

    // A button on a message: answered under it.
    const responseId = unique("old-button");
    const clicked = await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: ana.id, actionId: "deploy_now", value: "acme/www", responseUrl: bed.fake.responseUrl(responseId) })));
    expect(clicked.status).toBe(200);
    const answer = await answerAt(responseId);
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.seen).toContain("That button is not one edgebot made, or it is out of date: nothing was done. Type `help` instead.");

    // A button on the Home tab, which has no conversation: told directly.
    const told = bed.fake.callsOf("chat.postMessage").filter((call) => call.args.channel === ana.id).length;
    expect((await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: ana.id, actionId: "home_deploy:production", value: "{}" })))).status).toBe(200);
    const message = await bed.fake.waitFor(() => bed.fake.callsOf("chat.postMessage").filter((call) => call.args.channel === ana.id)[told]);
    expect(plainText({ text: String(message.args.text), blocks: [] })).toContain("That button is not one edgebot made, or it is out of date");

    // A modal's submission: the modal says so.
    const { view } = await typeAndOpen(ana.id, "org create");
    const submitted = await submit(ana.id, { ...view, callback_id: "deploy_form" }, { slug: unique("old-form") });
    expect(submitted.status).toBe(200);
    expect(submitted.ack.response_action).toBe("update");
    const shown = (submitted.ack.view!.blocks as Array<{ text?: { text: string } }>).map((block) => plainText({ text: block.text?.text ?? "", blocks: [] })).join("\n");
    expect(shown).toContain("This form is not one edgebot made, or it is out of date: nothing was changed. Type `help` instead.");

    // A picker: no options.
    const asked = await signedRequest(bed.url, interactionBody(blockSuggestionPayload({ userId: ana.id, actionId: "pick_region", value: "eu" })));
    expect(asked.status).toBe(200);
    expect(await asked.json()).toEqual({ options: [] });

    expect(await snapshot(bed.world.platform)).toEqual(before);
  });

  it("offers in its pickers only the person's own orgs and applications that match what they type", async () => {
    const ana = await addSlackPerson(bed);
    const org = await buildOrg(bed.world.platform, ana.actor);
    const other = await buildOrg(bed.world.platform, await buildUser(bed.world.platform));
    const mine = await createApplication(bed.world.platform, { actor: ana.actor, hostname: `${unique("pick")}.example.com`, org, name: "picker-shop" });
    const owner = (await bed.world.platform.db.selectFrom("memberships as m").innerJoin("orgs as o", "o.id", "m.org_id").select("m.user_id").where("o.slug", "=", other).executeTakeFirstOrThrow()).user_id;
    await createApplication(bed.world.platform, { actor: { userId: owner }, hostname: `${unique("pick")}.example.com`, org: other, name: "picker-shop" });

    const ask = async (actionId: string, value: string) => {
      const response = await signedRequest(bed.url, interactionBody(blockSuggestionPayload({ userId: ana.id, actionId, value })));
      expect(response.status).toBe(200);
      return ((await response.json()) as { options: Array<{ value: string }> }).options.map((option) => option.value);
    };
    expect(await ask("pick_app", "picker")).toEqual([mine.ref]);
    expect(await ask("pick_app", "100%_\\")).toEqual([]);
    expect(await ask("pick_org", "")).toEqual([org]);
    expect(await ask("pick_org", "zzz-no-such")).toEqual([]);
  });
});
