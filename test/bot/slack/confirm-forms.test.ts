import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import { createApplication } from "../../../src/core/applications.ts";
import {
  addSlackPerson,
  blockActionPayload,
  interactionBody,
  signedRequest,
  slashCommandBody,
  useSlackApp,
  viewOf,
  viewSubmissionPayload,
  type OpenedView,
} from "../../support/slack-app.ts";
import { addMember, buildOrg, snapshot, unique } from "../../support/world.ts";

const bed = useSlackApp();

type Person = Awaited<ReturnType<typeof addSlackPerson>>;
type Ack = { response_action?: string; errors?: Record<string, string>; view?: OpenedView & { submit?: { text: string }; close?: { text: string } } };

/** Types `/edge <text>` with its arguments missing; resolves with the form edgebot opened. */
async function typeAndOpen(person: Person, text: string): Promise<{ view: OpenedView; responseId: string }> {
  const opened = bed.fake.callsOf("views.open").length;
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id });
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  return { view: viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened])), responseId };
}

/** Submits a modal as Slack would; resolves with edgebot's acknowledgement. */
async function submit(person: Person, view: OpenedView, viewId: string, fill: Record<string, string | null> = {}): Promise<Ack> {
  const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId, userId: person.id, fill })));
  expect(response.status).toBe(200);
  const text = await response.text();
  return (text === "" ? {} : JSON.parse(text)) as Ack;
}

function newViewId(): string {
  return `V${randomBytes(5).toString("hex").toUpperCase()}`;
}

function seen(view: OpenedView | undefined): string {
  return JSON.stringify(view?.blocks ?? []);
}

async function applicationExists(ref: string): Promise<boolean> {
  const [org, slug] = ref.split("/");
  const row = await bed.world.platform.db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select("a.id")
    .where("o.slug", "=", org!)
    .where("a.slug", "=", slug!)
    .executeTakeFirst();
  return row !== undefined;
}

async function anApplication() {
  const owner = await addSlackPerson(bed);
  const viewer = await addSlackPerson(bed);
  const org = await buildOrg(bed.world.platform, owner.actor);
  await addMember(bed.world.platform, org, viewer.actor, "viewer");
  const app = await createApplication(bed.world.platform, { actor: owner.actor, hostname: `${unique("www")}.example.com`, org, name: "shop" });
  return { owner, viewer, org, ref: app.ref };
}

describe("a destructive command's form asks for a confirmation, not for the name typed again", () => {
  it("app delete: the form asks only for the application; its confirmation deletes it and answers where the command was typed", async () => {
    const { owner, ref } = await anApplication();
    const { view: form, responseId } = await typeAndOpen(owner, "app delete");
    // No field asks for the name again.
    expect(form.blocks.filter((block) => block.type === "input").map((block) => block.block_id)).toEqual(["app"]);

    const viewId = newViewId();
    const asked = await submit(owner, form, viewId, { app: ref });
    expect(asked.response_action).toBe("update");
    expect(asked.view?.callback_id).toBe("form_confirm:app delete");
    expect(seen(asked.view)).toContain(`Delete ${ref} with its environments, domains and repository?`);
    expect(asked.view?.submit?.text).toBe("Delete");
    expect(asked.view?.close?.text).toBe("Cancel");
    // Asking deleted nothing.
    expect(await applicationExists(ref)).toBe(true);

    // Slack keeps the view's id when it is updated: the confirmation comes back under it.
    const confirmed = await submit(owner, asked.view!, viewId);
    expect(confirmed.response_action).toBe("clear");
    expect(await applicationExists(ref)).toBe(false);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    expect(plainText({ text: String(answer.text), blocks: [] })).toContain(`Deleted ${ref}`);
  });

  it("Cancel writes nothing: the confirmation is only closed", async () => {
    const { owner, ref } = await anApplication();
    const { view: form } = await typeAndOpen(owner, "app delete");
    const before = await snapshot(bed.world.platform);
    const asked = await submit(owner, form, newViewId(), { app: ref });
    expect(asked.view?.callback_id).toBe("form_confirm:app delete");
    // The person clicks Cancel: Slack closes the modal and sends edgebot nothing.
    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await applicationExists(ref)).toBe(true);
  });

  it("a confirmation submitted twice deletes once", async () => {
    const { owner, ref } = await anApplication();
    const { view: form } = await typeAndOpen(owner, "app delete");
    const viewId = newViewId();
    const asked = await submit(owner, form, viewId, { app: ref });
    const acks = await Promise.all([submit(owner, asked.view!, viewId), submit(owner, asked.view!, viewId)]);
    // One deletes; the other finds it done (quietly) or gone (and says so), deleting nothing.
    expect(acks.filter((ack) => ack.response_action === "clear")).toHaveLength(1);
    expect(await applicationExists(ref)).toBe(false);
    const deletions = await bed.world.platform.db.selectFrom("audit_events").select("id").where("action", "=", "app.delete").where("target", "=", ref).execute();
    expect(deletions).toHaveLength(1);
  });

  it("a viewer who confirms is refused in the modal, and nothing is deleted", async () => {
    const { viewer, ref } = await anApplication();
    const { view: form } = await typeAndOpen(viewer, "app delete");
    const viewId = newViewId();
    const asked = await submit(viewer, form, viewId, { app: ref });
    const refused = await submit(viewer, asked.view!, viewId);
    expect(refused.response_action).toBe("update");
    expect(seen(refused.view)).toMatch(/not allowed|may not|viewer|not found/i);
    expect(seen(refused.view)).toContain("Nothing was changed");
    expect(await applicationExists(ref)).toBe(true);
  });

  it("a confirmation whose metadata edgebot did not write is refused, and nothing is deleted", async () => {
    const { owner, ref } = await anApplication();
    const { view: form } = await typeAndOpen(owner, "app delete");
    const viewId = newViewId();
    const asked = await submit(owner, form, viewId, { app: ref });
    const before = await snapshot(bed.world.platform);
    for (const metadata of ["not json", JSON.stringify({ origin: { from: "home" }, values: { app: ref, "--confirm": 1 } }), JSON.stringify({ values: { app: ref } })]) {
      const refused = await submit(owner, { ...asked.view!, private_metadata: metadata }, viewId);
      expect(refused.response_action).toBe("update");
      expect(seen(refused.view)).toContain("out of date");
    }
    expect(await snapshot(bed.world.platform)).toEqual(before);
    expect(await applicationExists(ref)).toBe(true);
  });

  it("from the Home tab's menu: the form opens filled in, and once confirmed the modal says what was deleted", async () => {
    const { owner, ref } = await anApplication();
    const opened = bed.fake.callsOf("views.open").length;
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: owner.id, actionId: "open_form", value: `app delete:${ref}`, overflow: true })));
    const form = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
    const viewId = newViewId();
    const asked = await submit(owner, form, viewId);
    expect(seen(asked.view)).toContain(`Delete ${ref}`);
    const done = await submit(owner, asked.view!, viewId);
    expect(done.response_action).toBe("update");
    expect(seen(done.view)).toContain(`Deleted *${ref}*`);
    expect(await applicationExists(ref)).toBe(false);
  });

  it("member remove: the confirmation names the person picked, and removes them once confirmed", async () => {
    const { owner, viewer, org } = await anApplication();
    const { view: form } = await typeAndOpen(owner, `member remove ${org}`);
    const viewId = newViewId();
    const asked = await submit(owner, form, viewId, { member: viewer.id });
    expect(seen(asked.view)).toContain(`Remove <@${viewer.id}> from ${org}?`);
    expect(asked.view?.submit?.text).toBe("Remove");
    const removed = await submit(owner, asked.view!, viewId);
    expect(removed.response_action).toBe("clear");
    const membership = await bed.world.platform.db
      .selectFrom("memberships as m")
      .innerJoin("orgs as o", "o.id", "m.org_id")
      .select("m.role")
      .where("o.slug", "=", org)
      .where("m.user_id", "=", viewer.user.id)
      .executeTakeFirst();
    expect(membership).toBeUndefined();
  });

  it("typed, the name is still asked for with --confirm", async () => {
    const { owner, ref } = await anApplication();
    const { body, responseId } = slashCommandBody(bed.fake, { text: `app delete ${ref}`, userId: owner.id });
    await signedRequest(bed.url, body);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    expect(String(answer.text)).toContain(`add --confirm ${ref}`);
    expect(await applicationExists(ref)).toBe(true);
  });
});
