import { sql, type Kysely } from "kysely";

// Granting admin or owner takes the org's threshold of approvals (1 to 3) from owners or admins
// other than the requester. Each approval is a row, so one person counts once; a request keeps
// the threshold it was made under. Role changes to admin or owner become requests like invitations.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("orgs")
    .addColumn("approvals_required", "integer", (col) => col.notNull().defaultTo(1).check(sql`approvals_required between 1 and 3`))
    .execute();
  // Approvals an invitation needs: 0 when approved as made, 1 for a developer's request, the org's threshold for an admin.
  await db.schema
    .alterTable("invitations")
    .addColumn("approvals_required", "integer", (col) => col.notNull().defaultTo(1).check(sql`approvals_required between 0 and 3`))
    .execute();
  await db.schema
    .createTable("invitation_approvals")
    .addColumn("invitation_id", "integer", (col) => col.notNull().references("invitations.id").onDelete("cascade"))
    .addColumn("approver_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("approved_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("invitation_approvals_pkey", ["invitation_id", "approver_id"])
    .execute();

  await db.schema
    .createTable("role_requests")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("member_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("from_role", "text", (col) => col.notNull().check(sql`from_role in ('owner', 'admin', 'developer', 'viewer')`))
    .addColumn("role", "text", (col) => col.notNull().check(sql`role in ('owner', 'admin')`))
    .addColumn("requested_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("status", "text", (col) => col.notNull().check(sql`status in ('pending', 'approved', 'denied', 'expired')`))
    .addColumn("approvals_required", "integer", (col) => col.notNull().check(sql`approvals_required between 1 and 3`))
    .addColumn("decided_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("decided_at", "timestamptz")
    .addColumn("deny_reason", "text")
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("expires_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now() + interval '48 hours'`))
    .execute();
  // One waiting request per member: a second is answered with the first.
  await db.schema.createIndex("role_requests_live_key").unique().on("role_requests").columns(["org_id", "member_id"]).where(sql.ref("status"), "=", "pending").execute();
  await db.schema.createIndex("role_requests_expiry_idx").on("role_requests").column("expires_at").where(sql.ref("status"), "=", "pending").execute();
  await db.schema
    .createTable("role_request_approvals")
    .addColumn("request_id", "integer", (col) => col.notNull().references("role_requests.id").onDelete("cascade"))
    .addColumn("approver_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("approved_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("role_request_approvals_pkey", ["request_id", "approver_id"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("role_request_approvals").execute();
  await db.schema.dropTable("role_requests").execute();
  await db.schema.dropTable("invitation_approvals").execute();
  await db.schema.alterTable("invitations").dropColumn("approvals_required").execute();
  await db.schema.alterTable("orgs").dropColumn("approvals_required").execute();
}
