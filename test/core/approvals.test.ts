import { describe, expect, it } from "vitest";
import { Conflict, Forbidden, Invalid, NotFound } from "../../src/core/errors.ts";
import { decideInvitation, inviteMember, listInvitations } from "../../src/core/invitations.ts";
import { changeRole, listMembers } from "../../src/core/members.ts";
import { setApprovalPolicy, showOrg } from "../../src/core/orgs.ts";
import { decideRoleRequest, expireRoleRequests } from "../../src/core/role-requests.ts";
import { addMember, buildOrg, buildUser, failure, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

/** An org with an owner, two admins and a developer; `approvals` sets its policy. */
async function team(approvals?: number) {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const admin = await buildUser(world.platform);
  const otherAdmin = await buildUser(world.platform);
  const developer = await buildUser(world.platform);
  await addMember(world.platform, org, admin, "admin");
  await addMember(world.platform, org, otherAdmin, "admin");
  await addMember(world.platform, org, developer, "developer");
  if (approvals !== undefined) await setApprovalPolicy(world.platform, { actor: owner, org, approvals: String(approvals) });
  return { org, owner, admin, otherAdmin, developer };
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

async function policyOf(org: string): Promise<number> {
  return (await world.platform.db.selectFrom("orgs").select("approvals_required").where("slug", "=", org).executeTakeFirstOrThrow()).approvals_required;
}

async function auditActions(org: string, prefix: string): Promise<string[]> {
  const rows = await world.platform.db.selectFrom("audit_events").select("action").where("org_slug", "=", org).where("action", "like", `${prefix}%`).orderBy("id").execute();
  return rows.map((row) => row.action);
}

const email = () => ({ kind: "email" as const, email: `${unique("hire")}@client.example` });

describe("org policy", () => {
  it("lets an owner set how many approvals granting admin or owner takes, and audits it", async () => {
    const { org, owner } = await team();
    expect((await showOrg(world.platform, { actor: owner, org })).approvalsRequired).toBe(1);
    expect(await setApprovalPolicy(world.platform, { actor: owner, org, approvals: "3" })).toEqual({ slug: org, approvals: 3, from: 1, approvers: 3 });
    expect(await policyOf(org)).toBe(3);
    const audit = await world.platform.db.selectFrom("audit_events").select(["action", "details"]).where("org_slug", "=", org).where("action", "=", "org.policy").execute();
    expect(audit).toEqual([{ action: "org.policy", details: { approvals: { from: 1, to: 3 } } }]);
  });

  it("refuses 0, 4, words and other bad values, and anyone but an owner, writing nothing", async () => {
    const { org, owner, admin, developer } = await team();
    const outsider = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    for (const approvals of ["0", "4", "two", "", " ", "1.5", "-1", "2x", "02", undefined]) {
      const error = await failure(setApprovalPolicy(world.platform, { actor: owner, org, approvals }));
      expect(error, String(approvals)).toBeInstanceOf(Invalid);
      expect(error.message).toMatch(/--approvals (must be )?1, 2 or 3/);
    }
    for (const actor of [admin, developer]) {
      const error = await failure(setApprovalPolicy(world.platform, { actor, org, approvals: "2" }));
      expect(error).toBeInstanceOf(Forbidden);
      expect(error.message).toMatch(/only an owner can .*set its approval policy/);
    }
    expect(await failure(setApprovalPolicy(world.platform, { actor: outsider, org, approvals: "2" }))).toBeInstanceOf(NotFound);
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await policyOf(org)).toBe(1);
  });
});

describe("invitations as admin", () => {
  it("are no longer approved as made: with the default, one other owner or admin approves", async () => {
    const { org, owner, admin } = await team();
    const client = await buildUser(world.platform);
    const asked = await inviteMember(world.platform, { actor: admin, org, invitee: { kind: "email", email: client.email }, role: "admin" });
    expect(asked).toMatchObject({ kind: "requested", invitation: { status: "pending", approvalsRequired: 1, approvedBy: [] } });
    expect(await roleOf(org, client)).toBeUndefined();
    // The requester cannot approve their own request.
    const own = await failure(decideInvitation(world.platform, { actor: admin, id: asked.invitation.id, decision: "approve" }));
    expect(own).toBeInstanceOf(Forbidden);
    expect(own.message).toMatch(/you asked for this invitation/);
    const approved = await decideInvitation(world.platform, { actor: owner, id: asked.invitation.id, decision: "approve" });
    expect(approved).toMatchObject({ kind: "joined", invitation: { status: "accepted", approvedBy: [owner.displayName] } });
    expect(await roleOf(org, client)).toBe("admin");
  });

  it("keeps today's rules for developers and viewers: an owner's or admin's own is approved as made", async () => {
    const { org, admin, developer } = await team(3);
    expect((await inviteMember(world.platform, { actor: admin, org, invitee: email(), role: "developer" })).kind).toBe("code");
    const request = await inviteMember(world.platform, { actor: developer, org, invitee: email(), role: "viewer" });
    expect(request).toMatchObject({ kind: "requested", invitation: { approvalsRequired: 1 } });
  });

  it("take the threshold of distinct approvers: the same approver twice counts once, and each is told where it stands", async () => {
    const { org, owner, admin, otherAdmin } = await team(2);
    const client = await buildUser(world.platform);
    const asked = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email: client.email }, role: "admin" });
    expect(asked).toMatchObject({ kind: "requested", invitation: { approvalsRequired: 2 } });
    const id = asked.invitation.id;

    const first = await decideInvitation(world.platform, { actor: admin, id, decision: "approve" });
    expect(first).toMatchObject({ kind: "approved_once", invitation: { status: "pending", approvedBy: [admin.displayName] } });
    expect(await roleOf(org, client)).toBeUndefined();

    const before = await snapshot(world.platform);
    const twice = await failure(decideInvitation(world.platform, { actor: admin, id, decision: "approve" }));
    expect(twice).toBeInstanceOf(Conflict);
    expect(twice.message).toBe(`you already approved invitation ${id}: 1 of 2 approvals: approved by ${admin.displayName}; another owner or admin must approve it too`);
    expect(await snapshot(world.platform)).toEqual(before);
    expect((await listInvitations(world.platform, { actor: owner, org })).invitations[0]).toMatchObject({ id, status: "pending", approvedBy: [admin.displayName] });

    const second = await decideInvitation(world.platform, { actor: otherAdmin, id, decision: "approve" });
    expect(second).toMatchObject({ kind: "joined", invitation: { status: "accepted", approvedBy: [admin.displayName, otherAdmin.displayName] } });
    expect(await roleOf(org, client)).toBe("admin");
    expect(await auditActions(org, "invitation.")).toEqual(["invitation.create", "invitation.approve", "invitation.approve", "invitation.accept"]);
  });

  it("count each of two approvers clicking at the same moment exactly once, and admit once", async () => {
    const { org, owner, admin, otherAdmin } = await team(2);
    const client = await buildUser(world.platform);
    const { invitation } = await inviteMember(world.platform, { actor: owner, org, invitee: { kind: "email", email: client.email }, role: "admin" });
    const outcomes = await Promise.all([admin, otherAdmin].map((actor) => decideInvitation(world.platform, { actor, id: invitation.id, decision: "approve" })));
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(["approved_once", "joined"]);
    const approvals = await world.platform.db.selectFrom("invitation_approvals").select("approver_id").where("invitation_id", "=", invitation.id).execute();
    expect(approvals.map((row) => row.approver_id).sort()).toEqual([admin.id, otherAdmin.id].sort());
    const memberships = await world.platform.db.selectFrom("memberships").select("role").where("user_id", "=", client.id).execute();
    expect(memberships).toEqual([{ role: "admin" }]);
    expect(await auditActions(org, "invitation.accept")).toHaveLength(1);
  });

  it("end at any denial, even after an approval", async () => {
    const { org, owner, admin, otherAdmin } = await team(2);
    const { invitation } = await inviteMember(world.platform, { actor: owner, org, invitee: email(), role: "admin" });
    await decideInvitation(world.platform, { actor: admin, id: invitation.id, decision: "approve" });
    const denied = await decideInvitation(world.platform, { actor: otherAdmin, id: invitation.id, decision: "deny", reason: "one admin is enough" });
    expect(denied).toMatchObject({ kind: "denied", invitation: { status: "denied", denyReason: "one admin is enough" } });
    const late = await failure(decideInvitation(world.platform, { actor: admin, id: invitation.id, decision: "approve" }));
    expect(late.message).toMatch(new RegExp(`already denied by ${otherAdmin.displayName}`));
  });

  it("are refused up front when the org has fewer other owners and admins than its threshold", async () => {
    const { org, owner, admin } = await team(3);
    const before = await snapshot(world.platform);
    const error = await failure(inviteMember(world.platform, { actor: admin, org, invitee: email(), role: "admin" }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toBe(`granting admin or owner in ${org} takes 3 approvals from owners or admins other than you, and it has 2: an owner can lower that with org policy ${org} --approvals 2`);
    expect(await snapshot(world.platform)).toEqual(before);
    // Requests made under a threshold keep it.
    await setApprovalPolicy(world.platform, { actor: owner, org, approvals: "2" });
    const asked = await inviteMember(world.platform, { actor: admin, org, invitee: email(), role: "admin" });
    await setApprovalPolicy(world.platform, { actor: owner, org, approvals: "1" });
    expect((await listInvitations(world.platform, { actor: owner, org })).invitations.find((row) => row.id === asked.invitation.id)?.approvalsRequired).toBe(2);
  });
});

describe("member role to admin or owner", () => {
  it("becomes a request that waits for approval, which the requester and the member cannot give", async () => {
    const { org, owner, admin, otherAdmin, developer } = await team();
    const asked = await changeRole(world.platform, { actor: admin, org, member: { kind: "email", email: developer.email }, role: "admin" });
    if (asked.kind !== "requested") throw new Error(`expected a request, got ${asked.kind}`);
    expect(asked.request).toMatchObject({ from: "developer", to: "admin", status: "pending", approvalsRequired: 1 });
    expect(await roleOf(org, developer)).toBe("developer");
    expect((await listMembers(world.platform, { actor: owner, org })).requests.map((request) => request.id)).toEqual([asked.request.id]);

    const before = await snapshot(world.platform);
    expect((await failure(decideRoleRequest(world.platform, { actor: admin, id: asked.request.id, decision: "approve" }))).message).toMatch(/you asked for this role change/);
    expect(await failure(decideRoleRequest(world.platform, { actor: developer, id: asked.request.id, decision: "approve" }))).toBeInstanceOf(Forbidden);
    const again = await failure(changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: developer.email }, role: "admin" }));
    expect(again.message).toMatch(new RegExp(`already has a request waiting to become admin \\(request ${asked.request.id}, 0 of 1 approval\\)`));
    expect(await snapshot(world.platform)).toEqual(before);

    const approved = await decideRoleRequest(world.platform, { actor: otherAdmin, id: asked.request.id, decision: "approve" });
    expect(approved).toMatchObject({ kind: "approved", request: { status: "approved", approvedBy: [otherAdmin.displayName] } });
    expect(await roleOf(org, developer)).toBe("admin");
    expect(await auditActions(org, "member.role")).toEqual(["member.role_request", "member.role_approve", "member.role"]);
    const settled = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "role.settled").execute();
    expect(settled.filter((row) => (row.payload as { request: number }).request === asked.request.id).length).toBeGreaterThan(0);
  });

  it("an admin made owner cannot approve their own promotion", async () => {
    const { org, owner, admin } = await team();
    const asked = await changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: admin.email }, role: "owner" });
    if (asked.kind !== "requested") throw new Error(`expected a request, got ${asked.kind}`);
    const error = await failure(decideRoleRequest(world.platform, { actor: admin, id: asked.request.id, decision: "approve" }));
    expect(error.message).toMatch(/this role change is yours/);
  });

  it("takes a threshold of 2 distinct approvers, and any denial ends it", async () => {
    const { org, owner, admin, otherAdmin, developer } = await team(2);
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    const asked = await changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: developer.email }, role: "admin" });
    if (asked.kind !== "requested") throw new Error(`expected a request, got ${asked.kind}`);
    expect((await decideRoleRequest(world.platform, { actor: admin, id: asked.request.id, decision: "approve" })).kind).toBe("approved_once");
    expect((await failure(decideRoleRequest(world.platform, { actor: admin, id: asked.request.id, decision: "approve" }))).message).toMatch(/you already approved request/);
    const progress = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "role.progress").execute();
    expect(progress.map((row) => row.payload).filter((payload) => (payload as { request: number }).request === asked.request.id)).not.toHaveLength(0);
    expect((await decideRoleRequest(world.platform, { actor: otherAdmin, id: asked.request.id, decision: "deny" })).kind).toBe("denied");
    expect(await roleOf(org, developer)).toBe("developer");

    // Two approvers at once on a new request: both count, the role changes once.
    const next = await changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: viewer.email }, role: "admin" });
    if (next.kind !== "requested") throw new Error(`expected a request, got ${next.kind}`);
    const outcomes = await Promise.all([admin, otherAdmin].map((actor) => decideRoleRequest(world.platform, { actor, id: next.request.id, decision: "approve" })));
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(["approved", "approved_once"]);
    expect(await roleOf(org, viewer)).toBe("admin");
    const changes = await world.platform.db.selectFrom("audit_events").select("details").where("org_slug", "=", org).where("action", "=", "member.role").execute();
    expect(changes).toHaveLength(1);
  });

  it("leaves demotions and a sole owner's grants as they were: applied at once", async () => {
    const { org, owner, admin } = await team(2);
    expect(await changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: admin.email }, role: "developer" })).toMatchObject({ kind: "changed", from: "admin" });
    const solo = await buildUser(world.platform);
    const own = await buildOrg(world.platform, solo);
    const helper = await buildUser(world.platform);
    await addMember(world.platform, own, helper, "developer");
    expect(await changeRole(world.platform, { actor: solo, org: own, member: { kind: "email", email: helper.email }, role: "admin" })).toMatchObject({ kind: "changed" });
    expect(await roleOf(own, helper)).toBe("admin");
  });

  it("expires after 48 hours, and its messages say so", async () => {
    const { org, admin, developer } = await team();
    const asked = await changeRole(world.platform, { actor: admin, org, member: { kind: "email", email: developer.email }, role: "admin" });
    if (asked.kind !== "requested") throw new Error(`expected a request, got ${asked.kind}`);
    expect(asked.request.expiresAt.getTime() - asked.request.createdAt.getTime()).toBe(48 * 3600 * 1000);
    await world.platform.db.updateTable("role_requests").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", asked.request.id).execute();
    expect((await expireRoleRequests(world.platform.db)).map((request) => request.id)).toContain(asked.request.id);
    const settled = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "role.settled").execute();
    expect(settled.map((row) => row.payload).filter((payload) => (payload as { request: number }).request === asked.request.id)).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: "expired" })]),
    );
    expect(await roleOf(org, developer)).toBe("developer");
  });
});
