import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../src/core/audit.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../../src/core/errors.ts";
import { changeRole, listMembers, removeMember } from "../../src/core/members.ts";
import { decideRoleRequest } from "../../src/core/role-requests.ts";
import type { Role } from "../../src/db/schema.ts";
import { addMember, buildOrg, buildUser, failure, snapshot, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

const byEmail = (user: TestUser) => ({ kind: "email" as const, email: user.email });
const byMention = (user: TestUser) => ({ kind: "chat" as const, teamId: "T0TEST", chatUserId: `U${user.displayName.toUpperCase()}`, label: `@${user.displayName}` });

/** An org with its founding owner and one member in each of the given roles. */
async function buildTeam(...roles: Role[]): Promise<{ org: string; founder: TestUser; members: TestUser[] }> {
  const founder = await buildUser(world.platform);
  const org = await buildOrg(world.platform, founder);
  const members: TestUser[] = [];
  for (const role of roles) {
    const member = await buildUser(world.platform);
    await addMember(world.platform, org, member, role);
    members.push(member);
  }
  return { org, founder, members };
}

async function rolesOf(org: string, actor: TestUser): Promise<Record<string, Role>> {
  const { members } = await listMembers(world.platform, { actor, org });
  return Object.fromEntries(members.map((member) => [member.email, member.role]));
}

async function lastAudit(org: string, actor: TestUser) {
  return (await listAuditEvents(world.platform, { actor, org, limit: 1 })).events[0];
}

describe("member list", () => {
  it("shows everyone with their role, owners first", async () => {
    const { org, founder, members } = await buildTeam("viewer", "admin", "developer");
    const [viewer] = members;
    const { members: listed } = await listMembers(world.platform, { actor: viewer!, org });
    expect(listed.map((member) => member.role)).toEqual(["owner", "admin", "developer", "viewer"]);
    expect(listed[0]).toMatchObject({ email: founder.email, displayName: founder.displayName });
  });
});

describe("changing a role", () => {
  it("an admin turns a developer into a viewer, and the audit log says who did it", async () => {
    const { org, founder, members } = await buildTeam("admin", "developer");
    const [admin, developer] = members;
    const result = await changeRole(world.platform, { actor: admin!, org, member: byMention(developer!), role: "viewer" });
    expect(result).toMatchObject({ org, from: "developer", member: { email: developer!.email, role: "viewer" } });
    expect((await rolesOf(org, founder))[developer!.email]).toBe("viewer");
    expect(await lastAudit(org, founder)).toMatchObject({
      action: "member.role",
      target: developer!.email,
      details: { from: "developer", to: "viewer" },
      actor: { name: admin!.displayName, email: admin!.email },
    });
  });

  it("says so when the member already has that role, and writes nothing", async () => {
    const { org, founder, members } = await buildTeam("developer");
    const before = await snapshot(world.platform);
    const error = await failure(changeRole(world.platform, { actor: founder, org, member: byEmail(members[0]!), role: "developer" }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toBe(`${members[0]!.displayName} is already a developer of ${org}`);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("refuses a role that does not exist", async () => {
    const { org, founder, members } = await buildTeam("developer");
    const before = await snapshot(world.platform);
    const error = await failure(changeRole(world.platform, { actor: founder, org, member: byEmail(members[0]!), role: "superuser" }));
    expect(error).toBeInstanceOf(Invalid);
    expect(error.message).toBe("role must be owner, admin, developer or viewer");
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("answers not found for someone who is not in the org", async () => {
    const { org, founder } = await buildTeam();
    const stranger = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    for (const member of [byEmail(stranger), { kind: "email" as const, email: "nobody@example.com" }]) {
      const error = await failure(changeRole(world.platform, { actor: founder, org, member, role: "viewer" }));
      expect(error).toBeInstanceOf(NotFound);
      expect(error.message).toBe(`${member.email} is not a member of ${org}`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("only an owner makes someone an owner", async () => {
    const { org, founder, members } = await buildTeam("admin", "developer");
    const [admin, developer] = members;
    const before = await snapshot(world.platform);
    const error = await failure(changeRole(world.platform, { actor: admin!, org, member: byEmail(developer!), role: "owner" }));
    expect(error).toBeInstanceOf(Forbidden);
    expect(error.message).toBe("only an owner can make someone an owner or change an owner's role");
    // Not even themselves.
    await expect(changeRole(world.platform, { actor: admin!, org, member: byEmail(admin!), role: "owner" })).rejects.toThrow(Forbidden);
    expect(await snapshot(world.platform)).toEqual(before);

    // An owner asks; with an admin in the org, the admin's approval makes it so.
    const asked = await changeRole(world.platform, { actor: founder, org, member: byEmail(developer!), role: "owner" });
    if (asked.kind !== "requested") throw new Error(`expected a request, got ${asked.kind}`);
    expect((await rolesOf(org, founder))[developer!.email]).toBe("developer");
    await decideRoleRequest(world.platform, { actor: admin!, id: asked.request.id, decision: "approve" });
    expect((await rolesOf(org, founder))[developer!.email]).toBe("owner");
    expect(await lastAudit(org, founder)).toMatchObject({ action: "member.role", details: { from: "developer", to: "owner" } });
  });

  it("only an owner takes the owner role away", async () => {
    const { org, founder, members } = await buildTeam("owner", "admin");
    const [secondOwner, admin] = members;
    const before = await snapshot(world.platform);
    await expect(changeRole(world.platform, { actor: admin!, org, member: byEmail(secondOwner!), role: "viewer" })).rejects.toThrow(Forbidden);
    expect(await snapshot(world.platform)).toEqual(before);

    await changeRole(world.platform, { actor: founder, org, member: byEmail(secondOwner!), role: "admin" });
    expect((await rolesOf(org, founder))[secondOwner!.email]).toBe("admin");
  });

  it("the last owner can never be demoted, not even by themselves", async () => {
    const { org, founder } = await buildTeam("admin");
    const before = await snapshot(world.platform);
    for (const role of ["admin", "developer", "viewer"]) {
      const error = await failure(changeRole(world.platform, { actor: founder, org, member: byEmail(founder), role }));
      expect(error).toBeInstanceOf(Conflict);
      expect(error.message).toBe(`${founder.displayName} is the last owner of ${org}: make someone else an owner before you demote them`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("an owner steps down once there is another owner", async () => {
    const { org, founder, members } = await buildTeam("developer");
    await changeRole(world.platform, { actor: founder, org, member: byEmail(members[0]!), role: "owner" });
    await changeRole(world.platform, { actor: founder, org, member: byEmail(founder), role: "admin" });
    expect(await rolesOf(org, members[0]!)).toEqual({ [founder.email]: "admin", [members[0]!.email]: "owner" });
  });

  it("two owners demoting each other at once leave one owner", async () => {
    const { org, founder, members } = await buildTeam("owner");
    const [other] = members;
    const results = await Promise.allSettled([
      changeRole(world.platform, { actor: founder, org, member: byEmail(other!), role: "admin" }),
      changeRole(world.platform, { actor: other!, org, member: byEmail(founder), role: "admin" }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    // The loser has just been demoted, so it is no longer theirs to change an owner's role.
    const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(Forbidden);
    expect(refused.reason.message).toBe("only an owner can make someone an owner or change an owner's role");
    const roles = Object.values(await rolesOf(org, founder));
    expect(roles.filter((role) => role === "owner")).toHaveLength(1);
    const audit = await listAuditEvents(world.platform, { actor: founder, org });
    expect(audit.events.filter((event) => event.action === "member.role")).toHaveLength(1);
  });

  it("an owner demoted a moment ago cannot go on to demote another owner", async () => {
    const { org, founder, members } = await buildTeam("owner", "owner");
    const [second, third] = members;
    const results = await Promise.allSettled([
      changeRole(world.platform, { actor: founder, org, member: byEmail(second!), role: "admin" }),
      changeRole(world.platform, { actor: second!, org, member: byEmail(founder), role: "admin" }),
    ]);
    // Whoever is demoted first is an admin by the time their own change runs.
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(Forbidden);
    const roles = await rolesOf(org, third!);
    expect(Object.values(roles).filter((role) => role === "owner")).toHaveLength(2);
    expect(roles[third!.email]).toBe("owner");
  });
});

describe("removing a member", () => {
  it("an admin removes a developer, who then sees nothing of the org", async () => {
    const { org, founder, members } = await buildTeam("admin", "developer");
    const [admin, developer] = members;
    const result = await removeMember(world.platform, { actor: admin!, org, member: byMention(developer!) });
    expect(result).toMatchObject({ org, member: { email: developer!.email, role: "developer" } });
    expect(await rolesOf(org, founder)).not.toHaveProperty(developer!.email);
    await expect(listMembers(world.platform, { actor: developer!, org })).rejects.toThrow(new NotFound(`org ${org} not found`));
    expect(await lastAudit(org, founder)).toMatchObject({
      action: "member.remove",
      target: developer!.email,
      details: { role: "developer" },
      actor: { email: admin!.email },
    });
  });

  it("only an owner removes an owner", async () => {
    const { org, founder, members } = await buildTeam("owner", "admin");
    const [secondOwner, admin] = members;
    const before = await snapshot(world.platform);
    const error = await failure(removeMember(world.platform, { actor: admin!, org, member: byEmail(secondOwner!) }));
    expect(error).toBeInstanceOf(Forbidden);
    expect(error.message).toBe("only an owner can remove an owner");
    expect(await snapshot(world.platform)).toEqual(before);

    await removeMember(world.platform, { actor: founder, org, member: byEmail(secondOwner!) });
    expect(await rolesOf(org, founder)).not.toHaveProperty(secondOwner!.email);
  });

  it("the last owner can never be removed", async () => {
    const { org, founder } = await buildTeam("admin");
    const before = await snapshot(world.platform);
    const error = await failure(removeMember(world.platform, { actor: founder, org, member: byEmail(founder) }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toBe(`${founder.displayName} is the last owner of ${org}: make someone else an owner before you remove them`);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("two owners removing each other at once leave one owner", async () => {
    const { org, founder, members } = await buildTeam("owner");
    const [other] = members;
    const results = await Promise.allSettled([
      removeMember(world.platform, { actor: founder, org, member: byEmail(other!) }),
      removeMember(world.platform, { actor: other!, org, member: byEmail(founder) }),
    ]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const remaining = await world.platform.db
      .selectFrom("memberships as m")
      .innerJoin("orgs as o", "o.id", "m.org_id")
      .select("m.role")
      .where("o.slug", "=", org)
      .execute();
    expect(remaining).toEqual([{ role: "owner" }]);
  });

  it("a removed member cannot be removed twice", async () => {
    const { org, founder, members } = await buildTeam("viewer");
    await removeMember(world.platform, { actor: founder, org, member: byEmail(members[0]!) });
    const before = await snapshot(world.platform);
    const error = await failure(removeMember(world.platform, { actor: founder, org, member: byEmail(members[0]!) }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toBe(`${members[0]!.email} is not a member of ${org}`);
    expect(await snapshot(world.platform)).toEqual(before);
  });
});
