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

  it("makes an identity from another workspace with the same email a new user, never the same one", async () => {
    const name = unique("bo");
    const inFirst = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}@example.com`, displayName: "Bo" });
    const inSecond = await registerUser(world.platform, { teamId: "T9", chatUserId: `W${name}`, email: `${name}@EXAMPLE.com`, displayName: "Bo" });
    expect(inSecond.id).not.toBe(inFirst.id);
    expect(inSecond.email).toBe(inFirst.email);
    const identities = await world.platform.db.selectFrom("user_identities").select(["team_id", "user_id"]).where("chat_user_id", "in", [`U${name}`, `W${name}`]).orderBy("team_id").execute();
    expect(identities).toEqual([
      { team_id: "T1", user_id: inFirst.id },
      { team_id: "T9", user_id: inSecond.id },
    ]);
  });

  it("follows a profile that takes an email another user has, without joining the two", async () => {
    const a = unique("cy");
    const b = unique("di");
    const cy = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${a}`, email: `${a}@example.com`, displayName: "Cy" });
    const di = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${b}`, email: `${b}@example.com`, displayName: "Di" });
    const changed = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${a}`, email: `${b}@example.com`, displayName: "Cy Renamed" });
    expect(changed).toEqual({ id: cy.id, email: `${b}@example.com`, displayName: "Cy Renamed" });
    expect(changed.id).not.toBe(di.id);
  });

  it("registers one user when the same new identity arrives twice at once", async () => {
    const name = unique("eve");
    const identity = { teamId: "T1", chatUserId: `U${name}`, email: `${name}@example.com`, displayName: "Eve" };
    const [one, two] = await Promise.all([registerUser(world.platform, identity), registerUser(world.platform, identity)]);
    expect(two.id).toBe(one.id);
    const users = await world.platform.db.selectFrom("users").select("id").where("email", "=", `${name}@example.com`).execute();
    expect(users).toHaveLength(1);
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
