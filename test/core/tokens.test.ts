import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Conflict, Invalid, NotFound } from "../../src/core/errors.ts";
import { authenticateAccessToken, createAccessToken, listAccessTokens, maxLiveTokens, revokeAccessToken } from "../../src/core/tokens.ts";
import { buildUser, failure, useWorld } from "../support/world.ts";

const world = useWorld();

const tokenRows = () => world.platform.db.selectFrom("access_tokens").selectAll().orderBy("id").execute();

describe("personal access tokens", () => {
  it("are shown once, kept only as a SHA-256, and listed without the secret", async () => {
    const ana = await buildUser(world.platform);
    const created = await createAccessToken(world.platform, { actor: ana });
    expect(created.token).toMatch(/^edgebot_pat_[A-Za-z0-9_-]{43}$/);
    expect(created.hint).toBe(`${created.token.slice(0, "edgebot_pat_".length + 4)}…`);

    const row = (await tokenRows()).find((candidate) => candidate.id === created.id)!;
    expect(row.token_hash).toBe(createHash("sha256").update(created.token).digest("hex"));
    expect(JSON.stringify(await tokenRows())).not.toContain(created.token.slice("edgebot_pat_".length));

    const listed = await listAccessTokens(world.platform, { actor: ana });
    expect(listed).toEqual([{ id: created.id, hint: created.hint, createdAt: created.createdAt, lastUsedAt: null }]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
  });

  it("authenticate their owner and record when they were last used", async () => {
    const ana = await buildUser(world.platform);
    const { token, id } = await createAccessToken(world.platform, { actor: ana });
    expect(await authenticateAccessToken(world.platform.db, token)).toEqual({ userId: ana.id, tokenId: id, email: ana.email });
    const [listed] = await listAccessTokens(world.platform, { actor: ana });
    expect(listed!.lastUsedAt).toBeInstanceOf(Date);

    for (const wrong of ["", "edgebot_pat_", `${token}x`, token.toUpperCase(), `Bearer ${token}`, token.replace(/.$/, (last) => (last === "A" ? "B" : "A"))]) {
      expect(await authenticateAccessToken(world.platform.db, wrong)).toBeUndefined();
    }
  });

  it("stop working once revoked, and only their owner can revoke them", async () => {
    const ana = await buildUser(world.platform);
    const ben = await buildUser(world.platform);
    const { token, id } = await createAccessToken(world.platform, { actor: ana });

    expect(await failure(revokeAccessToken(world.platform, { actor: ben, id: String(id) }))).toEqual(new NotFound(`token ${id} not found`));
    expect(await authenticateAccessToken(world.platform.db, token)).toBeDefined();

    const revoked = await revokeAccessToken(world.platform, { actor: ana, id: String(id) });
    expect(revoked.id).toBe(id);
    expect(await authenticateAccessToken(world.platform.db, token)).toBeUndefined();
    expect(await listAccessTokens(world.platform, { actor: ana })).toEqual([]);
    expect(await failure(revokeAccessToken(world.platform, { actor: ana, id: String(id) }))).toEqual(new Conflict(`token ${id} was already revoked`, "id"));
  });

  it("refuse a bad token id and write nothing", async () => {
    const ana = await buildUser(world.platform);
    await createAccessToken(world.platform, { actor: ana });
    const before = await tokenRows();
    for (const id of ["abc", "-1", "0", "1.5", "1e3", "99999999999", "", "1; drop table access_tokens"]) {
      const error = await failure(revokeAccessToken(world.platform, { actor: ana, id }));
      expect(error, id).toBeInstanceOf(Invalid);
      expect(error.message).toContain("token id must be a token id from `token list`");
    }
    expect(await failure(revokeAccessToken(world.platform, { actor: ana, id: "2147483646" }))).toBeInstanceOf(NotFound);
    expect(await tokenRows()).toEqual(before);
  });

  it(`are limited to ${maxLiveTokens} live ones a person`, async () => {
    const ana = await buildUser(world.platform);
    const made = [];
    for (let index = 0; index < maxLiveTokens; index++) made.push(await createAccessToken(world.platform, { actor: ana }));
    const error = await failure(createAccessToken(world.platform, { actor: ana }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toContain(`you already have ${maxLiveTokens} tokens`);
    await revokeAccessToken(world.platform, { actor: ana, id: made[0]!.id });
    expect((await createAccessToken(world.platform, { actor: ana })).token).toMatch(/^edgebot_pat_/);
  });
});
