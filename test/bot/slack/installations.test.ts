import { randomBytes } from "node:crypto";
import type { Installation } from "@slack/bolt";
import { beforeEach, describe, expect, it } from "vitest";
import { InstallationNotFound, SlackInstallations } from "../../../src/bot/slack/installations.ts";
import { TokenCipher, TokenUnreadable, tokenKeyId } from "../../../src/bot/slack/token-cipher.ts";
import { sealLegacyToken } from "../../support/legacy-token.ts";
import { unique, useWorld } from "../../support/world.ts";

const world = useWorld();
const store = (keys: Buffer | Buffer[] = randomBytes(32)) => new SlackInstallations(world.platform.db, new TokenCipher(keys));

/** The stored (encrypted) bot token of a workspace's row. */
async function storedToken(teamId: string): Promise<Buffer> {
  const row = await world.platform.db.selectFrom("slack_installations").select("bot_token").where("team_id", "=", teamId).executeTakeFirstOrThrow();
  return Buffer.from(row.bot_token);
}

async function setStoredToken(teamId: string, value: Buffer): Promise<void> {
  await world.platform.db.updateTable("slack_installations").set({ bot_token: value }).where("team_id", "=", teamId).execute();
}

function workspaceInstall(teamId: string, botToken: string): Installation {
  return {
    team: { id: teamId },
    enterprise: undefined,
    user: { id: "UADMIN", token: undefined, scopes: undefined },
    bot: { token: botToken, id: "BEDGE", userId: "UEDGEBOT", scopes: ["commands", "chat:write"] },
    isEnterpriseInstall: false,
  };
}

describe("Slack installations in Postgres", () => {
  it("fetches a workspace's installation with its token decrypted, as Bolt's authorize reads it", async () => {
    const installations = store();
    const teamId = unique("T").toUpperCase();
    await installations.storeInstallation(workspaceInstall(teamId, "xoxb-workspace"));

    const fetched = await installations.fetchInstallation({ teamId, enterpriseId: undefined, isEnterpriseInstall: false });

    expect(fetched).toMatchObject({ team: { id: teamId }, bot: { token: "xoxb-workspace", id: "BEDGE", userId: "UEDGEBOT", scopes: ["commands", "chat:write"] }, user: { id: "UADMIN" }, isEnterpriseInstall: false });
    expect(await installations.botTokenFor(teamId)).toBe("xoxb-workspace");
    expect(await installations.botTokenFor(null)).toBeUndefined();
  });

  it("keeps an org-wide install by its enterprise, apart from the workspaces' own", async () => {
    const installations = store();
    const enterpriseId = unique("E").toUpperCase();
    const teamId = unique("T").toUpperCase();
    await installations.storeInstallation({ ...workspaceInstall(teamId, "xoxb-team"), enterprise: { id: enterpriseId } });
    await installations.storeInstallation({ ...workspaceInstall("unused", "xoxb-org"), team: undefined, enterprise: { id: enterpriseId }, isEnterpriseInstall: true });

    expect((await installations.fetchInstallation({ teamId: undefined, enterpriseId, isEnterpriseInstall: true })).bot?.token).toBe("xoxb-org");
    expect((await installations.fetchInstallation({ teamId, enterpriseId, isEnterpriseInstall: false })).bot?.token).toBe("xoxb-team");

    await installations.deleteInstallation({ teamId: undefined, enterpriseId, isEnterpriseInstall: true });
    await expect(installations.fetchInstallation({ teamId: undefined, enterpriseId, isEnterpriseInstall: true })).rejects.toThrow(InstallationNotFound);
    expect(await installations.botTokenFor(teamId)).toBe("xoxb-team");
  });

  it("says edgebot is not installed in a workspace it never was", async () => {
    await expect(store().fetchInstallation({ teamId: "TNEVER", enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow("edgebot is not installed in workspace TNEVER");
  });

  it("does not read a token copied into another workspace's row", async () => {
    const installations = store();
    const [victim, intruder] = [unique("T").toUpperCase(), unique("T").toUpperCase()];
    await installations.storeInstallation(workspaceInstall(victim, "xoxb-victim"));
    await installations.storeInstallation(workspaceInstall(intruder, "xoxb-intruder"));

    await setStoredToken(intruder, await storedToken(victim));

    await expect(installations.botTokenFor(intruder)).rejects.toThrow(TokenUnreadable);
    await expect(installations.fetchInstallation({ teamId: intruder, enterpriseId: undefined, isEnterpriseInstall: false })).rejects.toThrow(`the bot token of workspace ${intruder} does not open`);
    expect(await installations.botTokenFor(victim)).toBe("xoxb-victim");
  });
});

describe("re-sealing stored bot tokens with the newest key", () => {
  // Re-sealing covers every row: each story starts from no installation at all.
  beforeEach(async () => {
    await world.platform.db.deleteFrom("slack_installations").execute();
  });

  it("re-seals tokens under an older key and from before key ids, so that the newest key alone opens them; a second run changes nothing", async () => {
    const [newest, older] = [randomBytes(32), randomBytes(32)];
    const [underOlder, legacy, underNewest] = [unique("T").toUpperCase(), unique("T").toUpperCase(), unique("T").toUpperCase()];
    await store(older).storeInstallation(workspaceInstall(underOlder, "xoxb-older"));
    await store(older).storeInstallation(workspaceInstall(legacy, "xoxb-legacy"));
    await setStoredToken(legacy, sealLegacyToken(older, "xoxb-legacy"));
    await store(newest).storeInstallation(workspaceInstall(underNewest, "xoxb-newest"));
    const enterpriseId = unique("E").toUpperCase();
    await store(older).storeInstallation({ ...workspaceInstall("unused", "xoxb-org"), team: undefined, enterprise: { id: enterpriseId }, isEnterpriseInstall: true });
    const untouched = await storedToken(underNewest);

    const rotating = store([newest, older]);
    const report = await rotating.resealTokens();

    expect(report).toEqual({ keyId: tokenKeyId(newest), resealed: 3, alreadyCurrent: 1, unreadable: [] });
    const newestOnly = store(newest);
    expect(await newestOnly.botTokenFor(underOlder)).toBe("xoxb-older");
    expect(await newestOnly.botTokenFor(legacy)).toBe("xoxb-legacy");
    expect(await newestOnly.botTokenFor(underNewest)).toBe("xoxb-newest");
    expect((await newestOnly.fetchInstallation({ teamId: undefined, enterpriseId, isEnterpriseInstall: true })).bot?.token).toBe("xoxb-org");
    // Already under the newest key: left byte for byte as it was.
    expect(await storedToken(underNewest)).toEqual(untouched);
    expect(await rotating.resealTokens()).toEqual({ keyId: tokenKeyId(newest), resealed: 0, alreadyCurrent: 4, unreadable: [] });

    // The token from before key ids is now bound to its row like any other.
    await setStoredToken(underOlder, await storedToken(legacy));
    await expect(newestOnly.botTokenFor(underOlder)).rejects.toThrow(TokenUnreadable);
    expect((await rotating.resealTokens()).unreadable.map((row) => row.owner)).toEqual([{ team: underOlder }]);
  });

  it("reports a token that no configured key opens and leaves it as it is", async () => {
    const [newest, gone] = [randomBytes(32), randomBytes(32)];
    const orphan = unique("T").toUpperCase();
    await store(gone).storeInstallation(workspaceInstall(orphan, "xoxb-orphan"));
    const before = await storedToken(orphan);

    const report = await store(newest).resealTokens();

    expect(report).toEqual({
      keyId: tokenKeyId(newest),
      resealed: 0,
      alreadyCurrent: 0,
      unreadable: [{ owner: { team: orphan }, reason: `the bot token of workspace ${orphan} was sealed with key ${tokenKeyId(gone)}, which is not among the configured keys (SLACK_TOKEN_KEYS: ${tokenKeyId(newest)})` }],
    });
    expect(await storedToken(orphan)).toEqual(before);
    expect(await store(gone).botTokenFor(orphan)).toBe("xoxb-orphan");
  });
});
