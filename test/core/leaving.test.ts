import { describe, expect, it } from "vitest";
import { leaveOrg } from "../../src/core/members.ts";
import { addMember, buildOrg, buildUser, failure, snapshot, useWorld } from "../support/world.ts";

const world = useWorld();

async function roleIn(org: string, userId: number): Promise<string | undefined> {
  const row = await world.platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select("m.role")
    .where("o.slug", "=", org)
    .where("m.user_id", "=", userId)
    .executeTakeFirst();
  return row?.role;
}

describe("leaving an org", () => {
  it("lets a member of any role leave, audited and announced", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    expect(await leaveOrg(world.platform, { actor: viewer, org })).toEqual({ org, role: "viewer" });
    expect(await roleIn(org, viewer.id)).toBeUndefined();
    const audit = await world.platform.db.selectFrom("audit_events").select(["actor_id", "target", "details"]).where("org_slug", "=", org).where("action", "=", "member.leave").execute();
    expect(audit).toEqual([{ actor_id: viewer.id, target: viewer.email, details: { role: "viewer" } }]);
    // Gone, the org is not found to them, like any org they are not in.
    expect((await failure(leaveOrg(world.platform, { actor: viewer, org }))).message).toBe(`org ${org} not found`);
  });

  it("refuses the last owner, and lets an owner go when another remains", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const admin = await buildUser(world.platform);
    await addMember(world.platform, org, admin, "admin");
    const before = await snapshot(world.platform);
    expect((await failure(leaveOrg(world.platform, { actor: owner, org }))).message).toBe(
      `you are the last owner of ${org}: make someone else an owner first (member role ${org} <@user|email> owner), or delete the org`,
    );
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await roleIn(org, owner.id)).toBe("owner");

    const second = await buildUser(world.platform);
    await addMember(world.platform, org, second, "owner");
    // Two owners leaving at once: one of them stays.
    const results = await Promise.allSettled([leaveOrg(world.platform, { actor: owner, org }), leaveOrg(world.platform, { actor: second, org })]);
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const owners = await world.platform.db.selectFrom("memberships as m").innerJoin("orgs as o", "o.id", "m.org_id").select("m.user_id").where("o.slug", "=", org).where("m.role", "=", "owner").execute();
    expect(owners).toHaveLength(1);
  });

  it("answers a non-member and a bad slug with not found, writing nothing", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const stranger = await buildUser(world.platform);
    const before = await snapshot(world.platform);
    expect((await failure(leaveOrg(world.platform, { actor: stranger, org }))).message).toBe(`org ${org} not found`);
    expect((await failure(leaveOrg(world.platform, { actor: stranger, org: "Bad Slug!" }))).message).toBe("org Bad Slug! not found");
    expect(await snapshot(world.platform)).toEqual(before);
  });
});
