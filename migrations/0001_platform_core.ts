import { sql, type Kysely } from "kysely";

// Users, orgs, memberships, applications, environments, domains and the audit log.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("email", "text", (col) => col.notNull().check(sql`email = lower(email)`))
    .addColumn("display_name", "text", (col) => col.notNull())
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("users_email_key").unique().on("users").column("email").execute();

  // One person may reach edgebot from several Slack workspaces; each identity points to one user.
  await db.schema
    .createTable("user_identities")
    .addColumn("team_id", "text", (col) => col.notNull())
    .addColumn("chat_user_id", "text", (col) => col.notNull())
    .addColumn("user_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("user_identities_pkey", ["team_id", "chat_user_id"])
    .execute();
  await db.schema.createIndex("user_identities_user_id_idx").on("user_identities").column("user_id").execute();

  await db.schema
    .createTable("orgs")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("slug", "text", (col) => col.notNull().check(sql`slug ~ '^[a-z0-9][a-z0-9-]{0,38}$'`))
    .addColumn("name", "text", (col) => col.notNull())
    .addColumn("billing_email", "text")
    .addColumn("channel_id", "text")
    .addColumn("created_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("orgs_slug_key").unique().on("orgs").column("slug").execute();

  await db.schema
    .createTable("memberships")
    .addColumn("org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("user_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("role", "text", (col) =>
      col.notNull().check(sql`role in ('owner', 'admin', 'developer', 'viewer')`),
    )
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("memberships_pkey", ["org_id", "user_id"])
    .execute();
  // "my orgs" starts from the user.
  await db.schema.createIndex("memberships_user_id_idx").on("memberships").columns(["user_id", "org_id"]).execute();

  await db.schema
    .createTable("applications")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("org_id", "integer", (col) => col.notNull().references("orgs.id").onDelete("cascade"))
    .addColumn("slug", "text", (col) => col.notNull().check(sql`slug ~ '^[a-z0-9][a-z0-9-]{0,38}$'`))
    .addColumn("origin", "text", (col) => col.notNull())
    .addColumn("channel_id", "text")
    .addColumn("created_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("applications_org_slug_key").unique().on("applications").columns(["org_id", "slug"]).execute();
  // `<app>` without `org/` is resolved by slug across the user's orgs.
  await db.schema.createIndex("applications_slug_idx").on("applications").column("slug").execute();

  await db.schema
    .createTable("environments")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("application_id", "integer", (col) =>
      col.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (col) => col.notNull().check(sql`name ~ '^[a-z][a-z0-9-]{0,30}$'`))
    .addColumn("based_on", "text")
    .addColumn("live_at", "timestamptz")
    .addColumn("created_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex("environments_application_name_key")
    .unique()
    .on("environments")
    .columns(["application_id", "name"])
    .execute();

  await db.schema
    .createTable("domains")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("environment_id", "integer", (col) =>
      col.notNull().references("environments.id").onDelete("cascade"),
    )
    .addColumn("hostname", "text", (col) =>
      col.notNull().check(sql`hostname = lower(hostname) and length(hostname) <= 253 and hostname !~ '\\.$'`),
    )
    .addColumn("dns_status", "text", (col) =>
      col.notNull().defaultTo("pending").check(sql`dns_status in ('pending', 'passing', 'failing', 'unknown')`),
    )
    .addColumn("dns_checked_at", "timestamptz")
    .addColumn("created_by", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  // One hostname in the whole system.
  await db.schema.createIndex("domains_hostname_key").unique().on("domains").column("hostname").execute();
  await db.schema.createIndex("domains_environment_id_idx").on("domains").column("environment_id").execute();

  // Kept after the org is gone: no foreign key, the org's slug is copied in.
  await db.schema
    .createTable("audit_events")
    .addColumn("id", "integer", (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("org_id", "integer", (col) => col.notNull())
    .addColumn("org_slug", "text", (col) => col.notNull())
    .addColumn("actor_id", "integer", (col) => col.references("users.id").onDelete("set null"))
    .addColumn("action", "text", (col) => col.notNull())
    .addColumn("target", "text", (col) => col.notNull())
    .addColumn("details", "jsonb", (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("audit_events_org_idx").on("audit_events").columns(["org_id", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ["audit_events", "domains", "environments", "applications", "memberships", "orgs", "user_identities", "users"]) {
    await db.schema.dropTable(table).execute();
  }
}
