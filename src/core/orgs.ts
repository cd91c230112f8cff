import { sql, type Kysely } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import { findOrgAsMember, oneOrg, orgAccessColumns, orgInScope } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { parseApprovalPolicy } from "./approvals.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { Conflict, Invalid, NotFound } from "./errors.ts";
import { displayName, email, orgSlug, parseField } from "./names.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";

export interface OrgSummary {
  slug: string;
  name: string;
  role: Role;
  applications: number;
}

export interface OrgDetails extends OrgSummary {
  billingEmail: string | null;
  channelId: string | null;
  members: number;
  owners: string[];
  /** Approvals from owners or admins other than the requester that granting admin or owner takes. */
  approvalsRequired: number;
  createdAt: Date;
}

const notFound = (slug: string) => new NotFound(`org ${slug} not found`);

/** Creates an org with the actor as its owner. */
export async function createOrg(
  platform: Platform,
  input: {
    actor: Actor;
    /** URL-safe identifier, unique in the system. */
    slug: string;
    /** Display name; defaults to the slug. */
    name?: string | undefined;
    /** Who receives invoices. */
    billingEmail?: string | undefined;
  },
): Promise<OrgSummary> {
  const slug = parseField(orgSlug, input.slug, "slug", "org slug");
  const name = input.name === undefined ? slug : parseField(displayName, input.name, "name", "display name");
  const billingEmail = input.billingEmail === undefined ? null : parseField(email, input.billingEmail, "billingEmail", "billing email");
  return inTransaction(platform, async (tx) => {
    const org = await insertOrg(tx, input.actor, { slug, name, billingEmail }, "slug");
    await recordAudit(tx, { org, actor: input.actor, action: "org.create", target: slug, details: { name, billingEmail } });
    return { slug, name, role: "owner", applications: 0 };
  });
}

/** Inserts an org and its first owner; shared by `org create` and `app create --new-org`. */
export async function insertOrg(
  tx: Kysely<Database>,
  actor: Actor,
  org: { slug: string; name: string; billingEmail: string | null },
  /** The argument that named the slug, for the error when it is taken. */
  slugField: "slug" | "newOrg",
): Promise<{ id: number; slug: string }> {
  let created: { id: number; slug: string };
  try {
    created = await tx
      .insertInto("orgs")
      .values({ slug: org.slug, name: org.name, billing_email: org.billingEmail, created_by: actor.userId })
      .returning(["id", "slug"])
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error, "orgs_slug_key")) throw new Conflict(`the org slug ${org.slug} is taken: choose another`, slugField);
    throw error;
  }
  await tx.insertInto("memberships").values({ org_id: created.id, user_id: actor.userId, role: "owner" }).execute();
  return created;
}

/** The orgs the actor belongs to, with their role and number of applications. */
export async function listOrgs(platform: Platform, input: { actor: Actor }): Promise<OrgSummary[]> {
  const rows = await platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select((eb) => [
      "o.slug",
      "o.name",
      "m.role",
      eb
        .selectFrom("applications as a")
        .select(eb.fn.countAll<number>().as("n"))
        .whereRef("a.org_id", "=", "o.id")
        .as("applications"),
    ])
    .where("m.user_id", "=", input.actor.userId)
    .orderBy("o.slug")
    .execute();
  return rows.map((row) => ({ slug: row.slug, name: row.name, role: row.role, applications: Number(row.applications ?? 0) }));
}

/** One org with its counts and owners. */
export async function showOrg(platform: Platform, input: { actor: Actor; org: string }): Promise<OrgDetails> {
  // Members and owners come from one pass over the org's memberships.
  const found = await orgInScope(platform.db, input.actor, input.org)
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom("memberships as m")
          .innerJoin("users as u", "u.id", "m.user_id")
          .select([
            eb.fn.countAll<number>().as("members"),
            sql<string[]>`coalesce(array_agg(u.display_name order by u.display_name) filter (where m.role = 'owner'), '{}')`.as("owners"),
          ])
          .whereRef("m.org_id", "=", "o.id")
          .as("people"),
      (join) => join.onTrue(),
    )
    .select((eb) => [
      ...orgAccessColumns,
      "o.created_at",
      "o.approvals_required",
      "people.members",
      "people.owners",
      eb.selectFrom("applications as a").select(eb.fn.countAll<number>().as("n")).whereRef("a.org_id", "=", "o.id").as("applications"),
    ])
    .execute();
  const { org, rows } = oneOrg(found, input.org);
  const row = rows[0]!;
  return {
    slug: org.slug,
    name: org.name,
    role: org.role,
    billingEmail: org.billingEmail,
    channelId: org.channelId,
    applications: Number(row.applications ?? 0),
    members: Number(row.members ?? 0),
    owners: row.owners ?? [],
    approvalsRequired: row.approvals_required,
    createdAt: row.created_at,
  };
}

/** Changes an org's display name (owners only). */
export async function renameOrg(platform: Platform, input: { actor: Actor; org: string; name: string }): Promise<OrgSummary> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "own", `org ${input.org} not found`);
  const name = parseField(displayName, input.name, "name", "display name");
  return inTransaction(platform, async (tx) => {
    const updated = await tx.updateTable("orgs").set({ name }).where("id", "=", org.id).returning("id").executeTakeFirst();
    if (!updated) throw notFound(org.slug);
    await recordAudit(tx, { org, actor: input.actor, action: "org.rename", target: org.slug, details: { from: org.name, to: name } });
    const { n } = await tx
      .selectFrom("applications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("org_id", "=", org.id)
      .executeTakeFirstOrThrow();
    return { slug: org.slug, name, role: org.role, applications: Number(n) };
  });
}

/** Sets the billing contact (owners only). */
export async function setBillingContact(platform: Platform, input: { actor: Actor; org: string; email: string }): Promise<{ slug: string; billingEmail: string }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "own", `org ${input.org} not found`);
  const billingEmail = parseField(email, input.email, "email", "billing email");
  await inTransaction(platform, async (tx) => {
    const updated = await tx.updateTable("orgs").set({ billing_email: billingEmail }).where("id", "=", org.id).returning("id").executeTakeFirst();
    if (!updated) throw notFound(org.slug);
    await recordAudit(tx, { org, actor: input.actor, action: "org.billing", target: org.slug, details: { from: org.billingEmail, to: billingEmail } });
  });
  return { slug: org.slug, billingEmail };
}

/**
 * `org policy`: how many owners or admins other than the requester approve granting admin or
 * owner, 1 to 3 (owners only). Requests already waiting keep the threshold they were made under.
 */
export async function setApprovalPolicy(
  platform: Platform,
  input: {
    actor: Actor;
    org: string;
    /** The new threshold, as typed: 1, 2 or 3. */
    approvals: string | number | undefined;
  },
): Promise<{ slug: string; approvals: number; from: number; approvers: number }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "own", `org ${input.org} not found`);
  const approvals = parseApprovalPolicy(input.approvals);
  return inTransaction(platform, async (tx) => {
    // Locked, so two owners setting it at once each see what the other set as `from`.
    const before = await tx.selectFrom("orgs").select("approvals_required").where("id", "=", org.id).forUpdate().executeTakeFirst();
    if (!before) throw notFound(org.slug);
    await tx.updateTable("orgs").set({ approvals_required: approvals }).where("id", "=", org.id).execute();
    await recordAudit(tx, { org, actor: input.actor, action: "org.policy", target: org.slug, details: { approvals: { from: before.approvals_required, to: approvals } } });
    const { n } = await tx
      .selectFrom("memberships")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("org_id", "=", org.id)
      .where("role", "in", ["owner", "admin"])
      .executeTakeFirstOrThrow();
    return { slug: org.slug, approvals, from: before.approvals_required, approvers: Number(n) };
  });
}

/**
 * Sets the Slack channel that receives the org's notifications (owners and admins). `teamId` is
 * the chat workspace the channel belongs to: its notifications are posted as that workspace's bot.
 */
export async function setOrgChannel(platform: Platform, input: { actor: Actor; org: string; channelId: string; teamId: string }): Promise<{ slug: string; channelId: string }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "administer", `org ${input.org} not found`);
  const channelId = parseChannelId(input.channelId);
  await inTransaction(platform, async (tx) => {
    const updated = await tx.updateTable("orgs").set({ channel_id: channelId, channel_team_id: input.teamId }).where("id", "=", org.id).returning("id").executeTakeFirst();
    if (!updated) throw notFound(org.slug);
    await recordAudit(tx, { org, actor: input.actor, action: "org.channel", target: org.slug, details: { channel: channelId } });
  });
  return { slug: org.slug, channelId };
}

/** A Slack channel id such as C0123ABCD. */
export function parseChannelId(value: string): string {
  if (!/^[CGD][A-Z0-9]{2,20}$/.test(value)) {
    throw new Invalid("name a channel with #, like #client-alerts", "channel");
  }
  return value;
}

/** Deletes an org, its applications and their repositories (owners only; confirm with the slug). */
export async function deleteOrg(platform: Platform, input: { actor: Actor; org: string; confirm: string | undefined }): Promise<{ slug: string; applications: number }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "own", `org ${input.org} not found`);
  if (input.confirm !== org.slug) {
    throw new Invalid(`to delete org ${org.slug} and everything in it, add --confirm ${org.slug}`, "confirm");
  }
  return inTransaction(platform, async (tx, undo) => {
    // A second delete (a double click) waits here for the first and then finds nothing.
    const locked = await tx.selectFrom("orgs").select("id").where("id", "=", org.id).forUpdate().executeTakeFirst();
    if (!locked) throw notFound(org.slug);
    const applications = await tx.selectFrom("applications").select(["id", "slug"]).where("org_id", "=", org.id).execute();
    // The cascade first: it waits for changes in flight to the org's rows (an application's
    // channel, say), so the delete's audit event comes after theirs in the trail.
    await tx.deleteFrom("orgs").where("id", "=", org.id).execute();
    await recordAudit(tx, {
      org,
      actor: input.actor,
      action: "org.delete",
      target: org.slug,
      details: { applications: applications.map((app) => app.slug) },
    });
    for (const app of applications) {
      if (!(await platform.repositories.exists(app.id))) continue;
      const aside = await platform.repositories.setAside(app.id);
      undo.onRollback(aside.restore);
      undo.afterCommit(aside.discard);
    }
    return { slug: org.slug, applications: applications.length };
  });
}
