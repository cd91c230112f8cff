import { describe, expect, it } from "vitest";
import { linkIdentity, registerUser, startIdentityLink } from "../../src/core/users.ts";
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

describe("linking identities", () => {
  it("refuses an expired code, a code typed by its own user, and writes nothing", async () => {
    const name = unique("lin");
    const home = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}@example.com`, displayName: "Lin" });
    const away = await registerUser(world.platform, { teamId: "T9", chatUserId: `W${name}`, email: `${name}@example.com`, displayName: "Lin" });
    const { code } = await startIdentityLink(world.platform, { actor: { userId: home.id } });

    await expect(linkIdentity(world.platform, { actor: { userId: home.id }, teamId: "T1", code })).rejects.toThrow(/already belongs to that edgebot user/);
    await world.platform.db.updateTable("identity_link_codes").set({ expires_at: new Date(Date.now() - 1000) }).where("user_id", "=", home.id).execute();
    await expect(linkIdentity(world.platform, { actor: { userId: away.id }, teamId: "T9", code })).rejects.toThrow(/expired/);
    await expect(linkIdentity(world.platform, { actor: { userId: away.id }, teamId: "T9", code: "x" })).rejects.toThrow(/not a link code/);

    const identity = await world.platform.db.selectFrom("user_identities").select("user_id").where("team_id", "=", "T9").where("chat_user_id", "=", `W${name}`).executeTakeFirstOrThrow();
    expect(identity.user_id).toBe(away.id);
  });

  it("moves the identity to the user who asked, and uses the code up", async () => {
    const name = unique("mo");
    const home = await registerUser(world.platform, { teamId: "T1", chatUserId: `U${name}`, email: `${name}@example.com`, displayName: "Mo" });
    const away = await registerUser(world.platform, { teamId: "T9", chatUserId: `W${name}`, email: `${name}@other.example`, displayName: "Mo" });
    const { code } = await startIdentityLink(world.platform, { actor: { userId: home.id } });
    expect(await linkIdentity(world.platform, { actor: { userId: away.id }, teamId: "T9", code })).toEqual(home);
    // The next sight of that identity is the linked user, whatever its profile says.
    // Its profile's other email does not replace the linked user's: neither workspace decides it.
    expect(await registerUser(world.platform, { teamId: "T9", chatUserId: `W${name}`, email: `${name}@other.example`, displayName: "Mo" })).toEqual(home);
    expect(await world.platform.db.selectFrom("identity_link_codes").select("user_id").where("user_id", "=", home.id).execute()).toEqual([]);
  });
});
