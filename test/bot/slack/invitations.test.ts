import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import type { OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import { expireInvitations } from "../../../src/core/invitations.ts";
import type { RecordedCall } from "../../support/fake-slack.ts";
import {
  addSlackPerson,
  appHomeOpenedBody,
  blockActionPayload,
  interactionBody,
  signedRequest,
  slashCommandBody,
  manualOutbox,
  useSlackApp,
  viewOf,
  viewSubmissionPayload,
} from "../../support/slack-app.ts";
import { addMember, buildOrg, unique } from "../../support/world.ts";

const bed = useSlackApp();
let outbox: OutboxWorker;

beforeAll(() => {
  outbox = manualOutbox(bed.world.platform.db, bed.fake);
});

afterAll(async () => {
  await outbox.stop();
});

type Person = Awaited<ReturnType<typeof addSlackPerson>>;

/** An org with a Slack owner, admin and developer, and no channel: requests go to owner and admin directly. */
async function agency() {
  const owner = await addSlackPerson(bed, unique("owner"));
  const admin = await addSlackPerson(bed, unique("admin"));
  const developer = await addSlackPerson(bed, unique("dev"));
  const org = await buildOrg(bed.world.platform, owner.actor);
  await addMember(bed.world.platform, org, admin.actor, "admin");
  await addMember(bed.world.platform, org, developer.actor, "developer");
  return { org, owner, admin, developer };
}

/** Types `/edge <text>` and resolves with the answer as the person reads it. */
async function type(person: Person, text: string, teamId?: string): Promise<string> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: person.id, ...(teamId ? { teamId } : {}) });
  await signedRequest(bed.url, body);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return plainText({ text: String(answer.text), blocks: [] });
}

/** Clicks a button of a message; resolves with the ephemeral answer the clicker alone sees. */
async function click(person: Person, actionId: string, value: string): Promise<{ seen: string; answer: Record<string, unknown> }> {
  const responseId = unique("click");
  await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: person.id, actionId, value, responseUrl: bed.fake.responseUrl(responseId) })));
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return { seen: plainText({ text: String(answer.text), blocks: [] }), answer };
}

async function invitationId(email: string): Promise<number> {
  const row = await bed.world.platform.db.selectFrom("invitations").select("id").where("invitee_email", "=", email).orderBy("id", "desc").executeTakeFirstOrThrow();
  return row.id;
}

function postsTo(person: Person, since = 0): RecordedCall[] {
  return bed.fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && call.args.channel === person.id);
}

function updates(since: number): RecordedCall[] {
  return bed.fake.calls.slice(since).filter((call) => call.method === "chat.update");
}

describe("inviting client users from Slack", () => {
  it("goes from a developer's request through an admin's Approve to a member who is told", async () => {
    const { org, owner, admin, developer } = await agency();
    const client = await addSlackPerson(bed, unique("client"));
    const start = bed.fake.calls.length;
    expect(await type(developer, `member invite ${org} <mailto:${client.email}|${client.email}> --role developer`)).toMatch(/Asked to invite .* as developer/);
    const id = await invitationId(client.email);

    await outbox.deliverDue();
    for (const decider of [owner, admin]) {
      const [request] = postsTo(decider, start);
      expect(plainText({ text: String(request?.args.text), blocks: [] })).toContain(`invite approve ${id}`);
      const buttons = JSON.stringify(request?.args.blocks);
      expect(buttons).toContain('"action_id":"invitation_approve"');
      expect(buttons).toContain('"action_id":"invitation_deny"');
    }
    expect(postsTo(developer, start)).toHaveLength(0);

    const approved = await click(admin, "invitation_approve", String(id));
    expect(approved.answer).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(approved.seen).toContain(`is now developer of ${org}`);
    const membership = await bed.world.platform.db.selectFrom("memberships").select("role").where("user_id", "=", client.user.id).executeTakeFirst();
    expect(membership).toEqual({ role: "developer" });

    const beforeEdits = bed.fake.calls.length;
    await outbox.deliverDue();
    const edited = updates(beforeEdits);
    // Both copies, each in the direct message channel it was posted to, at its own timestamp.
    expect(edited.map((call) => call.args.channel).sort()).toEqual([`D${owner.id.slice(1)}`, `D${admin.id.slice(1)}`].sort());
    for (const call of edited) {
      expect(String(call.args.text)).toMatch(new RegExp(`approved by ${admin.user.displayName} on <!date\\^\\d+\\^`));
      expect(JSON.stringify(call.args.blocks)).not.toContain("invitation_approve");
    }
    expect(postsTo(client, beforeEdits).map((call) => String(call.args.text))).toEqual([expect.stringContaining(`You are now developer of *${org}*`)]);
    expect(postsTo(developer, beforeEdits).map((call) => String(call.args.text))).toEqual([expect.stringContaining("was approved")]);
  });

  it("refuses a developer's click and a viewer's invitation, changing nothing", async () => {
    const { org, developer } = await agency();
    const viewer = await addSlackPerson(bed, unique("viewer"));
    await addMember(bed.world.platform, org, viewer.actor, "viewer");
    const email = `${unique("c")}@client.example`;
    await type(developer, `member invite ${org} ${email}`);
    const id = await invitationId(email);
    const opened = bed.fake.callsOf("views.open").length;

    for (const action of ["invitation_approve", "invitation_deny"]) {
      const { seen, answer } = await click(developer, action, String(id));
      expect(answer.response_type).toBe("ephemeral");
      expect(seen).toMatch(/you asked for this invitation|you are a developer here/);
    }
    expect(bed.fake.callsOf("views.open")).toHaveLength(opened);
    expect(await type(viewer, `member invite ${org} other-${email}`)).toMatch(/you are a viewer here/);
    const row = await bed.world.platform.db.selectFrom("invitations").select("status").where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.status).toBe("pending");
    const count = await bed.world.platform.db.selectFrom("invitations").select("id").where("invitee_email", "=", `other-${email}`).execute();
    expect(count).toHaveLength(0);
  });

  it("makes one decision when two admins click Approve at once, or one click arrives twice", async () => {
    const { org, owner, admin, developer } = await agency();
    const client = await addSlackPerson(bed, unique("client"));
    await type(developer, `member invite ${org} ${client.email}`);
    const id = await invitationId(client.email);
    const answers = await Promise.all([click(owner, "invitation_approve", String(id)), click(admin, "invitation_approve", String(id)), click(admin, "invitation_approve", String(id))]);
    const seen = answers.map((answer) => answer.seen);
    expect(seen.filter((text) => /is now viewer/.test(text))).toHaveLength(1);
    expect(seen.filter((text) => /already approved by/.test(text))).toHaveLength(2);
    const memberships = await bed.world.platform.db.selectFrom("memberships").select("role").where("user_id", "=", client.user.id).execute();
    expect(memberships).toHaveLength(1);
    const decisions = await bed.world.platform.db.selectFrom("audit_events").select("id").where("org_slug", "=", org).where("action", "=", "invitation.approve").execute();
    expect(decisions).toHaveLength(1);
  });

  it("asks for a reason on Deny, and tells the requester with it", async () => {
    const { org, owner, developer } = await agency();
    const email = `${unique("nope")}@client.example`;
    await type(developer, `member invite ${org} ${email}`);
    const id = await invitationId(email);
    await outbox.deliverDue();
    const opened = bed.fake.callsOf("views.open").length;
    const responseId = unique("deny");
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: owner.id, actionId: "invitation_deny", value: String(id), responseUrl: bed.fake.responseUrl(responseId) })));
    const view = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
    expect(view.callback_id).toBe("invitation_deny");

    const viewId = `V${unique("deny").toUpperCase()}`;
    const submit = async (reason: string) => {
      const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId, userId: owner.id, fill: { reason } })));
      const text = await response.text();
      return text === "" ? {} : JSON.parse(text);
    };
    expect(await submit("x".repeat(501))).toMatchObject({ response_action: "errors", errors: { reason: expect.stringMatching(/too long/) } });
    expect(await submit("not a client of ours")).toEqual({ response_action: "clear" });
    expect(await submit("not a client of ours")).toEqual({});
    const row = await bed.world.platform.db.selectFrom("invitations").select(["status", "deny_reason"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "denied", deny_reason: "not a client of ours" });
    expect(plainText({ text: String((await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0])).text), blocks: [] })).toMatch(/Denied invitation/);

    const before = bed.fake.calls.length;
    await outbox.deliverDue();
    expect(postsTo(developer, before).map((call) => String(call.args.text))).toEqual([expect.stringContaining("was denied: not a client of ours")]);
    expect(updates(before).every((call) => String(call.args.text).includes(`denied by ${owner.user.displayName}`))).toBe(true);
    expect(updates(before)).toHaveLength(2);
  });

  it("answers expired on an old request's buttons and edits its messages when the sweep runs", async () => {
    const { org, admin, developer } = await agency();
    const email = `${unique("late")}@client.example`;
    await type(developer, `member invite ${org} ${email}`);
    const id = await invitationId(email);
    await outbox.deliverDue();
    await bed.world.platform.db.updateTable("invitations").set({ expires_at: new Date(Date.now() - 60_000) }).where("id", "=", id).execute();
    expect((await click(admin, "invitation_approve", String(id))).seen).toMatch(/expired/);
    expect((await expireInvitations(bed.world.platform.db)).map((invitation) => invitation.id)).toContain(id);
    const before = bed.fake.calls.length;
    await outbox.deliverDue();
    const edited = updates(before).filter((call) => String(call.args.text).includes(`Request ${id} `));
    expect(edited).toHaveLength(2);
    expect(edited.every((call) => String(call.args.text).includes("expired"))).toBe(true);
  });

  it("adds at once a workspace member edgebot has never met, named by mention or found by email", async () => {
    const { org, owner, admin, developer } = await agency();
    const mentioned = `U${unique("MENTIONED").toUpperCase()}`;
    bed.fake.addUser({ id: mentioned, teamId: "T0TEST", email: `${mentioned.toLowerCase()}@client.example`, name: "Mentioned" });
    expect(await type(owner, `member invite ${org} <@${mentioned}|mentioned> --role developer`)).toContain(`is now developer of ${org}`);

    const byEmail = `U${unique("EMAILED").toUpperCase()}`;
    const email = `${byEmail.toLowerCase()}@client.example`;
    bed.fake.addUser({ id: byEmail, teamId: "T0TEST", email, name: "Emailed" });
    await type(developer, `member invite ${org} ${email}`);
    expect((await click(admin, "invitation_approve", String(await invitationId(email)))).seen).toContain(`is now viewer of ${org}`);
    const lookups = bed.fake.callsOf("users.lookupByEmail").filter((call) => call.args.email === email);
    expect(lookups).toHaveLength(1);
    const members = await bed.world.platform.db
      .selectFrom("memberships as m")
      .innerJoin("user_identities as i", "i.user_id", "m.user_id")
      .innerJoin("orgs as o", "o.id", "m.org_id")
      .select(["i.chat_user_id", "m.role"])
      .where("o.slug", "=", org)
      .where("i.chat_user_id", "in", [mentioned, byEmail])
      .orderBy("m.role")
      .execute();
    expect(members).toEqual([
      { chat_user_id: mentioned, role: "developer" },
      { chat_user_id: byEmail, role: "viewer" },
    ]);
  });

  it("shows an admin the requests waiting for them on the Home tab, with buttons that work there", async () => {
    const { org, admin, developer } = await agency();
    const client = await addSlackPerson(bed, unique("homeclient"));
    await type(developer, `member invite ${org} ${client.email}`);
    const id = await invitationId(client.email);
    const homeOf = async (person: Person) => {
      const before = bed.fake.callsOf("views.publish").length;
      await signedRequest(bed.url, appHomeOpenedBody({ userId: person.id }), { contentType: "application/json" });
      const call = await bed.fake.waitFor(() => bed.fake.callsOf("views.publish").slice(before).find((candidate) => candidate.args.user_id === person.id));
      return JSON.stringify(call.args.view);
    };
    const home = await homeOf(admin);
    expect(home).toContain("Invitation requests waiting for you");
    expect(home).toContain(client.email);
    expect(home).toContain(`"value":"${id}"`);
    // The requester sees no buttons for their own request.
    expect(await homeOf(developer)).not.toContain("Invitation requests waiting for you");

    const before = bed.fake.calls.length;
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: admin.id, actionId: "invitation_approve", value: String(id) })));
    const told = await bed.fake.waitFor(() => postsTo(admin, before)[0]);
    expect(String(told.args.text)).toContain(`is now viewer of *${org}*`);
    const refreshed = await bed.fake.waitFor(() => bed.fake.calls.slice(before).find((call) => call.method === "views.publish" && call.args.user_id === admin.id));
    expect(JSON.stringify(refreshed.args.view)).not.toContain(client.email);
  });

  it("invites through the form: a person picked or an email typed, exactly one of them", async () => {
    const { org, owner, admin } = await agency();
    const picked = `U${unique("PICKED").toUpperCase()}`;
    bed.fake.addUser({ id: picked, teamId: "T0TEST", email: `${picked.toLowerCase()}@client.example`, name: "Picked" });
    const opened = bed.fake.callsOf("views.open").length;
    const { body } = slashCommandBody(bed.fake, { text: `member invite ${org}`, userId: owner.id });
    await signedRequest(bed.url, body);
    const view = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
    expect(view.callback_id).toBe("form:member invite");
    expect(view.blocks.filter((block) => block.type === "input").map((block) => [block.block_id, block.element?.type])).toEqual([
      ["org", "external_select"],
      ["invitee", "users_select"],
      ["invitee-email", "plain_text_input"],
      ["--role", "plain_text_input"],
    ]);
    const submit = async (fill: Record<string, string | null>) => {
      const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId: `V${unique("INV").toUpperCase()}`, userId: owner.id, fill })));
      const text = await response.text();
      return text === "" ? {} : JSON.parse(text);
    };
    expect(await submit({})).toMatchObject({ response_action: "errors", errors: { invitee: expect.stringMatching(/choose one/) } });
    expect(await submit({ invitee: picked, "invitee-email": "x@client.example" })).toMatchObject({ response_action: "errors", errors: { "invitee-email": expect.stringMatching(/not both/) } });
    expect(await submit({ "invitee-email": "not an email" })).toMatchObject({ response_action: "errors", errors: { "invitee-email": expect.stringMatching(/email address/) } });
    expect(await submit({ invitee: picked, "--role": "owner" })).toMatchObject({ response_action: "errors", errors: { "--role": expect.stringMatching(/cannot be owner/) } });
    expect(await submit({ invitee: picked, "--role": "admin" })).toEqual({ response_action: "clear" });
    // An invitation as admin waits for another owner's or admin's approval, even the owner's own.
    const invitation = await bed.world.platform.db.selectFrom("invitations").select(["id", "status", "role"]).where("invitee_email", "=", `${picked.toLowerCase()}@client.example`).executeTakeFirstOrThrow();
    expect(invitation).toMatchObject({ status: "pending", role: "admin" });
    expect((await click(admin, "invitation_approve", String(invitation.id))).seen).toContain(`is now admin of ${org}`);
    const member = await bed.world.platform.db
      .selectFrom("memberships as m")
      .innerJoin("user_identities as i", "i.user_id", "m.user_id")
      .innerJoin("orgs as o", "o.id", "m.org_id")
      .select("m.role")
      .where("o.slug", "=", org)
      .where("i.chat_user_id", "=", picked)
      .executeTakeFirst();
    expect(member).toEqual({ role: "admin" });
  });

  it("gives the code of an approved request for an outsider to the requester too, and keeps only its hash", async () => {
    const { org, admin, developer } = await agency();
    const email = `${unique("outsider")}@client.example`;
    await type(developer, `member invite ${org} ${email}`);
    const id = await invitationId(email);
    const before = bed.fake.calls.length;
    const approved = await click(admin, "invitation_approve", String(id));
    const code = /join ([A-Za-z0-9_-]{16})/.exec(approved.seen)?.[1];
    expect(code, approved.seen).toBeDefined();
    const toRequester = await bed.fake.waitFor(() => postsTo(developer, before)[0]);
    expect(plainText({ text: String(toRequester.args.text), blocks: [] })).toContain(`join ${code}`);
    const rows = await bed.world.platform.db.selectFrom("invitations").selectAll().where("id", "=", id).execute();
    const outbox = await bed.world.platform.db.selectFrom("outbox").select("payload").execute();
    expect(JSON.stringify([rows, outbox])).not.toContain(code);
  });

  it("gives the requester the code when the approval is typed, too", async () => {
    const { org, owner, developer } = await agency();
    const email = `${unique("typed")}@client.example`;
    await type(developer, `member invite ${org} ${email}`);
    const id = await invitationId(email);
    const before = bed.fake.calls.length;
    const answer = await type(owner, `invite approve ${id}`);
    const code = /join ([A-Za-z0-9_-]{16})/.exec(answer)?.[1];
    expect(code, answer).toBeDefined();
    const toRequester = await bed.fake.waitFor(() => postsTo(developer, before)[0]);
    expect(plainText({ text: String(toRequester.args.text), blocks: [] })).toContain(`join ${code}`);
  });

  it("lets an outsider join with the approval's code only with the invited email, from another workspace", async () => {
    const { org, owner } = await agency();
    const email = `${unique("outside")}@client.example`;
    const invited = await type(owner, `member invite ${org} ${email}`);
    const code = /join ([A-Za-z0-9_-]{16})/.exec(invited)?.[1];
    expect(code, invited).toBeDefined();

    const stranger = await addSlackPerson(bed, unique("stranger"));
    expect(await type(stranger, `join ${code}`)).toMatch(/that code is for someone else/);
    const id = `U${unique("NEWCOMER").toUpperCase()}`;
    bed.fake.addUser({ id, teamId: "T0SECOND", email: email.toUpperCase(), name: "Newcomer" });
    const newcomer = { id } as Person;
    expect(await type(newcomer, `join ${code}`, "T0SECOND")).toContain(`you are now viewer of ${org}`);
    expect(await type(newcomer, `join ${code}`, "T0SECOND")).toMatch(/not valid/);
  });
});
