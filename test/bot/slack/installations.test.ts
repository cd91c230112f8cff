import { randomBytes } from "node:crypto";
import type { Installation } from "@slack/bolt";
import { describe, expect, it } from "vitest";
import { InstallationNotFound, SlackInstallations } from "../../../src/bot/slack/installations.ts";
import { TokenCipher } from "../../../src/bot/slack/token-cipher.ts";
import { unique, useWorld } from "../../support/world.ts";

const world = useWorld();
const store = () => new SlackInstallations(world.platform.db, new TokenCipher(randomBytes(32)));

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
});
