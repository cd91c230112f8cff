import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findInstallation, installedWorkspaces, removeInstallation, resealBotTokens, saveInstallation, type Installation } from "../../src/core/installations.ts";
import { unique, useWorld } from "../support/world.ts";

const world = useWorld();

function installedIn(workspaceId: string, sealedBotToken: Uint8Array = randomBytes(24)): Installation {
  return { place: { orgWide: false, workspaceId, enterpriseId: null }, sealedBotToken, botId: "BEDGE", botUserId: "UEDGEBOT", botScopes: ["commands", "chat:write"], installerUserId: "UADMIN" };
}

describe("a chat app's installations", () => {
  it("keeps one installation per workspace, the latest install replacing the one before, its sealed token as it was given", async () => {
    const workspaceId = unique("T").toUpperCase();
    await saveInstallation(world.platform.db, installedIn(workspaceId));
    const again = installedIn(workspaceId);
    await saveInstallation(world.platform.db, { ...again, botScopes: ["commands"] });

    const found = await findInstallation(world.platform.db, { orgWide: false, workspaceId });
    expect(found).toEqual({ ...again, sealedBotToken: expect.anything(), botScopes: ["commands"] });
    expect(Buffer.from(found!.sealedBotToken).equals(Buffer.from(again.sealedBotToken))).toBe(true);
    expect(await installedWorkspaces(world.platform.db, 1000)).toContain(workspaceId);
  });

  it("keeps an org-wide install apart from its workspaces', and forgets only the one named", async () => {
    const enterpriseId = unique("E").toUpperCase();
    const workspaceId = unique("T").toUpperCase();
    await saveInstallation(world.platform.db, { ...installedIn(workspaceId), place: { orgWide: false, workspaceId, enterpriseId } });
    await saveInstallation(world.platform.db, { ...installedIn("unused"), place: { orgWide: true, enterpriseId } });

    expect((await findInstallation(world.platform.db, { orgWide: true, enterpriseId }))?.place).toEqual({ orgWide: true, enterpriseId });
    expect(await installedWorkspaces(world.platform.db, 1000)).not.toContain(enterpriseId);
    await removeInstallation(world.platform.db, { orgWide: true, enterpriseId });
    expect(await findInstallation(world.platform.db, { orgWide: true, enterpriseId })).toBeUndefined();
    expect((await findInstallation(world.platform.db, { orgWide: false, workspaceId }))?.place).toEqual({ orgWide: false, workspaceId, enterpriseId });
  });

  it("replaces each sealed token with what the resealer gives back, and leaves those it declines", async () => {
    const [resealed, declined] = [unique("T").toUpperCase(), unique("T").toUpperCase()];
    await saveInstallation(world.platform.db, installedIn(resealed, Buffer.from("old")));
    await saveInstallation(world.platform.db, installedIn(declined, Buffer.from("keep")));

    await resealBotTokens(world.platform.db, (sealed, place) => (!place.orgWide && place.workspaceId === resealed ? Buffer.concat([Buffer.from("new:"), sealed]) : undefined));

    const tokenOf = async (workspaceId: string) => Buffer.from((await findInstallation(world.platform.db, { orgWide: false, workspaceId }))!.sealedBotToken).toString();
    expect(await tokenOf(resealed)).toBe("new:old");
    expect(await tokenOf(declined)).toBe("keep");
  });
});
