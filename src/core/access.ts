import type { Kysely } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import { Invalid, NotFound, RepositoryMissing } from "./errors.ts";
import { applicationSlug, environmentName, orgSlug, parseField } from "./names.ts";
import type { Actor, Platform } from "./platform.ts";

// What an actor may see and touch: an org, an application or an environment as its member.
// Reads select `*AccessColumns` beside their own columns from the `*InScope` queries, so access
// and data come back in one statement, and `one*` then checks and picks. Entity modules build
// on this; it builds on nothing of theirs.

/** An org as its member sees it, with the member's role. */
export interface OrgMembership {
  id: number;
  slug: string;
  name: string;
  billingEmail: string | null;
  channelId: string | null;
  /** The actor's role, or null when the actor is not a member. */
  role: Role | null;
}

/** An application as its member sees it, with the org around it and the member's role. */
export interface ApplicationAccess {
  id: number;
  slug: string;
  origin: string;
  channelId: string | null;
  org: { id: number; slug: string; name: string; channelId: string | null };
  role: Role;
}

/** An environment as its member sees it. */
export interface EnvironmentAccess {
  id: number;
  name: string;
  applicationId: number;
  /** `org/app`. */
  ref: string;
  org: { id: number; slug: string };
  role: Role;
}

const orgNotFound = (slug: string) => new NotFound(`org ${slug} not found`);

/**
 * The org `slug` joined to the actor's membership (`me`): no row when the actor is not in it.
 * Reads build on it so that access and data come back in one statement; `oneOrg` then checks.
 */
export function orgInScope(db: Kysely<Database>, actor: Actor, slug: string) {
  const parsed = orgSlug.safeParse(slug);
  if (!parsed.success) throw orgNotFound(String(slug).slice(0, 60));
  return db
    .selectFrom("orgs as o")
    .innerJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "o.id").on("me.user_id", "=", actor.userId))
    .where("o.slug", "=", parsed.data);
}

/** The columns `oneOrg` needs, to select alongside a read's own. */
export const orgAccessColumns = [
  "o.id as org_id",
  "o.slug as org_slug",
  "o.name as org_name",
  "o.billing_email as org_billing_email",
  "o.channel_id as org_channel_id",
  "me.role as actor_role",
] as const;

interface OrgAccessRow {
  org_id: number;
  org_slug: string;
  org_name: string;
  org_billing_email: string | null;
  org_channel_id: string | null;
  actor_role: Role;
}

/** The org a read's rows belong to, with the actor's role; not found when there are none. */
export function oneOrg<R extends OrgAccessRow>(rows: R[], slug: string): { org: OrgMembership & { role: Role }; rows: R[] } {
  const first = rows[0];
  if (first === undefined) throw orgNotFound(String(slug).trim());
  return {
    org: {
      id: first.org_id,
      slug: first.org_slug,
      name: first.org_name,
      billingEmail: first.org_billing_email,
      channelId: first.org_channel_id,
      role: first.actor_role,
    },
    rows,
  };
}

/** Loads an org with the actor's role. An org the actor is not in reads as not found. */
export async function findOrgAsMember(db: Kysely<Database>, actor: Actor, slug: string): Promise<OrgMembership & { role: Role }> {
  return oneOrg(await orgInScope(db, actor, slug).select(orgAccessColumns).execute(), slug).org;
}

/** Splits `org/app` or `app`. */
export function parseApplicationRef(ref: string): { org: string | undefined; app: string } {
  const parts = ref.trim().split("/");
  if (parts.length > 2 || parts.some((part) => part === "")) {
    throw new Invalid(`${ref.slice(0, 80)} is not an application: write org/app, like acme/www`, "app");
  }
  return parts.length === 2 ? { org: parts[0]!, app: parts[1]! } : { org: undefined, app: parts[0]! };
}

/**
 * The applications `org/app` (or `app` alone) names among the actor's orgs, joined to their
 * org (`o`) and the actor's membership (`m`). Reads build on it so that access and data come
 * back in one statement; `oneApplication` then picks the application from the rows.
 */
export function applicationsInScope(db: Kysely<Database>, actor: Actor, ref: string) {
  const { org, app } = parseApplicationRef(ref);
  if (!applicationSlug.safeParse(app).success || (org !== undefined && !orgSlug.safeParse(org).success)) throw applicationNotFound(ref);
  const query = db
    .selectFrom("applications as a")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .innerJoin("memberships as m", (join) => join.onRef("m.org_id", "=", "a.org_id").on("m.user_id", "=", actor.userId))
    .where("a.slug", "=", app);
  return org === undefined ? query : query.where("o.slug", "=", org);
}

/** The columns `oneApplication` needs, to select alongside a read's own. */
export const accessColumns = [
  "a.id as application_id",
  "a.slug as application_slug",
  "a.origin as application_origin",
  "a.channel_id as application_channel_id",
  "o.id as org_id",
  "o.slug as org_slug",
  "o.name as org_name",
  "o.channel_id as org_channel_id",
  "m.role",
] as const;

interface AccessRow {
  application_id: number;
  application_slug: string;
  application_origin: string;
  application_channel_id: string | null;
  org_id: number;
  org_slug: string;
  org_name: string;
  org_channel_id: string | null;
  role: Role;
}

/**
 * The one application a read's rows belong to: not found when there are none, and a choice
 * for the actor when the name is in several of their orgs.
 */
export function oneApplication<R extends AccessRow>(rows: R[], ref: string): { access: ApplicationAccess; rows: R[] } {
  const first = rows[0];
  if (first === undefined) throw applicationNotFound(ref);
  const orgs = [...new Set(rows.map((row) => row.org_slug))];
  if (orgs.length > 1) {
    throw new Invalid(`${first.application_slug} is in several of your orgs: write ${orgs.sort().map((org) => `${org}/${first.application_slug}`).join(" or ")}`, "app");
  }
  return {
    access: {
      id: first.application_id,
      slug: first.application_slug,
      origin: first.application_origin,
      channelId: first.application_channel_id,
      org: { id: first.org_id, slug: first.org_slug, name: first.org_name, channelId: first.org_channel_id },
      role: first.role,
    },
    rows,
  };
}

function applicationNotFound(ref: string): NotFound {
  return new NotFound(`application ${ref.slice(0, 80)} not found`);
}

/** Resolves `org/app` (or `app` alone when only one of the actor's orgs has it) to an application the actor can see. */
export async function findApplicationAsMember(db: Kysely<Database>, actor: Actor, ref: string): Promise<ApplicationAccess> {
  const rows = await applicationsInScope(db, actor, ref).select(accessColumns).limit(20).execute();
  return oneApplication(rows, ref).access;
}

/**
 * Refuses to go on with an application whose repository is not on disk, saying so, rather than
 * letting git fail on a directory that is not there.
 */
export async function requireRepository(platform: Platform, application: { id: number; ref: string }): Promise<void> {
  if (!(await platform.repositories.exists(application.id))) throw new RepositoryMissing(application.ref);
}

/**
 * The environment `env` of the applications `org/app` names in the actor's orgs, joined as
 * `e` (null when the application has no such environment); see `applicationsInScope`.
 */
export function environmentInScope(db: Kysely<Database>, actor: Actor, appRef: string, env: string) {
  const name = parseField(environmentName, env, "env", "environment name");
  return applicationsInScope(db, actor, appRef).leftJoin("environments as e", (join) => join.onRef("e.application_id", "=", "a.id").on("e.name", "=", name));
}

/** The environment a read's rows belong to, or not found. */
export function oneEnvironment<R extends AccessRow & { environment_id: number | null }>(rows: R[], appRef: string, env: string): { access: EnvironmentAccess; rows: R[] } {
  const { access: app } = oneApplication(rows, appRef);
  const ref = `${app.org.slug}/${app.slug}`;
  const environmentId = rows[0]!.environment_id;
  if (environmentId === null) throw new NotFound(`${ref} has no environment ${env}`);
  return { access: { id: environmentId, name: env, applicationId: app.id, ref, org: { id: app.org.id, slug: app.org.slug }, role: app.role }, rows };
}

/** Resolves `org/app` and an environment name to an environment the actor can see, in one query. */
export async function findEnvironmentAsMember(db: Kysely<Database>, actor: Actor, appRef: string, env: string): Promise<EnvironmentAccess> {
  const rows = await environmentInScope(db, actor, appRef, env).select([...accessColumns, "e.id as environment_id"]).limit(20).execute();
  return oneEnvironment(rows, appRef, env.trim()).access;
}
