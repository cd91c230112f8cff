import { sql, type ExpressionBuilder } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import { accessColumns, applicationsInScope, findApplicationAsMember, findOrgAsMember, oneApplication, oneOrg, orgAccessColumns, orgInScope } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { maxConfigFileBytes, sectionConfigPath } from "./configs.ts";
import { initialConfigurationFiles, sectionConfigSchema } from "./configuration.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { hostnameTaken, insertDomain } from "./domains.ts";
import { Conflict, Invalid, NotFound } from "./errors.ts";
import { normalizeHostname, slugFromHostname } from "./hostnames.ts";
import { applicationSlug, orgSlug, parseField, parseOrigin } from "./names.ts";
import { insertOrg, parseChannelId } from "./orgs.ts";
import { notify } from "./notifications.ts";
import { authorize, may } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { userById } from "./users.ts";
import { lockRepository } from "./repository-locks.ts";

export interface ApplicationSummary {
  /** `org/app`. */
  ref: string;
  org: string;
  slug: string;
  origin: string;
  environments: number;
  domains: number;
}

export interface ApplicationDetails {
  ref: string;
  org: string;
  slug: string;
  origin: string;
  channelId: string | null;
  role: Role;
  createdAt: Date;
  environments: Array<{ name: string; basedOn: string | null; liveAt: Date | null; domains: Array<{ hostname: string; dnsStatus: string }> }>;
  /** The applications split from this one, by the URL prefix of its domains each handles. */
  splits: Split[];
  /** When this application is a split: the original, and the prefix of its domains this one handles. */
  splitOf?: Split;
}

/** An application split from another (`app split`), and the URL prefix it handles of the other's domains. */
export interface Split {
  /** `org/app` of the application on the other side: the split, or the original. */
  ref: string;
  prefix: string;
}

/** Every application's id in order, a page at a time (the weekly repository maintenance goes through them all). */
export async function applicationIds(platform: Platform, page: { afterId: number; limit: number }): Promise<number[]> {
  const rows = await platform.db.selectFrom("applications").select("id").where("id", ">", page.afterId).orderBy("id").limit(page.limit).execute();
  return rows.map((row) => row.id);
}

/** `org/app` of each of the given applications that exist, by id. */
export async function applicationRefs(platform: Platform, ids: number[]): Promise<Map<number, string>> {
  const refs = new Map<number, string>();
  for (let start = 0; start < ids.length; start += 1000) {
    const rows = await platform.db
      .selectFrom("applications as a")
      .innerJoin("orgs as o", "o.id", "a.org_id")
      .select(["a.id", "a.slug", "o.slug as org_slug"])
      .where("a.id", "in", ids.slice(start, start + 1000))
      .execute();
    for (const row of rows) refs.set(row.id, `${row.org_slug}/${row.slug}`);
  }
  return refs;
}

/**
 * Creates an application in an existing org or a new one. Its first hostname becomes the
 * production environment, and its repository starts with one commit on `production`.
 */
export async function createApplication(
  platform: Platform,
  input: {
    actor: Actor;
    /** The production hostname (a pasted URL is reduced to its host). */
    hostname: string;
    /** An existing org to create it in. */
    org?: string | undefined;
    /** Slug of a new org to create, with the actor as owner. */
    newOrg?: string | undefined;
    /** The application's slug; defaults to one made from the hostname. */
    name?: string | undefined;
    /** Where the edge fetches content from; defaults to the hostname. */
    origin?: string | undefined;
  },
): Promise<{ ref: string; org: string; slug: string; hostname: string; reducedFrom?: string; origin: string; newOrg: boolean }> {
  const { hostname, reducedFrom } = normalizeHostname(input.hostname);
  const slug = input.name === undefined ? slugFromHostname(hostname) : parseField(applicationSlug, input.name, "name", "application name");
  const origin = input.origin === undefined ? hostname : parseOrigin(input.origin);
  if (input.org !== undefined && input.newOrg !== undefined) throw new Invalid("give either --org or --new-org, not both", "org");
  const newOrgSlug = input.newOrg === undefined ? undefined : parseField(orgSlug, input.newOrg, "newOrg", "new org slug");
  const existingOrg = newOrgSlug === undefined ? await chooseOrg(platform, input.actor, input.org) : undefined;
  const author = await userById(platform.db, input.actor);

  try {
    return await inTransaction(platform, async (tx, undo) => {
      const org = existingOrg ?? (await insertOrg(tx, input.actor, { slug: newOrgSlug!, name: newOrgSlug!, billingEmail: null }, "newOrg"));
      if (!existingOrg) await recordAudit(tx, { org, actor: input.actor, action: "org.create", target: org.slug, details: { name: org.slug } });
      const app = await tx
        .insertInto("applications")
        .values({ org_id: org.id, slug, origin, created_by: input.actor.userId })
        .returning("id")
        .executeTakeFirstOrThrow()
        .catch((error: unknown) => {
          if (isUniqueViolation(error, "applications_org_slug_key")) {
            throw new Conflict(`${org.slug} already has an application named ${slug}: choose another with --name`, "name");
          }
          throw error;
        });
      const environment = await tx
        .insertInto("environments")
        .values({ application_id: app.id, name: "production", created_by: input.actor.userId })
        .returning("id")
        .executeTakeFirstOrThrow();
      await insertDomain(tx, environment.id, hostname, input.actor);
      await recordAudit(tx, { org, actor: input.actor, action: "app.create", target: `${org.slug}/${slug}`, details: { hostname, origin } });
      await notify(tx, { org, app, actor: input.actor, kind: "app.created", payload: { app: `${org.slug}/${slug}`, hostname, origin } });

      // Built aside and moved into place once the application is committed: a crash at any
      // moment leaves no repository without its application (see reconcileRepositories).
      const repository = await platform.repositories.prepare(app.id, {
        branch: "production",
        files: initialConfigurationFiles(origin),
        message: `Create ${slug} for ${hostname}`,
        author: { name: author.displayName, email: author.email },
      });
      undo.onRollback(repository.discard);
      undo.afterCommit(repository.install);
      return {
        ref: `${org.slug}/${slug}`,
        org: org.slug,
        slug,
        hostname,
        ...(reducedFrom === undefined ? {} : { reducedFrom }),
        origin,
        newOrg: !existingOrg,
      };
    });
  } catch (error) {
    if (isUniqueViolation(error, "domains_hostname_key")) {
      const ref = `${existingOrg?.slug ?? newOrgSlug}/${slug}`;
      throw await hostnameTaken(platform.db, input.actor, hostname, "hostname", { ref, env: "production", first: "create the application with another of your hostnames" });
    }
    throw error;
  }
}

// Without --org, the actor's only org where they may build is meant.
async function chooseOrg(platform: Platform, actor: Actor, org: string | undefined): Promise<{ id: number; slug: string }> {
  if (org !== undefined) {
    const found = await findOrgAsMember(platform.db, actor, org);
    authorize(found.role, "build", `org ${org} not found`);
    return found;
  }
  const orgs = await platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select(["o.id", "o.slug", "m.role"])
    .where("m.user_id", "=", actor.userId)
    .orderBy("o.slug")
    .execute();
  const buildable = orgs.filter((row) => may(row.role, "build"));
  if (buildable.length === 1) return buildable[0]!;
  if (buildable.length === 0) {
    throw new Invalid("you are in no org where you can create applications: add --new-org <slug> to create one", "org");
  }
  throw new Invalid(`you are in several orgs: add --org with one of ${buildable.map((row) => row.slug).join(", ")}`, "org");
}

/**
 * `org/app` of the applications the actor can see whose reference contains `query`, by
 * reference, at most `limit`: what a picker offers as someone types.
 */
export async function findApplicationRefs(platform: Platform, input: { actor: Actor; query: string; limit: number }): Promise<string[]> {
  const pattern = `%${input.query.trim().toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
  const ref = sql<string>`o.slug || '/' || a.slug`;
  const rows = await platform.db
    .selectFrom("applications as a")
    .innerJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "a.org_id").on("me.user_id", "=", input.actor.userId))
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select(ref.as("ref"))
    .where(ref, "like", pattern)
    .orderBy("ref")
    .limit(input.limit)
    .execute();
  return rows.map((row) => row.ref);
}

/** The applications the actor can see, in one org or all of theirs. */
export async function listApplications(platform: Platform, input: { actor: Actor; org?: string | undefined }): Promise<ApplicationSummary[]> {
  if (input.org === undefined) {
    const rows = await platform.db
      .selectFrom("applications as a")
      .innerJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "a.org_id").on("me.user_id", "=", input.actor.userId))
      .innerJoin("orgs as o", "o.id", "a.org_id")
      .select((eb) => ["o.slug as org_slug", "a.id", "a.slug", "a.origin", ...applicationCounts(eb)])
      .orderBy("o.slug")
      .orderBy("a.slug")
      .execute();
    return Promise.all(rows.map((row) => toSummary(platform, row)));
  }
  // One org: an org with no applications still has a row, so not found stays distinct from empty.
  const found = await orgInScope(platform.db, input.actor, input.org)
    .leftJoin("applications as a", "a.org_id", "o.id")
    .select((eb) => [...orgAccessColumns, "a.id as application_id", "a.slug", "a.origin", ...applicationCounts(eb)])
    .orderBy("a.slug")
    .execute();
  return Promise.all(
    oneOrg(found, input.org)
      .rows.filter((row) => row.slug !== null)
      .map((row) => toSummary(platform, { ...row, id: row.application_id!, slug: row.slug!, origin: row.origin! })),
  );
}

// Environments and domains of the application `a`, counted.
function applicationCounts(eb: ExpressionBuilder<Database & { a: Database["applications"] }, "a">) {
  return [
    eb.selectFrom("environments as e").select(eb.fn.countAll<number>().as("n")).whereRef("e.application_id", "=", "a.id").as("environments"),
    eb
      .selectFrom("environments as e")
      .innerJoin("domains as d", "d.environment_id", "e.id")
      .select(eb.fn.countAll<number>().as("n"))
      .whereRef("e.application_id", "=", "a.id")
      .as("domains"),
  ] as const;
}

async function toSummary(platform: Platform, row: { org_slug: string; id: number; slug: string; origin: string; environments: number | string | null; domains: number | string | null }): Promise<ApplicationSummary> {
  return {
    ref: `${row.org_slug}/${row.slug}`,
    org: row.org_slug,
    slug: row.slug,
    origin: await productionOrigin(platform, row.id, row.origin),
    environments: Number(row.environments ?? 0),
    domains: Number(row.domains ?? 0),
  };
}

/**
 * The origin production fetches from, as its configuration says at its head: `origin.address`
 * of section.config.json (promotions, edits and pushes change it). The origin given at
 * creation (`stored`) stands in only where there is no such file to read (no repository).
 */
async function productionOrigin(platform: Platform, applicationId: number, stored: string): Promise<string> {
  const file = await platform.repositories.findFileAtHead(applicationId, "production", sectionConfigPath, { maxBytes: maxConfigFileBytes });
  if (file === undefined) return stored;
  let config: unknown;
  try {
    config = JSON.parse(file.toString("utf8"));
  } catch {
    return stored;
  }
  const parsed = sectionConfigSchema.safeParse(config);
  return parsed.success ? parsed.data.origin.address : stored;
}

/** One application with its environments and their domains. */
export async function showApplication(platform: Platform, input: { actor: Actor; app: string }): Promise<ApplicationDetails> {
  const found = await applicationsInScope(platform.db, input.actor, input.app)
    .leftJoin("environments as e", "e.application_id", "a.id")
    .leftJoin("domains as d", "d.environment_id", "e.id")
    .select([...accessColumns, "a.created_at", "e.name", "e.based_on", "e.live_at", "d.hostname", "d.dns_status", "a.split_prefix"])
    .select((eb) => [
      // Splits are in the same org as their original.
      eb.selectFrom("applications as original").select(sql<string>`o.slug || '/' || original.slug`.as("ref")).whereRef("original.id", "=", "a.split_of").as("split_of_ref"),
      eb
        .selectFrom("applications as split")
        .select(sql<Split[]>`coalesce(json_agg(json_build_object('ref', o.slug || '/' || split.slug, 'prefix', split.split_prefix) order by split.split_prefix), '[]')`.as("list"))
        .whereRef("split.split_of", "=", "a.id")
        .as("splits"),
    ])
    .orderBy("e.id")
    .orderBy("d.hostname")
    .execute();
  const { access: app, rows } = oneApplication(found, input.app);
  const first = rows[0]!;
  const environments = new Map<string, ApplicationDetails["environments"][number]>();
  for (const row of rows) {
    if (row.name === null) continue;
    const environment = environments.get(row.name) ?? { name: row.name, basedOn: row.based_on, liveAt: row.live_at, domains: [] };
    environments.set(row.name, environment);
    if (row.hostname !== null) environment.domains.push({ hostname: row.hostname, dnsStatus: row.dns_status ?? "pending" });
  }
  return {
    ref: `${app.org.slug}/${app.slug}`,
    org: app.org.slug,
    slug: app.slug,
    origin: await productionOrigin(platform, app.id, app.origin),
    channelId: app.channelId,
    role: app.role,
    createdAt: first.created_at,
    environments: [...environments.values()],
    splits: first.splits ?? [],
    ...(first.split_of_ref === null || first.split_prefix === null ? {} : { splitOf: { ref: first.split_of_ref, prefix: first.split_prefix } }),
  };
}

/** One of the actor's orgs with the first of its applications, each with its environments and their domains. */
export interface OrgApplications {
  slug: string;
  name: string;
  role: Role;
  /** How many applications the org has in all; `shown` holds the first of them by slug. */
  applications: number;
  shown: Array<{ ref: string; slug: string; environments: Array<{ name: string; domains: Array<{ hostname: string; dnsStatus: string }> }> }>;
}

/**
 * Every org the actor belongs to with at most `applicationsPerOrg` of its applications (by slug),
 * their environments and domains, in one statement: an overview whose size does not grow with an org.
 */
export async function listOrgApplications(platform: Platform, input: { actor: Actor; applicationsPerOrg: number }): Promise<OrgApplications[]> {
  const rows = await platform.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .leftJoinLateral(
      (eb) => eb.selectFrom("applications").select(["id", "slug"]).whereRef("applications.org_id", "=", "o.id").orderBy("slug").limit(input.applicationsPerOrg).as("a"),
      (join) => join.onTrue(),
    )
    .leftJoin("environments as e", "e.application_id", "a.id")
    .leftJoin("domains as d", "d.environment_id", "e.id")
    .select((eb) => [
      "o.slug as org_slug",
      "o.name as org_name",
      "m.role",
      eb.selectFrom("applications as counted").select(eb.fn.countAll<number>().as("n")).whereRef("counted.org_id", "=", "o.id").as("application_count"),
      "a.slug as app_slug",
      "e.name as env_name",
      "d.hostname",
      "d.dns_status",
    ])
    .where("m.user_id", "=", input.actor.userId)
    .orderBy("o.slug")
    .orderBy("a.slug")
    .orderBy("e.id")
    .orderBy("d.hostname")
    .execute();
  const orgs = new Map<string, OrgApplications>();
  for (const row of rows) {
    let org = orgs.get(row.org_slug);
    if (!org) {
      org = { slug: row.org_slug, name: row.org_name, role: row.role, applications: Number(row.application_count ?? 0), shown: [] };
      orgs.set(row.org_slug, org);
    }
    if (row.app_slug === null) continue;
    let app = org.shown.at(-1);
    if (app?.slug !== row.app_slug) {
      app = { ref: `${org.slug}/${row.app_slug}`, slug: row.app_slug, environments: [] };
      org.shown.push(app);
    }
    if (row.env_name === null) continue;
    let environment = app.environments.at(-1);
    if (environment?.name !== row.env_name) {
      environment = { name: row.env_name, domains: [] };
      app.environments.push(environment);
    }
    if (row.hostname !== null) environment.domains.push({ hostname: row.hostname, dnsStatus: row.dns_status ?? "pending" });
  }
  return [...orgs.values()];
}

/** Sets the channel for one application's notifications (owners and admins), in the chat workspace `teamId`. */
export async function setApplicationChannel(platform: Platform, input: { actor: Actor; app: string; channelId: string; teamId: string }): Promise<{ ref: string; channelId: string }> {
  const app = await findApplicationAsMember(platform.db, input.actor, input.app);
  authorize(app.role, "administer", `application ${input.app} not found`);
  const channelId = parseChannelId(input.channelId);
  const ref = `${app.org.slug}/${app.slug}`;
  await inTransaction(platform, async (tx) => {
    const updated = await tx.updateTable("applications").set({ channel_id: channelId, channel_team_id: input.teamId }).where("id", "=", app.id).returning("id").executeTakeFirst();
    // Deleted since it was looked up: nothing to change, nothing to audit.
    if (!updated) throw new NotFound(`application ${ref} not found`);
    await recordAudit(tx, { org: app.org, actor: input.actor, action: "app.channel", target: ref, details: { channel: channelId } });
  });
  return { ref, channelId };
}

/** Deletes an application, its environments, domains and repository (confirm with its name). */
export async function deleteApplication(
  platform: Platform,
  input: { actor: Actor; app: string; confirm: string | undefined },
): Promise<{ ref: string; environments: number; domains: number; /** A split's prefix, handled by its original again. */ prefixReturned?: { prefix: string; to: string } }> {
  const app = await findApplicationAsMember(platform.db, input.actor, input.app);
  authorize(app.role, "build", `application ${input.app} not found`);
  const ref = `${app.org.slug}/${app.slug}`;
  if (input.confirm !== app.slug && input.confirm !== ref) {
    throw new Invalid(`to delete ${ref}, its environments, domains and repository, add --confirm ${ref}`, "confirm");
  }
  return inTransaction(platform, async (tx, undo) => {
    await lockRepository(tx, app.id);
    const splits = await tx.selectFrom("applications").select(["slug", "split_prefix"]).where("split_of", "=", app.id).orderBy("split_prefix").forUpdate().execute();
    if (splits.length > 0) {
      throw new Conflict(`${ref} has splits: delete them first (${splits.map((split) => `${split.split_prefix} → ${app.org.slug}/${split.slug}`).join(", ")})`, "app");
    }
    const counts = await tx
      .selectFrom("environments as e")
      .leftJoin("domains as d", "d.environment_id", "e.id")
      .select((eb) => [eb.fn.count<number>("e.id").distinct().as("environments"), eb.fn.count<number>("d.id").as("domains")])
      .where("e.application_id", "=", app.id)
      .executeTakeFirstOrThrow();
    const deleted = await tx.deleteFrom("applications").where("id", "=", app.id).returning(["split_of", "split_prefix"]).executeTakeFirst();
    if (!deleted) throw new NotFound(`application ${ref} not found`);
    const returnedTo = deleted.split_of === null ? undefined : await tx.selectFrom("applications").select("slug").where("id", "=", deleted.split_of).executeTakeFirst();
    const prefixReturned = returnedTo === undefined || deleted.split_prefix === null ? undefined : { prefix: deleted.split_prefix, to: `${app.org.slug}/${returnedTo.slug}` };
    await recordAudit(tx, { org: app.org, actor: input.actor, action: "app.delete", target: ref, details: prefixReturned === undefined ? {} : { prefixReturned } });
    if (await platform.repositories.exists(app.id)) {
      const aside = await platform.repositories.setAside(app.id);
      undo.onRollback(aside.restore);
      undo.afterCommit(aside.discard);
    }
    return { ref, environments: Number(counts.environments), domains: Number(counts.domains), ...(prefixReturned === undefined ? {} : { prefixReturned }) };
  });
}
