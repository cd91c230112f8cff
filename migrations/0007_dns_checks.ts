import { sql, type Kysely } from "kysely";

// Every DNS verification of a domain, kept as history: the verdict, what was expected and found,
// when, and who or what asked (a person's go-live, or a background re-check).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("dns_checks")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("domain_id", "integer", (col) => col.notNull().references("domains.id").onDelete("cascade"))
    .addColumn("hostname", "text", (col) => col.notNull())
    .addColumn("verdict", "text", (col) => col.notNull().check(sql`verdict in ('passes', 'fails', 'could_not_check')`))
    .addColumn("expected", "text", (col) => col.notNull())
    // What DNS held, one line each; for "could not check", why.
    .addColumn("found", "jsonb", (col) => col.notNull())
    .addColumn("record_to_create", "text")
    .addColumn("checked_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("trigger", "text", (col) => col.notNull().check(sql`trigger in ('golive', 'recheck')`))
    .addColumn("checked_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("dns_checks_domain_idx").on("dns_checks").columns(["domain_id", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("dns_checks").execute();
}
