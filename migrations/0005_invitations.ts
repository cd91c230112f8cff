import { sql, type Kysely } from "kysely";

// Invitations to an org: asked for by a member, approved or denied by an owner or admin
// (approved as made when one of them invites), then accepted: at once for someone edgebot
// knows by email, else by redeeming a one-time code. Each lives 48 hours.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("invitations")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("role", "text", (col) => col.notNull().check(sql`role in ('admin', 'developer', 'viewer')`))
    // Who is invited, always by email: a mention is turned into the person's email when asked.
    .addColumn("invitee_email", "text", (col) => col.notNull().check(sql`invitee_email = lower(invitee_email)`))
    .addColumn("requested_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("status", "text", (col) => col.notNull().check(sql`status in ('pending', 'approved', 'denied', 'expired', 'accepted')`))
    .addColumn("decided_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("decided_at", "timestamptz")
    .addColumn("deny_reason", "text")
    // SHA-256 of the one-time code of an approved invitation for someone edgebot does not know yet.
    .addColumn("code_hash", "text", (col) => col.unique())
    .addColumn("accepted_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("accepted_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now() + interval '48 hours'`))
    .execute();
  // One live invitation per person and org: a second is answered with the first.
  await db.schema
    .createIndex("invitations_live_key")
    .unique()
    .on("invitations")
    .columns(["org_id", "invitee_email"])
    .where(sql.ref("status"), "in", sql`('pending', 'approved')`)
    .execute();
  await db.schema.createIndex("invitations_org_idx").on("invitations").columns(["org_id", "id"]).execute();
  // The expiry sweep reads only live rows.
  await db.schema
    .createIndex("invitations_expiry_idx")
    .on("invitations")
    .column("expires_at")
    .where(sql.ref("status"), "in", sql`('pending', 'approved')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("invitations").execute();
}
