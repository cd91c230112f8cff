import type { DnsStatus } from "../db/schema.ts";
import { accessColumns, applicationsInScope, environmentInScope, findApplicationAsMember, findEnvironmentAsMember, oneApplication, oneEnvironment, requireRepository } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { hostnameTaken, insertDomain, lastCheckedAt } from "./domains.ts";
import { Conflict, Invalid, NotFound } from "./errors.ts";
import { normalizeHostname } from "./hostnames.ts";
import { environmentName, parseField } from "./names.ts";
import { notify } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { lockRepository } from "./repository-locks.ts";

export interface EnvironmentSummary {
  name: string;
  basedOn: string | null;
  liveAt: Date | null;
  domains: number;
  createdAt: Date;
}

export interface EnvironmentDetails {
  ref: string;
  name: string;
  basedOn: string | null;
  liveAt: Date | null;
  createdAt: Date;
  domains: Array<{ hostname: string; dnsStatus: DnsStatus; dnsCheckedAt: Date | null }>;
}

/** Creates an environment as a branch from another (default production), optionally with a domain. */
export async function createEnvironment(
  platform: Platform,
  input: {
    actor: Actor;
    app: string;
    /** The new environment's name, which is also its branch. */
    env: string;
    /** The environment to branch from. */
    from?: string | undefined;
    /** A first hostname for it. */
    domain?: string | undefined;
  },
): Promise<{ ref: string; env: string; from: string; hostname?: string }> {
  const name = parseField(environmentName, input.env, "env", "environment name");
  const from = input.from === undefined ? "production" : parseField(environmentName, input.from, "from", "--from");
  const hostname = input.domain === undefined ? undefined : normalizeHostname(input.domain, "domain").hostname;
  const app = await findApplicationAsMember(platform.db, input.actor, input.app);
  authorize(app.role, "build", `application ${input.app} not found`);
  const ref = `${app.org.slug}/${app.slug}`;
  await requireRepository(platform, { id: app.id, ref });
  try {
    return await inTransaction(platform, async (tx, undo) => {
      await lockRepository(tx, app.id);
      const base = await tx
        .selectFrom("environments")
        .select("id")
        .where("application_id", "=", app.id)
        .where("name", "=", from)
        .forShare()
        .executeTakeFirst();
      if (!base) throw new NotFound(`${ref} has no environment ${from} to branch from`);
      const environment = await tx
        .insertInto("environments")
        .values({ application_id: app.id, name, based_on: from, created_by: input.actor.userId })
        .returning("id")
        .executeTakeFirstOrThrow()
        .catch((error: unknown) => {
          if (isUniqueViolation(error, "environments_application_name_key")) throw new Conflict(`${ref} already has an environment ${name}`, "env");
          throw error;
        });
      if (hostname !== undefined) await insertDomain(tx, environment.id, hostname, input.actor);
      await recordAudit(tx, {
        org: app.org,
        actor: input.actor,
        action: "env.create",
        target: `${ref} ${name}`,
        details: { from, ...(hostname === undefined ? {} : { hostname }) },
      });
      await notify(tx, { org: app.org, app, actor: input.actor, kind: "env.created", payload: { app: ref, env: name, from, ...(hostname === undefined ? {} : { hostname }) } });
      undo.onRollback(() => platform.repositories.deleteBranch(app.id, name).then(() => undefined));
      await platform.repositories.createBranch(app.id, name, from);
      return { ref, env: name, from, ...(hostname === undefined ? {} : { hostname }) };
    });
  } catch (error) {
    if (hostname !== undefined && isUniqueViolation(error, "domains_hostname_key")) throw await hostnameTaken(platform.db, input.actor, hostname, "domain", { ref, env: name, first: "create the environment without --domain" });
    throw error;
  }
}

/** The environments of an application with their number of domains. */
export async function listEnvironments(platform: Platform, input: { actor: Actor; app: string }): Promise<{ ref: string; environments: EnvironmentSummary[] }> {
  const found = await applicationsInScope(platform.db, input.actor, input.app)
    .leftJoin("environments as e", "e.application_id", "a.id")
    .select((eb) => [
      ...accessColumns,
      "e.name",
      "e.based_on",
      "e.live_at",
      "e.created_at",
      eb.selectFrom("domains as d").select(eb.fn.countAll<number>().as("n")).whereRef("d.environment_id", "=", "e.id").as("domains"),
    ])
    .orderBy("e.id")
    .execute();
  const { access: app, rows } = oneApplication(found, input.app);
  return {
    ref: `${app.org.slug}/${app.slug}`,
    environments: rows
      .filter((row) => row.name !== null)
      .map((row) => ({
        name: row.name!,
        basedOn: row.based_on,
        liveAt: row.live_at,
        createdAt: row.created_at!,
        domains: Number(row.domains ?? 0),
      })),
  };
}

/** One environment with its domains and their last known DNS status. */
export async function showEnvironment(platform: Platform, input: { actor: Actor; app: string; env: string }): Promise<EnvironmentDetails> {
  const found = await environmentInScope(platform.db, input.actor, input.app, input.env)
    .leftJoin("domains as d", "d.environment_id", "e.id")
    .select([...accessColumns, "e.id as environment_id", "e.based_on", "e.live_at", "e.created_at", "d.hostname", "d.dns_status", lastCheckedAt])
    .orderBy("d.hostname")
    .execute();
  const { access: environment, rows } = oneEnvironment(found, input.app, input.env.trim());
  const first = rows[0]!;
  return {
    ref: environment.ref,
    name: environment.name,
    basedOn: first.based_on,
    liveAt: first.live_at,
    createdAt: first.created_at!,
    domains: rows
      .filter((row) => row.hostname !== null)
      .map((row) => ({ hostname: row.hostname!, dnsStatus: row.dns_status ?? "pending", dnsCheckedAt: row.dns_checked_at })),
  };
}

/** Deletes an environment, its domains and its branch; production is never deleted. */
export async function deleteEnvironment(
  platform: Platform,
  input: { actor: Actor; app: string; env: string; confirm: string | undefined },
): Promise<{ ref: string; env: string; domains: number }> {
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `application ${input.app} not found`);
  if (environment.name === "production") throw new Invalid("production cannot be deleted: delete the application instead", "env");
  if (input.confirm !== environment.name) {
    throw new Invalid(`to delete ${environment.ref} ${environment.name} and its domains, add --confirm ${environment.name}`, "confirm");
  }
  return inTransaction(platform, async (tx, undo) => {
    await lockRepository(tx, environment.applicationId);
    const domains = await tx.deleteFrom("domains").where("environment_id", "=", environment.id).returning("hostname").execute();
    const deleted = await tx.deleteFrom("environments").where("id", "=", environment.id).returning("id").executeTakeFirst();
    if (!deleted) throw new NotFound(`${environment.ref} has no environment ${environment.name}`);
    await recordAudit(tx, {
      org: environment.org,
      actor: input.actor,
      action: "env.delete",
      target: `${environment.ref} ${environment.name}`,
      details: { domains: domains.map((domain) => domain.hostname) },
    });
    await notify(tx, {
      org: environment.org,
      app: { id: environment.applicationId },
      actor: input.actor,
      kind: "env.deleted",
      payload: { app: environment.ref, env: environment.name, domains: domains.map((domain) => domain.hostname) },
    });
    // After the commit: a crash then leaves at worst a branch no environment uses, which the
    // next environment of that name takes over, never an environment without its branch.
    undo.afterCommit(() => deleteUnusedBranch(platform, environment.applicationId, environment.name));
    return { ref: environment.ref, env: environment.name, domains: domains.length };
  });
}

/**
 * Deletes the branch of an environment whose deletion has committed, unless an environment of
 * that name exists again. The application's row is locked for it: inserting an environment
 * takes a key-share lock on that row, so an `env create` of the same name either committed
 * before (and its branch stays) or creates its branch after this.
 */
async function deleteUnusedBranch(platform: Platform, applicationId: number, name: string): Promise<void> {
  await platform.db.transaction().execute(async (tx) => {
    const application = await tx.selectFrom("applications").select("id").where("id", "=", applicationId).forUpdate().executeTakeFirst();
    // Deleted too: its repository goes with it.
    if (application === undefined) return;
    const again = await tx.selectFrom("environments").select("id").where("application_id", "=", applicationId).where("name", "=", name).executeTakeFirst();
    if (again === undefined) await platform.repositories.deleteBranch(applicationId, name);
  });
}
