import { describe, expect, it } from "vitest";
import { registerUser } from "../../src/core/users.ts";
import { unique, useWorld } from "../support/world.ts";

const world = useWorld();

describe("registering users from chat identities", () => {
  it("returns the same user for the same identity, following profile changes", async () => {
    const name = unique("ana");
    const first = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}@Example.com`, displayName: "Ana" });
    expect(first.email).toBe(`${name}@example.com`);
    const again = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}.new@example.com`, displayName: "Ana B." });
    expect(again).toEqual({ id: first.id, email: `${name}.new@example.com`, displayName: "Ana B." });
  });

  it("treats identities in two workspaces with one email as one person", async () => {
    const name = unique("bo");
    const inFirst = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}@example.com`, displayName: "Bo" });
    const inSecond = await registerUser(world.platform, { teamId: "T2", chatUserId: `W${name}`, email: `${name}@EXAMPLE.com`, displayName: "Bo" });
    expect(inSecond.id).toBe(inFirst.id);
    const identities = await world.platform.db.selectFrom("user_identities").select("team_id").where("user_id", "=", inFirst.id).orderBy("team_id").execute();
    expect(identities.map((identity) => identity.team_id)).toEqual(["T1", "T2"]);
  });

  it("keeps the old email when a profile takes an email another user already has", async () => {
    const a = unique("cy");
    const b = unique("di");
    const cy = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${a}`, email: `${a}@example.com`, displayName: "Cy" });
    await registerUser(world.platform, { teamId: "T1", chatUserId: `U${b}`, email: `${b}@example.com`, displayName: "Di" });
    const changed = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${a}`, email: `${b}@example.com`, displayName: "Cy Renamed" });
    expect(changed).toEqual({ id: cy.id, email: `${a}@example.com`, displayName: "Cy Renamed" });
  });

  it.each([
    [{ teamId: "", chatUserId: "U1", email: "a@example.com", displayName: "A" }, /team id/],
    [{ teamId: "T1", chatUserId: "U 1; rm", email: "a@example.com", displayName: "A" }, /user id/],
    [{ teamId: "T1", chatUserId: "U1", email: "not-an-email", displayName: "A" }, /email/],
    [{ teamId: "T1", chatUserId: "U1", email: "a@example.com", displayName: "<!channel>" }, /name/],
  ])("refuses a malformed identity %#", async (identity, message) => {
    const before = await world.platform.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    await expect(registerUser(world.platform, identity)).rejects.toThrow(message);
    const after = await world.platform.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
