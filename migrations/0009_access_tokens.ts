import { sql, type Kysely } from "kysely";

// Personal access tokens for git over HTTP. Only a SHA-256 of each token is kept: the token
// itself is shown once, when it is made. A revoked token keeps its row, so `token list` and
// the HTTP server can tell "revoked" from "never existed" without keeping the secret.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("access_tokens")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("user_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    // Hex SHA-256 of the whole token; the token has 256 random bits, so no salt or slow hash is needed.
    .addColumn("token_hash", "text", (col) => col.notNull().unique())
    // The first characters after the prefix, so a person can tell their tokens apart.
    .addColumn("hint", "text", (col) => col.notNull())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn("last_used_at", "timestamptz")
    .addColumn("revoked_at", "timestamptz")
    .execute();
  await db.schema.createIndex("access_tokens_user_idx").on("access_tokens").columns(["user_id", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("access_tokens").execute();
}
