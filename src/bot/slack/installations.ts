import type { Installation, InstallationQuery, InstallationStore } from "@slack/bolt";
import { findInstallation, installedWorkspaces, removeInstallation, resealBotTokens, saveInstallation, type InstallationKey, type InstallationPlace } from "../../core/installations.ts";
import type { Platform } from "../../core/platform.ts";
import { TokenUnreadable, type TokenCipher, type TokenOwner } from "./token-cipher.ts";

/** No installation answers the query: edgebot is not (or no longer) installed there. */
export class InstallationNotFound extends Error {
  override name = "InstallationNotFound";
}

/** What re-sealing every stored bot token did (`resealTokens`). */
export interface ResealReport {
  /** The id of the key the readable tokens are now sealed with: the newest configured. */
  keyId: string;
  /** Tokens this run sealed again: under an older key, or in the format before key ids. */
  resealed: number;
  /** Tokens that were already sealed with the newest key, left as they are. */
  alreadyCurrent: number;
  /** Tokens that no configured key opens for their row, left as they are. */
  unreadable: Array<{ owner: TokenOwner; reason: string }>;
}

/**
 * Bolt's InstallationStore on core's installations: one per workspace (per enterprise for an
 * org-wide install), with the bot token encrypted by `cipher` and bound to that workspace (or
 * enterprise). A reinstall replaces it.
 */
export class SlackInstallations implements InstallationStore {
  constructor(
    private readonly db: Platform["db"],
    private readonly cipher: TokenCipher,
  ) {}

  async storeInstallation(installation: Installation): Promise<void> {
    const { bot } = installation;
    // edgebot asks only for bot scopes; an installation without a bot cannot post anything.
    if (!bot) throw new Error("the installation has no bot token");
    const enterpriseId = installation.enterprise?.id ?? null;
    const place: InstallationPlace =
      installation.isEnterpriseInstall === true ? { orgWide: true, enterpriseId: enterpriseId ?? "" } : { orgWide: false, workspaceId: installation.team?.id ?? "", enterpriseId };
    await saveInstallation(this.db, {
      place,
      sealedBotToken: this.cipher.encrypt(bot.token, ownerOf(place)),
      botId: bot.id,
      botUserId: bot.userId,
      botScopes: bot.scopes,
      installerUserId: installation.user.id ?? null,
    });
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation> {
    const found = await findInstallation(this.db, keyOf(query));
    if (!found) throw new InstallationNotFound(`edgebot is not installed in ${describe(query)}`);
    const { place } = found;
    return {
      team: place.orgWide ? undefined : { id: place.workspaceId },
      enterprise: place.enterpriseId === null ? undefined : { id: place.enterpriseId },
      user: { id: found.installerUserId ?? "", token: undefined, scopes: undefined },
      bot: { token: this.cipher.decrypt(found.sealedBotToken, ownerOf(place)), id: found.botId, userId: found.botUserId, scopes: found.botScopes },
      tokenType: "bot",
      isEnterpriseInstall: place.orgWide,
      authVersion: "v2",
    };
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await removeInstallation(this.db, keyOf(query));
  }

  /** The workspaces edgebot is installed in, at most `limit`, oldest installation first. */
  installedTeams(limit: number): Promise<string[]> {
    return installedWorkspaces(this.db, limit);
  }

  /** The bot token of a workspace, decrypted; undefined when edgebot is not installed there (or no workspace is known). */
  async botTokenFor(teamId: string | null): Promise<string | undefined> {
    if (teamId === null) return undefined;
    const found = await findInstallation(this.db, { orgWide: false, workspaceId: teamId });
    return found === undefined ? undefined : this.cipher.decrypt(found.sealedBotToken, { team: teamId });
  }

  /**
   * Seals every stored bot token again with the newest key, one installation per transaction,
   * so that the older keys can then be dropped from the configuration. Tokens already sealed
   * with it are left alone, which makes a second run a no-op; a token no configured key opens
   * is reported and left as it is.
   */
  async resealTokens(): Promise<ResealReport> {
    const report: ResealReport = { keyId: this.cipher.keyId, resealed: 0, alreadyCurrent: 0, unreadable: [] };
    await resealBotTokens(this.db, (sealed, place) => {
      const owner = ownerOf(place);
      let opened;
      try {
        opened = this.cipher.open(sealed, owner);
      } catch (error) {
        if (!(error instanceof TokenUnreadable)) throw error;
        report.unreadable.push({ owner, reason: error.message });
        return undefined;
      }
      if (!opened.legacy && opened.keyId === this.cipher.keyId) {
        report.alreadyCurrent += 1;
        return undefined;
      }
      report.resealed += 1;
      return this.cipher.encrypt(opened.token, owner);
    });
    return report;
  }
}

// Team ids are unique across Slack, so a workspace's own install is found by team alone;
// an org-wide install by its enterprise.
function keyOf(query: InstallationQuery<boolean>): InstallationKey {
  return query.isEnterpriseInstall ? { orgWide: true, enterpriseId: query.enterpriseId ?? "" } : { orgWide: false, workspaceId: query.teamId ?? "" };
}

/** The workspace (or, for an org-wide install, the enterprise) a token is bound to. */
function ownerOf(place: InstallationPlace): TokenOwner {
  return place.orgWide ? { enterprise: place.enterpriseId } : { team: place.workspaceId };
}

function describe(query: InstallationQuery<boolean>): string {
  return query.isEnterpriseInstall ? `enterprise ${query.enterpriseId}` : `workspace ${query.teamId}`;
}
