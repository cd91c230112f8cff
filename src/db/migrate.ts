import { Migrator, sql, type Kysely, type Migration } from "kysely";
import * as platformCore from "../../migrations/0001_platform_core.ts";
import * as outbox from "../../migrations/0002_outbox.ts";
import * as slackInstallations from "../../migrations/0003_slack_installations.ts";
import * as requestKeys from "../../migrations/0004_request_keys.ts";
import * as invitations from "../../migrations/0005_invitations.ts";
import * as outboxPostedChannel from "../../migrations/0006_outbox_posted_channel.ts";
import * as dnsChecks from "../../migrations/0007_dns_checks.ts";
import * as applicationSplits from "../../migrations/0008_application_splits.ts";
import * as accessTokens from "../../migrations/0009_access_tokens.ts";
import * as identitiesPerWorkspace from "../../migrations/0010_identities_per_workspace.ts";
import * as approvalThresholds from "../../migrations/0011_approval_thresholds.ts";
import * as hostnameClaims from "../../migrations/0012_hostname_claims.ts";
import * as applicationMoves from "../../migrations/0013_application_moves.ts";
import * as outboxWakeup from "../../migrations/0014_outbox_wakeup.ts";
import * as outboxWakeupWhenWritten from "../../migrations/0015_outbox_wakeup_when_written.ts";
import * as lastCheckFromHistory from "../../migrations/0016_last_check_from_history.ts";
import type { Database } from "./schema.ts";

/** Every migration in `migrations/`, by file name; a test checks none is missing. */
export const migrations: Record<string, Migration> = {
  "0001_platform_core": platformCore,
  "0002_outbox": outbox,
  "0003_slack_installations": slackInstallations,
  "0004_request_keys": requestKeys,
  "0005_invitations": invitations,
  "0006_outbox_posted_channel": outboxPostedChannel,
  "0007_dns_checks": dnsChecks,
  "0008_application_splits": applicationSplits,
  "0009_access_tokens": accessTokens,
  "0010_identities_per_workspace": identitiesPerWorkspace,
  "0011_approval_thresholds": approvalThresholds,
  "0012_hostname_claims": hostnameClaims,
  "0013_application_moves": applicationMoves,
  "0014_outbox_wakeup": outboxWakeup,
  "0015_outbox_wakeup_when_written": outboxWakeupWhenWritten,
  "0016_last_check_from_history": lastCheckFromHistory,
};

/** The migrations this code knows that the database has not run (a process newer than its schema). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const recorded = new Set(await recordedMigrations(db));
  return Object.keys(migrations).filter((name) => !recorded.has(name));
}

/**
 * Brings the schema up to the newest migration; throws on the first failure. Most starts find
 * every migration run, which one query tells; otherwise Kysely's migrator runs them, behind its
 * lock, so that processes starting together take turns, and refuses a database that ran a
 * migration this code does not know.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const recorded = await recordedMigrations(db);
  const known = Object.keys(migrations);
  if (recorded.length === known.length && known.every((name) => recorded.includes(name))) return [];
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName;
    throw new Error(`migration ${failed ?? "(unknown)"} failed: ${String((error as Error).message ?? error)}`);
  }
  return (results ?? []).map((result) => result.migrationName);
}

/** The names of the migrations the database has run, from Kysely's own table: none on a new database. */
async function recordedMigrations(db: Kysely<Database>): Promise<string[]> {
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    return rows.map((row) => row.name);
  } catch (error) {
    if ((error as { code?: string }).code === undefinedTable) return [];
    throw error;
  }
}

const undefinedTable = "42P01";
