import { sql, type Kysely } from "kysely";

// Messages the bot sends on its own, written in the transaction of the change that causes them
// and delivered later by a worker (src/bot/slack/outbox.ts) or printed by the local shell.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("outbox")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    // No foreign key: a message about an org deleted in the meantime still goes out.
    .addColumn("org_id", "integer")
    .addColumn("kind", "text", (col) => col.notNull())
    // The structured event (who, what, names), not Slack blocks: rendering happens at delivery.
    .addColumn("payload", "jsonb", (col) => col.notNull())
    .addColumn("channel_id", "text", (col) => col.notNull())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("last_error", "text")
    .addColumn("delivered_at", "timestamptz")
    .addColumn("message_ts", "text")
    // Set when delivery stopped for good (a missing channel, too many failures); last_error says why.
    .addColumn("given_up_at", "timestamptz")
    .execute();
  // The worker's one question, "what is due and still undelivered?", reads only pending rows.
  await db.schema
    .createIndex("outbox_due_idx")
    .on("outbox")
    .columns(["next_attempt_at", "id"])
    .where(sql.ref("delivered_at"), "is", null)
    .where(sql.ref("given_up_at"), "is", null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("outbox").execute();
}
