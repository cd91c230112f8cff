import { sql, type Kysely } from "kysely";

// Multi-workspace Slack: one installation per workspace (or per enterprise for an org-wide
// install), and the workspace of each notification channel, so the outbox posts with the
// token of the workspace the channel belongs to.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("slack_installations")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    // Null for an org-wide install, which covers every workspace of the enterprise.
    .addColumn("team_id", "text")
    .addColumn("enterprise_id", "text")
    .addColumn("is_enterprise_install", "boolean", (col) => col.notNull().defaultTo(false))
    // AES-256-GCM: 12-byte IV, 16-byte tag, then the ciphertext (src/bot/slack/token-cipher.ts).
    .addColumn("bot_token", "bytea", (col) => col.notNull())
    .addColumn("bot_id", "text", (col) => col.notNull())
    .addColumn("bot_user_id", "text", (col) => col.notNull())
    // Comma-separated, as Slack grants them.
    .addColumn("bot_scopes", "text", (col) => col.notNull())
    .addColumn("installer_user_id", "text")
    .addColumn("installed_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint("slack_installations_keyed", sql`(is_enterprise_install and enterprise_id is not null) or (not is_enterprise_install and team_id is not null)`)
    .execute();
  // A workspace install is keyed by its team, an org-wide install by its enterprise; a reinstall replaces the row.
  await db.schema.createIndex("slack_installations_team_key").on("slack_installations").column("team_id").unique().where(sql.ref("is_enterprise_install"), "=", false).execute();
  await db.schema.createIndex("slack_installations_enterprise_key").on("slack_installations").column("enterprise_id").unique().where(sql.ref("is_enterprise_install"), "=", true).execute();

  // The workspace a channel id belongs to; null for channels set before this migration.
  await db.schema.alterTable("orgs").addColumn("channel_team_id", "text").execute();
  await db.schema.alterTable("applications").addColumn("channel_team_id", "text").execute();
  // The channel's workspace and the person who caused the notification (told when the channel refuses the bot).
  await db.schema.alterTable("outbox").addColumn("team_id", "text").addColumn("actor_id", "integer").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("outbox").dropColumn("team_id").dropColumn("actor_id").execute();
  await db.schema.alterTable("applications").dropColumn("channel_team_id").execute();
  await db.schema.alterTable("orgs").dropColumn("channel_team_id").execute();
  await db.schema.dropTable("slack_installations").execute();
}
