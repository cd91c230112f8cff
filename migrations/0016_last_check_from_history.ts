import { sql, type Kysely } from "kysely";

// A domain's last check time is its latest check's (`dns_checks`, indexed by domain and id),
// no longer a column of its own: the daily sweep checks every live domain and nearly every
// status stays, so storing a check no longer rewrites its domain's row (a new row version and
// three index entries each, a third of the sweep's write). The status stays on the domain.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("domains").dropColumn("dns_checked_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("domains").addColumn("dns_checked_at", "timestamptz").execute();
  await sql`update domains set dns_checked_at = (select max(checked_at) from dns_checks where domain_id = domains.id)`.execute(db);
}
