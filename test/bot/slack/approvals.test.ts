import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import type { OutboxWorker } from "../../../src/bot/slack/outbox.ts";
import type { RecordedCall } from "../../support/fake-slack.ts";
import { addSlackPerson, appHomeOpenedBody, blockActionPayload, interactionBody, manualOutbox, signedRequest, slashCommandBody, useSlackApp, viewOf, viewSubmissionPayload } from "../../support/slack-app.ts";
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

/** An org with a Slack owner, two admins and a developer, and no channel: requests go to owners and admins directly. */
async function agency() {
  const owner = await addSlackPerson(bed, unique("owner"));
  const admin = await addSlackPerson(bed, unique("admin"));
  const second = await addSlackPerson(bed, unique("second"));
  const developer = await addSlackPerson(bed, unique("dev"));
  const org = await buildOrg(bed.world.platform, owner.actor);
  await addMember(bed.world.platform, org, admin.actor, "admin");
  await addMember(bed.world.platform, org, second.actor, "admin");
  await addMember(bed.world.platform, org, developer.actor, "developer");
  return { org, owner, admin, second, developer };
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

async function invitationId(email: string): Promise<number> {
  return (await bed.world.platform.db.selectFrom("invitations").select("id").where("invitee_email", "=", email).orderBy("id", "desc").executeTakeFirstOrThrow()).id;
}

async function roleRequestId(person: Person): Promise<number> {
  return (await bed.world.platform.db.selectFrom("role_requests").select("id").where("member_id", "=", person.user.id).orderBy("id", "desc").executeTakeFirstOrThrow()).id;
}

async function roleIn(org: string, person: Person): Promise<string | undefined> {
  const row = await bed.world.platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select("m.role")
    .where("o.slug", "=", org)
    .where("m.user_id", "=", person.user.id)
    .executeTakeFirst();
  return row?.role;
}

function postsTo(person: Person, since: number): RecordedCall[] {
  return bed.fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && call.args.channel === person.id);
}

/** The edits delivered since `since`, as their readers see them, with whether they keep buttons. */
async function editsSince(since: number): Promise<Array<{ channel: string; text: string; buttons: boolean }>> {
  await outbox.deliverDue();
  return bed.fake.calls
    .slice(since)
    .filter((call) => call.method === "chat.update")
    .map((call) => ({ channel: String(call.args.channel), text: String(call.args.text), buttons: JSON.stringify(call.args.blocks).includes('"type":"actions"') }));
}

const dm = (person: Person) => `D${person.id.slice(1)}`;

describe("approval thresholds in Slack", () => {
  it("shows each approval's progress in every copy of the request, counts each approver once, and admits at the threshold", async () => {
    const { org, owner, admin, second } = await agency();
    expect(await type(owner, `org policy ${org} --approvals 2`)).toContain(`now takes 2 approvals from owners or admins other than the one who asks (was 1)`);
    const client = await addSlackPerson(bed, unique("client"));
    const start = bed.fake.calls.length;
    expect(await type(owner, `member invite ${org} ${client.email} --role admin`)).toContain(`It needs 2 approvals from owners or admins of ${org} other than you`);
    const id = await invitationId(client.email);
    await outbox.deliverDue();
    for (const approver of [owner, admin, second]) {
      const [request] = postsTo(approver, start);
      expect(String(request?.args.text)).toContain(`needs 2 owners or admins other than the requester to approve`);
      expect(JSON.stringify(request?.args.blocks)).toContain('"action_id":"invitation_approve"');
    }

    expect(await click(admin, "invitation_approve", id)).toContain(`You approved invitation ${id} for ${client.email} to ${org} as admin: 1 of 2 approvals: approved by ${admin.user.displayName}`);
    let since = bed.fake.calls.length;
    const progress = await editsSince(since);
    expect(progress.map((edit) => edit.channel).sort()).toEqual([dm(owner), dm(admin), dm(second)].sort());
    for (const edit of progress) {
      expect(edit.text).toContain(`1 of 2 approvals: approved by ${admin.user.displayName}`);
      expect(edit.buttons).toBe(true);
    }

    since = bed.fake.calls.length;
    expect(await click(admin, "invitation_approve", id)).toContain(`you already approved invitation ${id}: 1 of 2 approvals`);
    expect(await click(owner, "invitation_approve", id)).toContain("you asked for this invitation");
    expect(await editsSince(since)).toEqual([]);
    expect(await roleIn(org, client)).toBeUndefined();

    expect(await click(second, "invitation_approve", id)).toContain(`is now admin of ${org}`);
    since = bed.fake.calls.length;
    const settled = await editsSince(since);
    expect(settled).toHaveLength(3);
    for (const edit of settled) {
      expect(edit.text).toContain(`approved by ${admin.user.displayName}, ${second.user.displayName}`);
      expect(edit.buttons).toBe(false);
    }
    expect(await roleIn(org, client)).toBe("admin");
  });

  it("counts two approvers clicking Approve at once exactly once each, and admits once", async () => {
    const { org, owner, admin, second } = await agency();
    await type(owner, `org policy ${org} --approvals 2`);
    const client = await addSlackPerson(bed, unique("client"));
    await type(owner, `member invite ${org} ${client.email} --role admin`);
    const id = await invitationId(client.email);
    const seen = await Promise.all([click(admin, "invitation_approve", id), click(second, "invitation_approve", id), click(admin, "invitation_approve", id)]);
    expect(seen.filter((text) => text.includes(`is now admin of ${org}`)), seen.join("\n")).toHaveLength(1);
    expect(seen.filter((text) => text.includes("You approved invitation")), seen.join("\n")).toHaveLength(1);
    expect(seen.filter((text) => /already approved/.test(text)), seen.join("\n")).toHaveLength(1);
    const approvals = await bed.world.platform.db.selectFrom("invitation_approvals").select("approver_id").where("invitation_id", "=", id).execute();
    expect(approvals.map((row) => row.approver_id).sort()).toEqual([admin.user.id, second.user.id].sort());
    const memberships = await bed.world.platform.db.selectFrom("memberships").select("role").where("user_id", "=", client.user.id).execute();
    expect(memberships).toEqual([{ role: "admin" }]);
    const accepted = await bed.world.platform.db.selectFrom("audit_events").select("id").where("org_slug", "=", org).where("action", "=", "invitation.accept").execute();
    expect(accepted).toHaveLength(1);
  });

  it("ends a request at a denial that comes after an approval, and tells the requester", async () => {
    const { org, owner, admin, second } = await agency();
    await type(owner, `org policy ${org} --approvals 2`);
    const email = `${unique("nope")}@client.example`;
    await type(owner, `member invite ${org} ${email} --role admin`);
    const id = await invitationId(email);
    await outbox.deliverDue();
    await click(admin, "invitation_approve", id);

    const opened = bed.fake.callsOf("views.open").length;
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: second.id, actionId: "invitation_deny", value: String(id), responseUrl: bed.fake.responseUrl(unique("deny")) })));
    const view = viewOf(await bed.fake.waitFor(() => bed.fake.callsOf("views.open")[opened]));
    const response = await signedRequest(bed.url, interactionBody(viewSubmissionPayload({ view, viewId: `V${unique("DENY").toUpperCase()}`, userId: second.id, fill: { reason: "one more admin is enough" } })));
    expect(JSON.parse(await response.text())).toEqual({ response_action: "clear" });

    const since = bed.fake.calls.length;
    const edits = await editsSince(since);
    // The progress edit and the denial were both due: the denial alone reaches each copy.
    expect(edits).toHaveLength(3);
    expect(edits.every((edit) => edit.text.includes(`denied by ${second.user.displayName}`) && !edit.buttons)).toBe(true);
    expect(postsTo(owner, since).map((call) => String(call.args.text))).toEqual([expect.stringContaining("was denied: one more admin is enough")]);
    expect(await click(admin, "invitation_approve", id)).toContain(`already denied by ${second.user.displayName}`);
    const row = await bed.world.platform.db.selectFrom("invitations").select("status").where("id", "=", id).executeTakeFirstOrThrow();
    expect(row.status).toBe("denied");
  });

  it("makes `member role … admin` a request that another owner or admin approves with the button", async () => {
    const { org, owner, admin, second, developer } = await agency();
    const start = bed.fake.calls.length;
    const asked = await type(admin, `member role ${org} <@${developer.id}|dev> admin`);
    expect(asked).toContain(`Asked to make ${developer.user.displayName} (${developer.email}) admin of ${org}`);
    expect(asked).toContain("It needs 1 approval from owners or admins");
    expect(await roleIn(org, developer)).toBe("developer");
    const id = await roleRequestId(developer);
    await outbox.deliverDue();
    const [request] = postsTo(second, start);
    expect(String(request?.args.text)).toContain(`member approve ${id}`);
    expect(JSON.stringify(request?.args.blocks)).toContain('"action_id":"role_request_approve"');

    expect(await click(admin, "role_request_approve", id)).toContain("you asked for this role change");
    expect(await click(developer, "role_request_approve", id)).toMatch(/you are a developer here/);
    expect(await click(owner, "role_request_approve", id)).toContain(`is now admin of ${org} (was developer): 1 of 1 approval: approved by ${owner.user.displayName}`);
    expect(await roleIn(org, developer)).toBe("admin");
    const since = bed.fake.calls.length;
    const edits = await editsSince(since);
    expect(edits.map((edit) => edit.channel).sort()).toEqual([dm(owner), dm(admin), dm(second)].sort());
    expect(edits.every((edit) => edit.text.includes(`approved by ${owner.user.displayName}`) && !edit.buttons)).toBe(true);
    expect(postsTo(admin, since).map((call) => String(call.args.text))).toEqual([expect.stringContaining("was approved: they are now admin")]);
  });

  it("takes typed approvals and denials of role changes too, with a threshold of 2", async () => {
    const { org, owner, admin, second, developer } = await agency();
    await type(owner, `org policy ${org} --approvals 2`);
    await type(owner, `member role ${org} ${developer.email} admin`);
    const id = await roleRequestId(developer);
    expect(await type(admin, `member approve ${id}`)).toContain(`1 of 2 approvals: approved by ${admin.user.displayName}`);
    expect(await type(admin, `member approve ${id}`)).toContain(`you already approved request ${id}`);
    expect(await type(owner, `member list ${org}`)).toContain(`${id} · ${developer.user.displayName} (${developer.email}) to admin (now developer) · 1 of 2 approvals`);
    expect(await type(second, `member deny ${id} not this quarter`)).toContain(`Denied request ${id}`);
    expect(await roleIn(org, developer)).toBe("developer");
    expect(await type(second, `member approve ${id}`)).toContain("already denied");
  });

  it("shows role requests to those who can still approve them on the Home tab, with buttons that work there", async () => {
    const { org, owner, admin, second, developer } = await agency();
    await type(owner, `org policy ${org} --approvals 2`);
    await type(owner, `member role ${org} ${developer.email} admin`);
    const id = await roleRequestId(developer);
    const homeOf = async (person: Person) => {
      const before = bed.fake.callsOf("views.publish").length;
      await signedRequest(bed.url, appHomeOpenedBody({ userId: person.id }), { contentType: "application/json" });
      const call = await bed.fake.waitFor(() => bed.fake.callsOf("views.publish").slice(before).find((candidate) => candidate.args.user_id === person.id));
      return JSON.stringify(call.args.view);
    };
    const home = await homeOf(admin);
    expect(home).toContain("Role changes waiting for you");
    expect(home).toContain("0 of 2 approvals");
    expect(home).toContain(`"action_id":"role_request_approve","style":"primary","text":{"type":"plain_text","text":"Approve"},"value":"${id}"`);
    // The requester sees no buttons for their own request.
    expect(await homeOf(owner)).not.toContain("Role changes waiting for you");

    const before = bed.fake.calls.length;
    await signedRequest(bed.url, interactionBody(blockActionPayload({ userId: admin.id, actionId: "role_request_approve", value: String(id) })));
    const told = await bed.fake.waitFor(() => postsTo(admin, before)[0]);
    expect(String(told.args.text)).toContain(`1 of 2 approvals: approved by ${admin.user.displayName}`);
    const refreshed = await bed.fake.waitFor(() => bed.fake.calls.slice(before).find((call) => call.method === "views.publish" && call.args.user_id === admin.id));
    expect(JSON.stringify(refreshed.args.view)).not.toContain("Role changes waiting for you");
    // The other admin still has it to decide, with the progress so far.
    expect(await homeOf(second)).toContain(`1 of 2 approvals: approved by ${admin.user.displayName}`);
  });

  it("refuses bad policy values and anyone but an owner, changing nothing", async () => {
    const { org, owner, admin } = await agency();
    for (const value of ["0", "4", "two"]) {
      expect(await type(owner, `org policy ${org} --approvals ${value}`)).toContain(`--approvals must be 1, 2 or 3 (owners or admins other than the one who asks), not ${value}`);
    }
    expect(await type(owner, `org policy ${org}`)).toContain("--approvals 1, 2 or 3");
    expect(await type(admin, `org policy ${org} --approvals 2`)).toContain("only an owner can");
    const row = await bed.world.platform.db.selectFrom("orgs").select("approvals_required").where("slug", "=", org).executeTakeFirstOrThrow();
    expect(row.approvals_required).toBe(1);
    const audit = await bed.world.platform.db.selectFrom("audit_events").select("id").where("org_slug", "=", org).where("action", "=", "org.policy").execute();
    expect(audit).toHaveLength(0);
    expect(await type(owner, `org show ${org}`)).toContain("Granting admin or owner takes: 1 approval");
  });
});
