import type { Role } from "../db/schema.ts";
import { findOrgAsMember, oneOrg, orgAccessColumns, orgInScope } from "./access.ts";
import { grantsHighRole } from "./approvals.ts";
import { recordAudit } from "./audit.ts";
import { Conflict, Forbidden, NotFound } from "./errors.ts";
import { parseField, role as roleSchema } from "./names.ts";
import { notify } from "./notifications.ts";
import { article, authorize, may } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Tx } from "./platform.ts";
import { openRoleRequest, pendingRoleRequests, type RoleRequest } from "./role-requests.ts";
import { describePerson, findUser, type PersonRef } from "./users.ts";

export interface Member {
  userId: number;
  displayName: string;
  email: string;
  role: Role;
  since: Date;
}

const roleOrder: Record<Role, number> = { owner: 0, admin: 1, developer: 2, viewer: 3 };

/** Everyone in an org, owners first; for owners and admins, the role requests waiting too. */
export async function listMembers(
  platform: Platform,
  input: { actor: Actor; org: string },
): Promise<{ org: { slug: string; name: string }; members: Member[]; requests: RoleRequest[] }> {
  const found = await orgInScope(platform.db, input.actor, input.org)
    .innerJoin("memberships as m", "m.org_id", "o.id")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select([...orgAccessColumns, "u.id", "u.display_name", "u.email", "m.role", "m.created_at"])
    .orderBy("u.display_name")
    .execute();
  const { org, rows } = oneOrg(found, input.org);
  const members = rows
    .map((row) => ({ userId: row.id, displayName: row.display_name, email: row.email, role: row.role, since: row.created_at }))
    .sort((a, b) => roleOrder[a.role] - roleOrder[b.role]);
  const requests = may(org.role, "administer") ? await pendingRoleRequests(platform.db, org.id) : [];
  return { org: { slug: org.slug, name: org.name }, members, requests };
}

/** What `member role` came to: the role changed, or a request waiting for approvals. */
export type RoleChange = { kind: "changed"; org: string; member: Member; from: Role } | { kind: "requested"; request: RoleRequest };

/**
 * Changes a member's role (owners and admins). Only an owner grants or takes away the
 * owner role, and the last owner can never be demoted. Making someone admin or owner is a
 * request that waits for the org's threshold of approvals (`openRoleRequest`); taking a role
 * away applies at once.
 */
export async function changeRole(
  platform: Platform,
  input: {
    actor: Actor;
    org: string;
    /** The member whose role changes. */
    member: PersonRef;
    /** The new role. */
    role: string;
  },
): Promise<RoleChange> {
  const newRole = parseField(roleSchema, input.role, "role");
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "administer", `org ${input.org} not found`);
  return inTransaction(platform, async (tx) => {
    const target = await lockedMembership(tx, org, input.actor, input.member);
    if (target.role === newRole) throw new Conflict(`${target.displayName} is already ${article(newRole)} ${newRole} of ${org.slug}`);
    if ((target.role === "owner" || newRole === "owner") && org.role !== "owner") {
      throw new Forbidden("only an owner can make someone an owner or change an owner's role");
    }
    if (grantsHighRole(target.role, newRole)) {
      const request = await openRoleRequest(tx, { actor: input.actor, org, member: target, to: newRole as "owner" | "admin" });
      if (request !== null) return { kind: "requested", request };
    }
    if (target.role === "owner") await assertAnotherOwner(tx, org, target.displayName, "demote");
    await tx.updateTable("memberships").set({ role: newRole }).where("org_id", "=", org.id).where("user_id", "=", target.userId).execute();
    await recordAudit(tx, {
      org,
      actor: input.actor,
      action: "member.role",
      target: target.email,
      details: { from: target.role, to: newRole },
    });
    await notify(tx, {
      org,
      actor: input.actor,
      kind: "member.role_changed",
      payload: { org: org.slug, member: { name: target.displayName, email: target.email }, from: target.role, to: newRole },
    });
    return { kind: "changed", org: org.slug, member: { ...target, role: newRole }, from: target.role };
  });
}

/** Removes a member (owners and admins; only an owner removes an owner; never the last owner). */
export async function removeMember(platform: Platform, input: { actor: Actor; org: string; member: PersonRef }): Promise<{ org: string; member: Member }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "administer", `org ${input.org} not found`);
  return inTransaction(platform, async (tx) => {
    const target = await lockedMembership(tx, org, input.actor, input.member);
    if (target.role === "owner" && org.role !== "owner") throw new Forbidden("only an owner can remove an owner");
    if (target.role === "owner") await assertAnotherOwner(tx, org, target.displayName, "remove");
    await tx.deleteFrom("memberships").where("org_id", "=", org.id).where("user_id", "=", target.userId).execute();
    await recordAudit(tx, { org, actor: input.actor, action: "member.remove", target: target.email, details: { role: target.role } });
    await notify(tx, { org, actor: input.actor, kind: "member.removed", payload: { org: org.slug, member: { name: target.displayName, email: target.email }, role: target.role } });
    return { org: org.slug, member: target };
  });
}

// Locks the org's memberships so two owners demoting each other at once cannot leave none.
// The actor's role is read again under the lock: it may have changed since it was checked.
async function lockedMembership(tx: Tx, org: { id: number; slug: string; role: Role }, actor: Actor, person: PersonRef): Promise<Member> {
  await tx.selectFrom("orgs").select("id").where("id", "=", org.id).forUpdate().execute();
  const current = await tx
    .selectFrom("memberships")
    .select("role")
    .where("org_id", "=", org.id)
    .where("user_id", "=", actor.userId)
    .executeTakeFirst();
  org.role = authorize(current?.role, "administer", `org ${org.slug} not found`);
  const user = await findUser(tx, person, { orgId: org.id });
  const row =
    user &&
    (await tx
      .selectFrom("memberships")
      .select(["role", "created_at"])
      .where("org_id", "=", org.id)
      .where("user_id", "=", user.id)
      .executeTakeFirst());
  if (!user || !row) throw new NotFound(`${describePerson(person)} is not a member of ${org.slug}`);
  return { userId: user.id, displayName: user.displayName, email: user.email, role: row.role, since: row.created_at };
}

async function assertAnotherOwner(tx: Tx, org: { id: number; slug: string }, name: string, verb: string): Promise<void> {
  const owners = await tx
    .selectFrom("memberships")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("org_id", "=", org.id)
    .where("role", "=", "owner")
    .executeTakeFirstOrThrow();
  if (Number(owners.n) <= 1) {
    throw new Conflict(`${name} is the last owner of ${org.slug}: make someone else an owner before you ${verb} them`);
  }
}

/**
 * `member leave`: the actor leaves an org, whatever their role. The last owner cannot: the org
 * would have nobody to own it. The org is locked, so two owners leaving at once leave one.
 */
export async function leaveOrg(platform: Platform, input: { actor: Actor; org: string }): Promise<{ org: string; role: Role }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  return inTransaction(platform, async (tx) => {
    await tx.selectFrom("orgs").select("id").where("id", "=", org.id).forUpdate().execute();
    const me = await tx
      .selectFrom("memberships as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["m.role", "u.display_name", "u.email"])
      .where("m.org_id", "=", org.id)
      .where("m.user_id", "=", input.actor.userId)
      .executeTakeFirst();
    // Left a moment ago, by another request.
    if (!me) throw new NotFound(`org ${org.slug} not found`);
    if (me.role === "owner") {
      const owners = await tx.selectFrom("memberships").select((eb) => eb.fn.countAll<number>().as("n")).where("org_id", "=", org.id).where("role", "=", "owner").executeTakeFirstOrThrow();
      if (Number(owners.n) <= 1) {
        throw new Conflict(`you are the last owner of ${org.slug}: make someone else an owner first (member role ${org.slug} <@user|email> owner), or delete the org`);
      }
    }
    await tx.deleteFrom("memberships").where("org_id", "=", org.id).where("user_id", "=", input.actor.userId).execute();
    await recordAudit(tx, { org, actor: input.actor, action: "member.leave", target: me.email, details: { role: me.role } });
    await notify(tx, { org, actor: input.actor, kind: "member.left", payload: { org: org.slug, member: { name: me.display_name, email: me.email }, role: me.role } });
    return { org: org.slug, role: me.role };
  });
}
