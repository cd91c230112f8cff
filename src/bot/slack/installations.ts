import type { Installation, InstallationQuery, InstallationStore } from "@slack/bolt";
import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema.ts";
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
 * Bolt's InstallationStore on Postgres: one row per workspace (per enterprise for an org-wide
 * install), with the bot token encrypted by `cipher` and bound to that workspace (or
 * enterprise). A reinstall replaces the row.
 */
export class SlackInstallations implements InstallationStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly cipher: TokenCipher,
  ) {}

  async storeInstallation(installation: Installation): Promise<void> {
    const { bot } = installation;
    // edgebot asks only for bot scopes; an installation without a bot cannot post anything.
    if (!bot) throw new Error("the installation has no bot token");
    const isEnterpriseInstall = installation.isEnterpriseInstall === true;
    const installedIn = {
      team_id: isEnterpriseInstall ? null : (installation.team?.id ?? null),
      enterprise_id: installation.enterprise?.id ?? null,
      is_enterprise_install: isEnterpriseInstall,
    };
    const row = {
      ...installedIn,
      bot_token: this.cipher.encrypt(bot.token, ownerOf(installedIn)),
      bot_id: bot.id,
      bot_user_id: bot.userId,
      bot_scopes: bot.scopes.join(","),
      installer_user_id: installation.user.id ?? null,
    };
    await this.db
      .insertInto("slack_installations")
      .values(row)
      .onConflict((conflict) =>
        // The first installed_at stays; updated_at tells when it was last reinstalled.
        (isEnterpriseInstall ? conflict.column("enterprise_id").where("is_enterprise_install", "=", true) : conflict.column("team_id").where("is_enterprise_install", "=", false)).doUpdateSet({
          ...row,
          updated_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation> {
    const row = await this.find(query).selectAll().executeTakeFirst();
    if (!row) throw new InstallationNotFound(`edgebot is not installed in ${describe(query)}`);
    return {
      team: row.team_id === null ? undefined : { id: row.team_id },
      enterprise: row.enterprise_id === null ? undefined : { id: row.enterprise_id },
      user: { id: row.installer_user_id ?? "", token: undefined, scopes: undefined },
      bot: { token: this.cipher.decrypt(row.bot_token, ownerOf(row)), id: row.bot_id, userId: row.bot_user_id, scopes: row.bot_scopes.split(",") },
      tokenType: "bot",
      isEnterpriseInstall: row.is_enterprise_install,
      authVersion: "v2",
    };
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.db
      .deleteFrom("slack_installations")
      .where("id", "in", this.find(query).select("id"))
      .execute();
  }

  /** The workspaces edgebot is installed in, at most `limit`, oldest installation first. */
  async installedTeams(limit: number): Promise<string[]> {
    const rows = await this.db.selectFrom("slack_installations").select("team_id").where("is_enterprise_install", "=", false).where("team_id", "is not", null).orderBy("id").limit(limit).execute();
    return rows.map((row) => row.team_id!);
  }

  /** The bot token of a workspace, decrypted; undefined when edgebot is not installed there (or no workspace is known). */
  async botTokenFor(teamId: string | null): Promise<string | undefined> {
    if (teamId === null) return undefined;
    const row = await this.find({ teamId, enterpriseId: undefined, isEnterpriseInstall: false }).select("bot_token").executeTakeFirst();
    return row === undefined ? undefined : this.cipher.decrypt(row.bot_token, { team: teamId });
  }

  /**
   * Seals every stored bot token again with the newest key, one row per transaction, so that
   * the older keys can then be dropped from the configuration. Tokens already sealed with it
   * are left alone, which makes a second run a no-op; a token no configured key opens is
   * reported and left as it is.
   */
  async resealTokens(): Promise<ResealReport> {
    const report: ResealReport = { keyId: this.cipher.keyId, resealed: 0, alreadyCurrent: 0, unreadable: [] };
    const ids = await this.db.selectFrom("slack_installations").select("id").orderBy("id").execute();
    for (const { id } of ids) {
      await this.db.transaction().execute(async (trx) => {
        // Locked and read again: a reinstall since the listing has replaced the token.
        const row = await trx.selectFrom("slack_installations").select(["id", "team_id", "enterprise_id", "is_enterprise_install", "bot_token"]).where("id", "=", id).forUpdate().executeTakeFirst();
        if (!row) return;
        const owner = ownerOf(row);
        let opened;
        try {
          opened = this.cipher.open(row.bot_token, owner);
        } catch (error) {
          if (!(error instanceof TokenUnreadable)) throw error;
          report.unreadable.push({ owner, reason: error.message });
          return;
        }
        if (!opened.legacy && opened.keyId === this.cipher.keyId) {
          report.alreadyCurrent += 1;
          return;
        }
        await trx.updateTable("slack_installations").set({ bot_token: this.cipher.encrypt(opened.token, owner) }).where("id", "=", row.id).execute();
        report.resealed += 1;
      });
    }
    return report;
  }

  // Team ids are unique across Slack, so a workspace's own install is found by team alone;
  // an org-wide install by its enterprise.
  private find(query: InstallationQuery<boolean>) {
    const table = this.db.selectFrom("slack_installations");
    if (query.isEnterpriseInstall) return table.where("is_enterprise_install", "=", true).where("enterprise_id", "=", query.enterpriseId ?? "");
    return table.where("is_enterprise_install", "=", false).where("team_id", "=", query.teamId ?? "");
  }
}

/** The workspace (or, for an org-wide install, the enterprise) a row's token is bound to. */
function ownerOf(row: { team_id: string | null; enterprise_id: string | null; is_enterprise_install: boolean }): TokenOwner {
  return row.is_enterprise_install ? { enterprise: row.enterprise_id ?? "" } : { team: row.team_id ?? "" };
}

function describe(query: InstallationQuery<boolean>): string {
  return query.isEnterpriseInstall ? `enterprise ${query.enterpriseId}` : `workspace ${query.teamId}`;
}
