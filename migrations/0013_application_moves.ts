import { sql, type Kysely } from "kysely";

// Moving an application to another org (`app move`): a request the target's owners and admins
// approve or deny within 48 hours, unless the asker is an owner or admin of both orgs (then it
// applies at once and is kept here as approved). One request waits per application.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("application_moves")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("application_id", "integer", (col) => col.notNull().references("applications.id").onDelete("cascade"))
    .addColumn("from_org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("to_org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("requested_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("status", "text", (col) => col.notNull().check(sql`status in ('pending', 'approved', 'denied', 'expired')`))
    .addColumn("decided_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("decided_at", "timestamptz")
    .addColumn("deny_reason", "text")
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now() + interval '48 hours'`))
    .addCheckConstraint("application_moves_other_org", sql`from_org_id <> to_org_id`)
    .execute();
  // One waiting move per application: a second is refused, naming the first.
  await db.schema.createIndex("application_moves_live_key").unique().on("application_moves").column("application_id").where(sql.ref("status"), "=", "pending").execute();
  await db.schema.createIndex("application_moves_expiry_idx").on("application_moves").column("expires_at").where(sql.ref("status"), "=", "pending").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("application_moves").execute();
}
