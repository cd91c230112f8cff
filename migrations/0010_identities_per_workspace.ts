import { sql, type Kysely } from "kysely";

// A person is known per chat identity (workspace + user id), never by email alone: another
// workspace controls its members' profile emails, so an email matching is no proof. Users may
// now share an email; an email the chat marks as unconfirmed matches nobody; an invitation made
// by mention names its user; and one-time codes let an identity already linked join another.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("users_email_key").execute();
  await db.schema.createIndex("users_email_idx").on("users").column("email").execute();
  await db.schema.alterTable("users").addColumn("email_confirmed", "boolean", (col) => col.notNull().defaultTo(true)).execute();
  await db.schema.alterTable("invitations").addColumn("invitee_user_id", "integer", (col) => col.references("users.id").onDelete("cascade")).execute();
  await db.schema
    .createTable("identity_link_codes")
    // SHA-256 of the one-time code: the code itself is shown once, to the identity that asked.
    .addColumn("code_hash", "text", (col) => col.primaryKey())
    .addColumn("user_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now() + interval '15 minutes'`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("identity_link_codes").execute();
  await db.schema.alterTable("invitations").dropColumn("invitee_user_id").execute();
  await db.schema.alterTable("users").dropColumn("email_confirmed").execute();
  await db.schema.dropIndex("users_email_idx").execute();
  await db.schema.createIndex("users_email_key").unique().on("users").column("email").execute();
}
