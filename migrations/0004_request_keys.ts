import { sql, type Kysely } from "kysely";

// Requests already carried out, by a key their surface gives (a Slack modal's view id): a
// change records its key in its own transaction, so a request submitted twice changes once.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("request_keys")
    .addColumn("key", "text", (col) => col.primaryKey())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("request_keys").execute();
}
