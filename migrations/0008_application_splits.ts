import { sql, type Kysely } from "kysely";

// An application split from another handles one URL prefix of the original's domains
// (`app split`). The original cannot be deleted while a split points at it; deleting the split
// returns the prefix. Within one original, each prefix belongs to one split.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("applications")
    .addColumn("split_of", "integer", (col) => col.references("applications.id"))
    .addColumn("split_prefix", "text")
    .execute();
  await db.schema.alterTable("applications").addCheckConstraint("applications_split_check", sql`(split_of is null) = (split_prefix is null)`).execute();
  await db.schema.alterTable("applications").addUniqueConstraint("applications_split_prefix_key", ["split_of", "split_prefix"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("applications").dropConstraint("applications_split_prefix_key").execute();
  await db.schema.alterTable("applications").dropConstraint("applications_split_check").execute();
  await db.schema.alterTable("applications").dropColumn("split_prefix").dropColumn("split_of").execute();
}
