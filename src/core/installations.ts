import { sql, type Kysely } from "kysely";
import type { Database } from "../db/schema.ts";

/**
 * Where a chat app is installed: one workspace (which may belong to an enterprise), or, for an
 * org-wide install, every workspace of an enterprise.
 */
export type InstallationPlace = { orgWide: false; workspaceId: string; enterpriseId: string | null } | { orgWide: true; enterpriseId: string };

/** Which installation a request names: a workspace's own, or its enterprise's org-wide one. */
export type InstallationKey = { orgWide: false; workspaceId: string } | { orgWide: true; enterpriseId: string };

/** One installation of the chat app, with its bot token sealed by the surface that stores it. */
export interface Installation {
  place: InstallationPlace;
  /** The bot token, sealed (encrypted and bound to `place`); core never sees it open. */
  sealedBotToken: Uint8Array;
  botId: string;
  botUserId: string;
  botScopes: string[];
  /** Who installed it, when the chat platform said. */
  installerUserId: string | null;
}

/**
 * Stores an installation: one per workspace (per enterprise for an org-wide install). A
 * reinstall replaces it; the first installation time stays, and `updated_at` tells the last.
 */
export async function saveInstallation(db: Kysely<Database>, installation: Installation): Promise<void> {
  const { place } = installation;
  const row = {
    team_id: place.orgWide ? null : place.workspaceId,
    enterprise_id: place.enterpriseId,
    is_enterprise_install: place.orgWide,
    bot_token: installation.sealedBotToken,
    bot_id: installation.botId,
    bot_user_id: installation.botUserId,
    bot_scopes: installation.botScopes.join(","),
    installer_user_id: installation.installerUserId,
  };
  await db
    .insertInto("slack_installations")
    .values(row)
    .onConflict((conflict) =>
      (place.orgWide ? conflict.column("enterprise_id").where("is_enterprise_install", "=", true) : conflict.column("team_id").where("is_enterprise_install", "=", false)).doUpdateSet({
        ...row,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** The installation `key` names, or undefined when the app is not (or no longer) installed there. */
export async function findInstallation(db: Kysely<Database>, key: InstallationKey): Promise<Installation | undefined> {
  const row = await installationsAt(db, key).selectAll().executeTakeFirst();
  return row === undefined ? undefined : installationOf(row);
}

/** Forgets the installation `key` names, with its token (an uninstall, a revoked token). */
export async function removeInstallation(db: Kysely<Database>, key: InstallationKey): Promise<void> {
  await db
    .deleteFrom("slack_installations")
    .where("id", "in", installationsAt(db, key).select("id"))
    .execute();
}

/** The workspaces the app is installed in on their own, at most `limit`, oldest installation first. */
export async function installedWorkspaces(db: Kysely<Database>, limit: number): Promise<string[]> {
  const rows = await db.selectFrom("slack_installations").select("team_id").where("is_enterprise_install", "=", false).where("team_id", "is not", null).orderBy("id").limit(limit).execute();
  return rows.map((row) => row.team_id!);
}

/**
 * Offers every stored sealed token to `reseal`, one installation per transaction, locked and
 * read again (a reinstall since the listing has replaced it); the value `reseal` returns, if
 * any, replaces the sealed token.
 */
export async function resealBotTokens(db: Kysely<Database>, reseal: (sealed: Uint8Array, place: InstallationPlace) => Uint8Array | undefined): Promise<void> {
  const ids = await db.selectFrom("slack_installations").select("id").orderBy("id").execute();
  for (const { id } of ids) {
    await db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom("slack_installations").select(["id", "team_id", "enterprise_id", "is_enterprise_install", "bot_token"]).where("id", "=", id).forUpdate().executeTakeFirst();
      if (!row) return;
      const resealed = reseal(row.bot_token, placeOf(row));
      if (resealed !== undefined) await trx.updateTable("slack_installations").set({ bot_token: resealed }).where("id", "=", row.id).execute();
    });
  }
}

// Workspace ids are unique across the chat platform, so a workspace's own install is found by
// its id alone; an org-wide install by its enterprise.
function installationsAt(db: Kysely<Database>, key: InstallationKey) {
  const table = db.selectFrom("slack_installations");
  if (key.orgWide) return table.where("is_enterprise_install", "=", true).where("enterprise_id", "=", key.enterpriseId);
  return table.where("is_enterprise_install", "=", false).where("team_id", "=", key.workspaceId);
}

function installationOf(row: { team_id: string | null; enterprise_id: string | null; is_enterprise_install: boolean; bot_token: Uint8Array; bot_id: string; bot_user_id: string; bot_scopes: string; installer_user_id: string | null }): Installation {
  return {
    place: placeOf(row),
    sealedBotToken: row.bot_token,
    botId: row.bot_id,
    botUserId: row.bot_user_id,
    botScopes: row.bot_scopes.split(","),
    installerUserId: row.installer_user_id,
  };
}

function placeOf(row: { team_id: string | null; enterprise_id: string | null; is_enterprise_install: boolean }): InstallationPlace {
  return row.is_enterprise_install ? { orgWide: true, enterpriseId: row.enterprise_id ?? "" } : { orgWide: false, workspaceId: row.team_id ?? "", enterpriseId: row.enterprise_id };
}
