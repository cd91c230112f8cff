import type { Kysely } from "kysely";

// The conversation a delivered message landed in, as Slack answered: a direct message posted to
// a user id lands in a DM channel with an id of its own, and updating the message needs that id.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("outbox").addColumn("message_channel_id", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("outbox").dropColumn("message_channel_id").execute();
}
