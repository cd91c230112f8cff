import { sql, type Kysely } from "kysely";

// A hostname held by another org moves to an org that proves control of its DNS: a claim
// holds the random token that org publishes in a TXT record at _edgebot-challenge.<hostname>,
// and the environment the hostname is to move to. One claim is open per org and hostname, so
// asking again shows the same record; a claim that moved the hostname is kept, closed.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("hostname_claims")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("hostname", "text", (col) => col.notNull())
    .addColumn("org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("environment_id", "integer", (col) => col.notNull().references("environments.id").onDelete("cascade"))
    .addColumn("token", "text", (col) => col.notNull().unique())
    .addColumn("status", "text", (col) => col.notNull().defaultTo("open").check(sql`status in ('open', 'claimed')`))
    .addColumn("created_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    // The last look for the record: what it came to ('found', 'missing', 'could_not_check') and when.
    .addColumn("checked_at", "timestamptz")
    .addColumn("last_verdict", "text")
    .addColumn("claimed_at", "timestamptz")
    .execute();
  await db.schema.createIndex("hostname_claims_open_key").unique().on("hostname_claims").columns(["org_id", "hostname"]).where(sql.ref("status"), "=", "open").execute();
  await db.schema.createIndex("hostname_claims_environment_idx").on("hostname_claims").column("environment_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("hostname_claims").execute();
}
