import { describe, expect, it } from "vitest";
import { AlreadyDone, Conflict, Forbidden, Invalid, NotFound } from "../../src/core/errors.ts";
import { decideInvitation, expireInvitations, inviteMember, listInvitations, redeemInvitation, type InvitationOutcome } from "../../src/core/invitations.ts";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { onceForRequest } from "../../src/core/platform.ts";
import { registerUser } from "../../src/core/users.ts";
import { addMember, buildOrg, buildUser, failure, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

/** An org with an owner, an admin, a developer and a viewer. */
async function team() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const admin = await buildUser(world.platform);
  const developer = await buildUser(world.platform);
  const viewer = await buildUser(world.platform);
  await addMember(world.platform, org, admin, "admin");
  await addMember(world.platform, org, developer, "developer");
  await addMember(world.platform, org, viewer, "viewer");
  return { org, owner, admin, developer, viewer };
}

async function roleOf(org: string, user: TestUser): Promise<string | undefined> {
  const row = await world.platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select("m.role")
    .where("o.slug", "=", org)
    .where("m.user_id", "=", user.id)
    .executeTakeFirst();
  return row?.role;
}

async function outboxFor(kind: string, invitation?: number) {
  const rows = await world.platform.db.selectFrom("outbox").select(["channel_id", "team_id", "payload"]).where("kind", "=", kind).orderBy("id").execute();
  return rows.filter((row) => invitation === undefined || (row.payload as { invitation?: number }).invitation === invitation);
}

function codeOf(outcome: InvitationOutcome): string {
  if (outcome.kind !== "code") throw new Error(`expected a code, got ${outcome.kind}`);
  return outcome.code;
}

describe("member invite", () => {
  it("adds someone edgebot knows at once when an owner invites them, as viewer by default, and tells them", async () => {
    const { org, owner } = await team();
    const client = await buildUser(world.platform);
    const outcome = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email: client.email.toUpperCase() } });
    expect(outcome).toMatchObject({ kind: "joined", invitation: { status: "accepted", role: "viewer", email: client.email }, member: { email: client.email } });
    expect(await roleOf(org, client)).toBe("viewer");
    const told = await outboxFor("member.joined");
    expect(told.filter((row) => row.channel_id === `U${client.displayName.toUpperCase()}`)).toHaveLength(1);
    const audit = await world.platform.db.selectFrom("audit_events").select("action").where("org_slug", "=", org).where("action", "like", "invitation.%").orderBy("id").execute();
    expect(audit.map((row) => row.action)).toEqual(["invitation.create", "invitation.accept"]);
  });

  it("invites by mention someone registered in the workspace", async () => {
    const { org, admin } = await team();
    const client = await buildUser(world.platform);
    const outcome = await inviteMember(world.platform, { actor: admin, org, invitee: { kind: "chat", teamId: "T0TEST", chatUserId: `U${client.displayName.toUpperCase()}`, label: "@client" }, role: "developer" });
    expect(outcome.kind).toBe("joined");
    expect(await roleOf(org, client)).toBe("developer");
  });

  it("gives an owner a one-time code for someone edgebot does not know, stored only as its hash", async () => {
    const { org, owner } = await team();
    const email = `${unique("external")}@client.example`;
    const outcome = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email } });
    const code = codeOf(outcome);
    expect(code).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const row = await world.platform.db.selectFrom("invitations").selectAll().where("id", "=", outcome.invitation.id).executeTakeFirstOrThrow();
    expect(row.status).toBe("approved");
    expect(JSON.stringify(row)).not.toContain(code);
    expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("makes a developer's invitation a request, posted to the org's channel when it has one", async () => {
    const { org, owner, developer } = await team();
    await setOrgChannel(world.platform, { actor: owner, org, channelId: "C0INVITES", teamId: "T0TEST" });
    const outcome = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("c")}@client.example` }, role: "developer" });
    expect(outcome).toMatchObject({ kind: "requested", invitation: { status: "pending", role: "developer", requestedBy: developer.displayName } });
    expect((await outboxFor("invitation.requested", outcome.invitation.id)).map((row) => row.channel_id)).toEqual(["C0INVITES"]);
  });

  it("sends a developer's request to each owner and admin directly when the org has no channel", async () => {
    const { org, owner, admin, developer } = await team();
    const outcome = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("c")}@client.example` } });
    const rows = await outboxFor("invitation.requested", outcome.invitation.id);
    expect(rows.map((row) => row.channel_id).sort()).toEqual([`U${owner.displayName.toUpperCase()}`, `U${admin.displayName.toUpperCase()}`].sort());
    expect(rows.every((row) => row.team_id === "T0TEST")).toBe(true);
  });

  it("answers with what exists for a member or someone already invited, and writes nothing", async () => {
    const { org, owner, developer, viewer } = await team();
    const email = `${unique("twice")}@client.example`;
    const first = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email } });
    const before = await snapshot(world.platform);
    const again = await failure(inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email } }));
    expect(again).toBeInstanceOf(Conflict);
    expect(again.message).toContain(`already invited as viewer (invitation ${first.invitation.id}, waiting for approval`);
    const member = await failure(inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email: viewer.email } }));
    expect(member.message).toBe(`${viewer.displayName} (${viewer.email}) is already a viewer of ${org}`);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("refuses a viewer, an outsider and bad input, and writes nothing", async () => {
    const { org, owner, viewer } = await team();
    const outsider = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    const email = { kind: "email" as const, email: `${unique("c")}@client.example` };
    expect(await failure(inviteMember(world.platform, { actor: viewer, org, invitee: email }))).toBeInstanceOf(Forbidden);
    expect(await failure(inviteMember(world.platform, { actor: outsider, org, invitee: email }))).toBeInstanceOf(NotFound);
    for (const role of ["owner", "superuser", "", "admin; drop table invitations"]) {
      expect(await failure(inviteMember(world.platform, { actor: owner, org, invitee: email, role })), role).toBeInstanceOf(Invalid);
    }
    for (const address of ["not-an-email", "a@", `${"a".repeat(300)}@example.com`, "a\u0000b@example.com"]) {
      expect(await failure(inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email: address } })), address).toBeInstanceOf(Invalid);
    }
    const stranger = await failure(inviteMember(world.platform, { actor: owner, org, invitee: { kind: "chat", teamId: "T0TEST", chatUserId: "UNOBODY", label: "@nobody" } }));
    expect(stranger.message).toMatch(/has not used edgebot yet.*invite them by email/);
    expect(await snapshot(world.platform)).toEqual(before);
  });
});

describe("invite approve and invite deny", () => {
  it("lets an owner or admin approve a developer's request once; the requester hears of it", async () => {
    const { org, admin, developer } = await team();
    const client = await buildUser(world.platform);
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: client.email }, role: "developer" });
    const approved = await decideInvitation(world.platform, { actor: admin, id: String(request.invitation.id), decision: "approve" });
    expect(approved).toMatchObject({ kind: "joined", invitation: { status: "accepted", decidedBy: admin.displayName } });
    expect(await roleOf(org, client)).toBe("developer");
    const told = await outboxFor("invitation.decided", request.invitation.id);
    expect(told.map((row) => row.channel_id)).toEqual([`U${developer.displayName.toUpperCase()}`]);
    const again = await failure(decideInvitation(world.platform, { actor: admin, id: request.invitation.id, decision: "deny" }));
    expect(again).toBeInstanceOf(Conflict);
    expect(again.message).toMatch(new RegExp(`already approved by ${admin.displayName} at`));
  });

  it("records one decision and one membership when two admins approve at the same moment", async () => {
    const { org, owner, admin, developer } = await team();
    const client = await buildUser(world.platform);
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: client.email } });
    const results = await Promise.allSettled([
      decideInvitation(world.platform, { actor: owner, id: request.invitation.id, decision: "approve" }),
      decideInvitation(world.platform, { actor: admin, id: request.invitation.id, decision: "approve" }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(Conflict);
    const memberships = await world.platform.db.selectFrom("memberships").select("role").where("user_id", "=", client.id).execute();
    expect(memberships).toEqual([{ role: "viewer" }]);
    const decisions = await world.platform.db.selectFrom("audit_events").select("action").where("org_slug", "=", org).where("action", "=", "invitation.approve").execute();
    expect(decisions).toHaveLength(1);
    expect(await outboxFor("invitation.decided", request.invitation.id)).toHaveLength(1);
  });

  it("has one effect when the same click arrives twice", async () => {
    const { org, admin, developer } = await team();
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("c")}@client.example` } });
    const click = onceForRequest(world.platform, unique("click"));
    await decideInvitation(click, { actor: admin, id: request.invitation.id, decision: "deny" });
    expect(await failure(decideInvitation(click, { actor: admin, id: request.invitation.id, decision: "deny" }))).toBeInstanceOf(AlreadyDone);
  });

  it("denies with a reason and tells the requester", async () => {
    const { org, owner, developer } = await team();
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("c")}@client.example` } });
    const denied = await decideInvitation(world.platform, { actor: owner, id: request.invitation.id, decision: "deny", reason: "  not a client of ours  " });
    expect(denied).toMatchObject({ kind: "denied", invitation: { status: "denied", denyReason: "not a client of ours" } });
    const [told] = await outboxFor("invitation.decided", request.invitation.id);
    expect(told?.payload).toMatchObject({ status: "denied", reason: "not a client of ours" });
  });

  it("refuses self-approval, a developer, a viewer and an outsider, and writes nothing", async () => {
    const { org, owner, admin, developer, viewer } = await team();
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("c")}@client.example` } });
    // The requester is promoted meanwhile: they still may not decide their own request.
    await world.platform.db.updateTable("memberships").set({ role: "admin" }).where("user_id", "=", developer.id).execute();
    const other = await buildUser(world.platform);
    await addMember(world.platform, org, other, "developer");
    const outsider = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    const own = await failure(decideInvitation(world.platform, { actor: developer, id: request.invitation.id, decision: "approve" }));
    expect(own).toBeInstanceOf(Forbidden);
    expect(own.message).toMatch(/another owner or admin must decide/);
    expect(await failure(decideInvitation(world.platform, { actor: other, id: request.invitation.id, decision: "approve" }))).toBeInstanceOf(Forbidden);
    expect(await failure(decideInvitation(world.platform, { actor: viewer, id: request.invitation.id, decision: "deny" }))).toBeInstanceOf(Forbidden);
    expect(await failure(decideInvitation(world.platform, { actor: outsider, id: request.invitation.id, decision: "approve" }))).toBeInstanceOf(NotFound);
    for (const id of ["abc", "-1", "1.5", "99999999999", "1; drop table invitations", ""]) {
      expect(await failure(decideInvitation(world.platform, { actor: owner, id, decision: "approve" })), id).toBeInstanceOf(Invalid);
    }
    expect(await failure(decideInvitation(world.platform, { actor: admin, id: 999_999_999, decision: "approve" }))).toBeInstanceOf(NotFound);
    expect(await failure(decideInvitation(world.platform, { actor: admin, id: request.invitation.id, decision: "deny", reason: "x".repeat(501) }))).toBeInstanceOf(Invalid);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("lists waiting invitations and decisions for owners and admins only", async () => {
    const { org, owner, developer } = await team();
    const email = `${unique("listed")}@client.example`;
    await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email } });
    const { invitations } = await listInvitations(world.platform, { actor: owner, org });
    expect(invitations).toMatchObject([{ email, status: "pending", requestedBy: developer.displayName }]);
    expect(await failure(listInvitations(world.platform, { actor: developer, org }))).toBeInstanceOf(Forbidden);
  });
});

describe("join with a code", () => {
  it("lets only the invited email redeem the code, once, from any workspace", async () => {
    const { org, owner } = await team();
    const email = `${unique("later")}@client.example`;
    const code = codeOf(await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email } }));
    const impostor = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    const refused = await failure(redeemInvitation(world.platform, { actor: impostor, code }));
    expect(refused).toBeInstanceOf(Forbidden);
    expect(refused.message).toContain(`your email is ${impostor.email}`);
    expect(await snapshot(world.platform)).toEqual(before);

    // The invited person turns up later in a second workspace, with their email in capitals.
    const invited = await registerUser(world.platform, { teamId: "T0SECOND", chatUserId: "ULATER", email: email.toUpperCase(), displayName: "Later" });
    expect(await redeemInvitation(world.platform, { actor: { userId: invited.id }, code: ` ${code} ` })).toEqual({ org, role: "viewer" });
    expect(await roleOf(org, { ...invited, userId: invited.id })).toBe("viewer");
    expect(await failure(redeemInvitation(world.platform, { actor: { userId: invited.id }, code }))).toBeInstanceOf(NotFound);
    const row = await world.platform.db.selectFrom("invitations").select(["status", "code_hash"]).where("invitee_email", "=", email).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "accepted", code_hash: null });
  });

  it("refuses a code that is not one", async () => {
    const user = await buildUser(world.platform);
    for (const code of ["", "short", "has spaces in it", "../../etc/passwd", "x".repeat(65)]) {
      expect(await failure(redeemInvitation(world.platform, { actor: user, code })), code).toBeInstanceOf(Invalid);
    }
    expect(await failure(redeemInvitation(world.platform, { actor: user, code: "AAAAAAAAAAAAAAAA" }))).toBeInstanceOf(NotFound);
  });
});

describe("expiry", () => {
  it("expires invitations 48 hours old: they can no longer be approved or redeemed, and can be made again", async () => {
    const { org, owner, developer } = await team();
    const waiting = await inviteMember(world.platform, { actor: developer, org, invitee: { kind: "email", email: `${unique("old")}@client.example` } });
    const email = `${unique("oldcode")}@client.example`;
    const approved = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email } });
    const code = codeOf(approved);
    const created = await world.platform.db.selectFrom("invitations").select(["created_at", "expires_at"]).where("id", "=", waiting.invitation.id).executeTakeFirstOrThrow();
    expect(created.expires_at.getTime() - created.created_at.getTime()).toBe(48 * 3600 * 1000);
    await world.platform.db
      .updateTable("invitations")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "in", [waiting.invitation.id, approved.invitation.id])
      .execute();

    const late = await failure(decideInvitation(world.platform, { actor: owner, id: waiting.invitation.id, decision: "approve" }));
    expect(late.message).toMatch(/expired/);
    const invited = await registerUser(world.platform, { teamId: "T0TEST", chatUserId: unique("U").toUpperCase(), email, displayName: "Late" });
    expect((await failure(redeemInvitation(world.platform, { actor: { userId: invited.id }, code }))).message).toMatch(/expired/);

    const swept = await expireInvitations(world.platform.db);
    expect(swept.map((invitation) => invitation.id).sort()).toEqual([waiting.invitation.id, approved.invitation.id].sort());
    expect(swept.every((invitation) => invitation.status === "expired")).toBe(true);
    expect(await expireInvitations(world.platform.db)).toEqual([]);
    const again = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email } });
    expect(again.kind).toBe("joined");
  });
});
