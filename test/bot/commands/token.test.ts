import pino from "pino";
import { describe, expect, it } from "vitest";
import type { CommandContext } from "../../../src/bot/commands/command.ts";
import { runCommandLine } from "../../../src/bot/dispatch.ts";
import { plainText } from "../../../src/bot/shell.ts";
import { authenticateAccessToken } from "../../../src/core/tokens.ts";
import { buildUser, useWorld, type TestUser } from "../../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });

async function reply(user: TestUser, line: string, extra: Partial<CommandContext> = {}): Promise<{ text: string; error: boolean }> {
  const outcome = await runCommandLine({ platform: world.platform, actor: user, teamId: "T0TEST", ...extra }, line, { slashCommand: "/edge", logger });
  return { text: plainText(outcome.message), error: outcome.message.error === true };
}

describe("token commands", () => {
  it("show a new token once, with how to clone, and never again", async () => {
    const ana = await buildUser(world.platform);
    const created = await reply(ana, "token create", { gitBaseUrl: "http://127.0.0.1:3000" });
    const token = /`(edgebot_pat_[A-Za-z0-9_-]{43})`/.exec(created.text)?.[1];
    expect(token).toBeDefined();
    expect(created.text).toContain("Copy it now: edgebot keeps only a hash of it and cannot show it again.");
    expect(created.text).toContain("git clone http://127.0.0.1:3000/git/<org>/<app>.git");
    const id = /token (\d+):/.exec(created.text)![1]!;
    const listed = await reply(ana, "token list");
    expect(listed.text).toContain(`${id} · ${token!.slice(0, 16)}… · created `);
    expect(listed.text).toContain("never used");
    expect(listed.text).not.toContain(token!.slice(16));
    expect(await authenticateAccessToken(world.platform.db, token!)).toMatchObject({ userId: ana.id });
    expect((await reply(ana, "token list")).text).toMatch(/· last used \d{4}-\d\d-\d\d/);

    expect((await reply(ana, `token revoke ${id}`)).text).toContain(`Token ${id} (${token!.slice(0, 16)}…) is revoked`);
    expect(await authenticateAccessToken(world.platform.db, token!)).toBeUndefined();
    expect((await reply(ana, "token list")).text).toBe("You have no tokens. Make one for git over HTTP with `token create`.");
  });

  it("answer bad input with the usage and change nothing", async () => {
    const ana = await buildUser(world.platform);
    const ben = await buildUser(world.platform);
    await reply(ben, "token create");
    const bensId = (await world.platform.db.selectFrom("access_tokens").select("id").where("user_id", "=", ben.id).executeTakeFirstOrThrow()).id;
    const before = await world.platform.db.selectFrom("access_tokens").selectAll().orderBy("id").execute();
    const cases: Array<[string, string]> = [
      ["token revoke", "<id> is missing"],
      ["token revoke abc", "token id must be a token id from `token list`, not abc"],
      ["token revoke -5", "token id must be a token id from `token list`"],
      [`token revoke ${bensId}`, `token ${bensId} not found`],
      ["token create now", "token create"],
    ];
    for (const [line, expected] of cases) {
      const answer = await reply(ana, line);
      expect(answer.error, line).toBe(true);
      expect(answer.text, line).toContain(expected);
    }
    expect(await world.platform.db.selectFrom("access_tokens").selectAll().orderBy("id").execute()).toEqual(before);
  });
});
