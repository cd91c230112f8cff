import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expireMoves } from "../../../src/core/moves.ts";
import { plainText } from "../../../src/bot/shell.ts";
import type { OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import { addSlackPerson, blockActionPayload, interactionBody, manualOutbox, signedRequest, slashCommandBody, useSlackApp, viewOf, viewSubmissionPayload, type OpenedView } from "../../support/slack-app.ts";
import { addMember, applicationId, buildApplication, buildOrg, snapshot, unique } from "../../support/world.ts";

const bed = useSlackApp();
let outbox: OutboxWorker;

beforeAll(() => {
  outbox = manualOutbox(bed.world.platform.db, bed.fake);
});

afterAll(async () => {
  await outbox.stop();
});

type Person = Awaited<ReturnType<typeof addSlackPerson>>;

/**
 * An agency (its owner and an admin) with an application, and a client org owned by the client
 * with an admin and a developer; the agency's admin is a developer of the client's org, so a
 * move they ask for waits for the client. No channels: requests go to owners and admins by DM.
 */
async function scene() {
  const agencyOwner = await addSlackPerson(bed, unique("boss"));
  const agent = await addSlackPerson(bed, unique("agent"));
  const clientOwner = await addSlackPerson(bed, unique("client"));
  const clientAdmin = await addSlackPerson(bed, unique("cadmin"));
  const clientDev = await addSlackPerson(bed, unique("cdev"));
  const agency = await buildOrg(bed.world.platform, agencyOwner.actor, unique("agency"));
  const client = await buildOrg(bed.world.platform, clientOwner.actor, unique("client"));
  await addMember(bed.world.platform, agency, agent.actor, "admin");
  await addMember(bed.world.platform, client, agent.actor, "developer");
  await addMember(bed.world.platform, client, clientAdmin.actor, "admin");
  await addMember(bed.world.platform, client, clientDev.actor, "developer");
  const { ref } = await buildApplication(bed.world.platform, agencyOwner.actor, agency);
  return { agencyOwner, agent, clientOwner, clientAdmin, clientDev, agency, client, ref, slug: ref.split("/")[1]!, id: await applicationId(bed.world.platform, ref) };
}

/** Types `/edge <text>` and resolves with the answer as the person reads it. */
async function type(person: Person, text: string): Promise<string> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id });
  await signedRequest(bed.url, body);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return plainText({ text: String(answer.text), blocks: [] });
}

/** Clicks a button of a message; resolves with the ephemeral answer the clicker alone sees. */
async function click(person: Person, actionId: string, value: number): Promise<string> {
  const responseId = unique("click");
  await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: person.id, actionId, value: String(value), responseUrl: bed.fake.responseUrl(responseId) })));
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return plainText({ text: String(answer.text), blocks: [] });
}

async function moveId(app: number): Promise<number> {
  return (await bed.world.platform.db.selectFrom("application_moves").select("id").where("application_id", "=", app).orderBy("id", "desc").executeTakeFirstOrThrow()).id;
}

async function orgOf(id: number): Promise<string> {
  return (await bed.world.platform.db.selectFrom("applications as a").innerJoin("orgs as o", "o.id", "a.org_id").select("o.slug").where("a.id", "=", id).executeTakeFirstOrThrow()).slug;
}

const dm = (person: Person) => `D${person.id.slice(1)}`;

/** Messages posted (to a person: their user id) and edited (in their DM) since `since`, as read, with whether they hold buttons. */
async function postsSince(since: number) {
  await outbox.deliverDue();
  return bed.fake.calls
    .slice(since)
    .filter((call) => call.method === "chat.postMessage" || call.method === "chat.update")
    .map((call) => ({ method: call.method, channel: String(call.args.channel), text: plainText({ text: String(call.args.text), blocks: [] }), buttons: JSON.stringify(call.args.blocks ?? []).includes('"type":"actions"') }));
}

describe("handing an application over in Slack", () => {
  it("moves at once when the asker is an owner of both orgs, and says where it is now", async () => {
    const { agencyOwner, agent, clientOwner, clientAdmin, client, ref, slug, id } = await scene();
    await addMember(bed.world.platform, client, agencyOwner.actor, "owner");
    const since = bed.fake.calls.length;
    const answer = await type(agencyOwner, `app move ${ref} --to ${client}`);
    expect(answer).toContain(`Moved ${ref} to ${client}: it is now ${client}/${slug}, with its repository and history, 1 environment(s) and 1 domain(s).`);
    expect(await orgOf(id)).toBe(client);
    const posts = await postsSince(since);
    // The agency and the client, neither with a channel: their owners and admins by DM.
    const told = posts.filter((post) => post.text.includes(`${ref} moved to another org: it is now ${client}/${slug}`)).map((post) => post.channel);
    // Each org's owners and admins once: the agency's owner is both orgs' owner, told by each.
    expect(told.sort()).toEqual([agencyOwner.id, agent.id, agencyOwner.id, clientOwner.id, clientAdmin.id].sort());
  });

  it("asks the target's owners and admins; a developer's click and the requester's are refused; the admin's Approve moves it and edits every copy", async () => {
    const { agent, clientOwner, clientAdmin, clientDev, client, ref, slug, id } = await scene();
    const since = bed.fake.calls.length;
    expect(await type(agent, `app move ${ref} --to ${client}`)).toContain(`Asked to move ${ref} to ${client}`);
    const move = await moveId(id);
    const requests = (await postsSince(since)).filter((post) => post.text.includes(`A request to move ${ref} into ${client}`));
    expect(requests.map((post) => post.channel).sort()).toEqual([clientOwner.id, clientAdmin.id].sort());
    expect(requests.every((post) => post.buttons)).toBe(true);

    expect(await click(clientDev, "move_approve", move)).toContain(`you are a developer of ${client}: only an owner or admin of ${client} can decide what moves into it`);
    expect(await click(agent, "move_approve", move)).toContain(`you are a developer of ${client}`);
    expect(await orgOf(id)).not.toBe(client);

    const before = bed.fake.calls.length;
    expect(await click(clientAdmin, "move_approve", move)).toContain(`it is now ${client}/${slug}`);
    expect(await orgOf(id)).toBe(client);
    const after = await postsSince(before);
    const edits = after.filter((post) => post.method === "chat.update");
    expect(edits.map((edit) => edit.channel).sort()).toEqual([dm(clientOwner), dm(clientAdmin)].sort());
    expect(edits.every((edit) => edit.text.includes(`approved by ${clientAdmin.user.displayName}`) && !edit.buttons)).toBe(true);
    expect(after.filter((post) => post.channel === agent.id).map((post) => post.text)).toContainEqual(expect.stringContaining(`Your request ${move} to move ${ref} into ${client} was approved`));
    expect(await click(clientOwner, "move_approve", move)).toContain(`move ${move} was already approved by ${clientAdmin.user.displayName}`);
  });

  it("makes one move when two admins click Approve at once, or one click arrives twice", async () => {
    const { agent, clientOwner, clientAdmin, client, ref, id } = await scene();
    await type(agent, `app move ${ref} --to ${client}`);
    const move = await moveId(id);
    const seen = await Promise.all([click(clientOwner, "move_approve", move), click(clientAdmin, "move_approve", move), click(clientAdmin, "move_approve", move)]);
    expect(seen.filter((text) => text.includes("Moved ")), seen.join("\n")).toHaveLength(1);
    expect(seen.filter((text) => text.includes("already approved")), seen.join("\n")).toHaveLength(2);
    const audits = (await bed.world.platform.db.selectFrom("audit_events").select(["org_slug", "details"]).where("action", "=", "app.move").execute()).filter((row) => row.details.move === move);
    expect(audits.map((row) => row.org_slug).sort()).toEqual([client, ref.split("/")[0]!].sort());
    expect(await orgOf(id)).toBe(client);
  });

  it("asks for a reason on Deny, keeps the application where it was and tells the requester", async () => {
    const { agent, clientOwner, clientAdmin, clientDev, agency, client, ref, id } = await scene();
    await type(agent, `app move ${ref} --to ${client}`);
    const move = await moveId(id);
    await outbox.deliverDue();
    // A developer's Deny is refused before any question.
    expect(await click(clientDev, "move_deny", move)).toContain("only an owner or admin");
    const opened = bed.fake.callsOf("views.open").length;
    const responseId = unique("deny");
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: clientOwner.id, actionId: "move_deny", value: String(move), responseUrl: bed.fake.responseUrl(responseId) })));
    const view: OpenedView = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
    expect(view.callback_id).toBe("move_deny");
    const viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`;
    const submit = async (reason: string) => {
      const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId, userId: clientOwner.id, fill: { reason } })));
      const text = await response.text();
      return text === "" ? {} : JSON.parse(text);
    };
    expect(await submit("x".repeat(501))).toMatchObject({ response_action: "errors", errors: { reason: expect.stringMatching(/too long/) } });
    const since = bed.fake.calls.length;
    expect(await submit("we host it ourselves")).toEqual({ response_action: "clear" });
    expect(await submit("we host it ourselves")).toEqual({});
    expect(plainText({ text: String((await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0])).text), blocks: [] })).toContain(`Denied move ${move}: ${ref} stays in ${agency}`);
    const after = await postsSince(since);
    expect(after.filter((post) => post.method === "chat.update").every((edit) => edit.text.includes(`denied by ${clientOwner.user.displayName}`) && !edit.buttons)).toBe(true);
    expect(after.filter((post) => post.channel === agent.id).map((post) => post.text)).toEqual([expect.stringContaining("was denied: we host it ourselves")]);
    expect(await orgOf(id)).toBe(agency);
    expect(await click(clientAdmin, "move_approve", move)).toContain(`move ${move} was already denied by ${clientOwner.user.displayName}`);
  });

  it("answers expired on an old request's buttons, and the sweep edits its messages", async () => {
    const { agent, clientAdmin, agency, client, ref, id } = await scene();
    await type(agent, `app move ${ref} --to ${client}`);
    const move = await moveId(id);
    await outbox.deliverDue();
    await bed.world.platform.db.updateTable("application_moves").set({ expires_at: new Date(Date.now() - 60_000) }).where("id", "=", move).execute();
    expect(await click(clientAdmin, "move_approve", move)).toMatch(`move ${move} expired at`);
    expect((await expireMoves(bed.world.platform.db)).map((expired) => expired.id)).toContain(move);
    const since = bed.fake.calls.length;
    const edits = (await postsSince(since)).filter((post) => post.method === "chat.update" && post.text.includes(`Request ${move} `));
    expect(edits).toHaveLength(2);
    expect(edits.every((edit) => edit.text.includes("expired") && !edit.buttons)).toBe(true);
    expect(await orgOf(id)).toBe(agency);
  });

  it("answers bad input for move, leave and clone clearly and writes nothing", async () => {
    const { agencyOwner, agent, clientDev, agency, client, ref, slug } = await scene();
    const before = await snapshot(bed.world.platform);
    expect(await type(agent, `app move ${ref}`)).toContain("say which org to move it to: add --to <org>");
    expect(await type(agent, `app move ${ref} --to nowhere-at-all`)).toContain("org nowhere-at-all not found");
    expect(await type(clientDev, `app move ${ref} --to ${client}`)).toContain(`application ${ref} not found`);
    expect(await type(agent, `move approve abc`)).toContain("abc is not a move id");
    expect(await type(agencyOwner, `member leave ${agency}`)).toContain(`you are the last owner of ${agency}`);
    expect(await type(clientDev, `member leave ${agency}`)).toContain(`org ${agency} not found`);
    expect(await type(agent, `app clone ${ref} --name ${slug}`)).toContain(`${agency} already has an application named ${slug}`);
    expect(await type(agent, `app clone ${ref} --name Bad_Slug`)).toContain("--name");
    expect(await type(clientDev, `app clone ${ref} --name copy`)).toContain(`application ${ref} not found`);
    expect(await snapshot(bed.world.platform)).toEqual(before);
    const moves = await bed.world.platform.db.selectFrom("application_moves").select("id").where("application_id", "=", await applicationId(bed.world.platform, ref)).execute();
    expect(moves).toEqual([]);
  });

  it("leaves an org and clones an application from the slash command", async () => {
    const { agent, clientDev, client, agency, ref } = await scene();
    expect(await type(clientDev, `member leave ${client}`)).toContain(`You left ${client} (you were developer)`);
    const name = unique("copy");
    expect(await type(agent, `app clone ${ref} --name ${name}`)).toContain(`Created ${agency}/${name} as a copy of ${ref}: production with its 1 commit(s) of history, and no domains`);
  });

  it("opens the forms of app move, app clone and member leave when their arguments are missing", async () => {
    const { agent } = await scene();
    for (const [line, callback, blocks] of [
      ["app move", "form:app move", ["app", "--to"]],
      ["app clone", "form:app clone", ["app", "--name", "--org"]],
      ["member leave", "form:member leave", ["org"]],
    ] as const) {
      const opened = bed.fake.callsOf("views.open").length;
      const { body } = slashCommandBody(bed.fake, { text: line, userId: agent.id });
      await signedRequest(bed.url, body);
      const view = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
      expect(view.callback_id).toBe(callback);
      expect(view.blocks.filter((block) => block.type === "input").map((block) => block.block_id)).toEqual(blocks);
    }
  });
});
