import { sql, type Kysely } from "kysely";
import type { Database, DnsStatus } from "../db/schema.ts";
import { withoutInternalAddresses, type DnsAdvice, type Verdict } from "../dns/verify.ts";
import { accessColumns, applicationsInScope, findEnvironmentAsMember, oneApplication, type EnvironmentAccess } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { waitingClaimsOf, type WaitingClaim } from "./claims.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { Conflict, NotFound } from "./errors.ts";
import { normalizeHostname } from "./hostnames.ts";
import { environmentName, parseField } from "./names.ts";
import { notify } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Tx } from "./platform.ts";

/** The time of a domain's latest check (the domain as `d` in the query), null before its first. */
export const lastCheckedAt = sql<Date | null>`(select k.checked_at from dns_checks k where k.domain_id = d.id order by k.id desc limit 1)`.as("dns_checked_at");

/** A failing verdict's advice (SPEC §5): the records to create, the alternative at an apex, what to remove, the old TTL. */
export type { DnsAdvice, DnsRecord } from "../dns/verify.ts";

export interface DomainEntry {
  hostname: string;
  environment: string;
  dnsStatus: DnsStatus;
  dnsCheckedAt: Date | null;
}

/** Where a taken hostname would be claimed to, and what must happen first when that environment does not exist yet. */
export interface ClaimSuggestion {
  /** `org/app`. */
  ref: string;
  env: string;
  /** Like "create the application with another hostname first". */
  first?: string;
}

/**
 * The conflict for a hostname already in use: it names where, when the actor may see that org.
 * Otherwise it says nothing of who holds it, and how to claim it by proving control of its DNS.
 */
export async function hostnameTaken(db: Kysely<Database>, actor: Actor, hostname: string, field: string, claimAs: ClaimSuggestion): Promise<Conflict> {
  const visible = await db
    .selectFrom("domains as d")
    .innerJoin("environments as e", "e.id", "d.environment_id")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .innerJoin("memberships as m", (join) => join.onRef("m.org_id", "=", "o.id").on("m.user_id", "=", actor.userId))
    .select(["o.slug as org", "a.slug as app", "e.name as env"])
    .where("d.hostname", "=", hostname)
    .executeTakeFirst();
  if (visible) return new Conflict(`${hostname} is already served by ${visible.org}/${visible.app} ${visible.env}`, field);
  const claim = `domain claim ${claimAs.ref} ${claimAs.env} ${hostname}`;
  return new Conflict(
    `${hostname} is already served by another application on the platform. If you control its DNS, claim it: ${claimAs.first === undefined ? "" : `${claimAs.first}, then `}run ${claim} and create the TXT record it shows`,
    field,
  );
}

/** What `dns check` found for a hostname. */
export interface DnsCheck {
  verdict: Verdict;
  /** Set when the input was a URL and only its host was checked. */
  reducedFrom?: string;
}

/**
 * `dns check <hostname>`: anyone may ask how a hostname resolves; only members of the org
 * serving it see the internal addresses (private, loopback, link-local, CGNAT) it points at.
 */
export async function checkDns(
  platform: Platform,
  input: {
    actor: Actor;
    /** The hostname as typed (a pasted URL is reduced to its host). */
    hostname: string;
  },
): Promise<DnsCheck> {
  const { hostname, reducedFrom } = normalizeHostname(input.hostname);
  const [verdict, member] = await Promise.all([platform.dns.verify(hostname), isMemberServing(platform.db, input.actor, hostname)]);
  return { verdict: member ? verdict : withoutInternalAddresses(verdict), ...(reducedFrom === undefined ? {} : { reducedFrom }) };
}

/** What DNS says of a hostname about to go live: it points at the edge already, or what to create (and remove) first. */
export type GoLiveAdvice =
  | { status: "passes" }
  | { status: "fails"; advice: DnsAdvice }
  /** DNS did not answer: the records a hostname needs, without what is in their way. */
  | { status: "unchecked"; advice: DnsAdvice; reason: string };

/**
 * The advice `domain add` answers with at once: what the hostname (normalized) needs to go
 * live, from DNS as `dns check` sees it. DNS failing is no failure here: then the advice is
 * the plain one (the CNAME, or what an apex needs instead), without what to remove.
 */
export async function goLiveAdvice(platform: Platform, input: { actor: Actor; hostname: string }): Promise<GoLiveAdvice> {
  let reason: string;
  try {
    const { verdict } = await checkDns(platform, input);
    if (verdict.status === "passes") return { status: "passes" };
    if (verdict.status === "fails" && verdict.advice !== undefined) return { status: "fails", advice: verdict.advice };
    reason = verdict.status === "could_not_check" ? verdict.reason : "no advice";
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  return { status: "unchecked", advice: platform.dns.plainAdvice(input.hostname), reason };
}

/** Whether the actor is a member of the org whose application serves `hostname` (normalized); false when none serves it. */
export async function isMemberServing(db: Kysely<Database>, actor: Actor, hostname: string): Promise<boolean> {
  const serving = await db
    .selectFrom("domains as d")
    .innerJoin("environments as e", "e.id", "d.environment_id")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("memberships as m", (join) => join.onRef("m.org_id", "=", "a.org_id").on("m.user_id", "=", actor.userId))
    .select("d.id")
    .where("d.hostname", "=", hostname)
    .executeTakeFirst();
  return serving !== undefined;
}

/** Inserts a domain inside a change; callers turn a taken hostname into `hostnameTaken`'s conflict. */
export async function insertDomain(tx: Tx, environmentId: number, hostname: string, actor: Actor): Promise<void> {
  await tx
    .insertInto("domains")
    .values({ environment_id: environmentId, hostname, created_by: actor.userId })
    .execute();
}

// A domain change's audit event and channel notification, in the change's transaction.
async function recordDomainChange(tx: Tx, environment: EnvironmentAccess, actor: Actor, hostname: string, change: "added" | "removed"): Promise<void> {
  await recordAudit(tx, {
    org: environment.org,
    actor,
    action: change === "added" ? "domain.add" : "domain.remove",
    target: hostname,
    details: { app: environment.ref, env: environment.name },
  });
  await notify(tx, {
    org: environment.org,
    app: { id: environment.applicationId },
    actor,
    kind: change === "added" ? "domain.added" : "domain.removed",
    payload: { app: environment.ref, env: environment.name, hostname },
  });
}

/** Adds a hostname to an environment (developers and above). */
export async function addDomain(
  platform: Platform,
  input: { actor: Actor; app: string; env: string; hostname: string },
): Promise<{ ref: string; env: string; hostname: string; reducedFrom?: string }> {
  const { hostname, reducedFrom } = normalizeHostname(input.hostname);
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `application ${input.app} not found`);
  try {
    await inTransaction(platform, async (tx) => {
      await insertDomain(tx, environment.id, hostname, input.actor);
      await recordDomainChange(tx, environment, input.actor, hostname, "added");
    });
  } catch (error) {
    if (isUniqueViolation(error, "domains_hostname_key")) throw await hostnameTaken(platform.db, input.actor, hostname, "hostname", { ref: environment.ref, env: environment.name });
    throw error;
  }
  return { ref: environment.ref, env: environment.name, hostname, ...(reducedFrom === undefined ? {} : { reducedFrom }) };
}

/** Removes a hostname from an environment (developers and above). */
export async function removeDomain(
  platform: Platform,
  input: { actor: Actor; app: string; env: string; hostname: string },
): Promise<{ ref: string; env: string; hostname: string }> {
  const { hostname } = normalizeHostname(input.hostname);
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `application ${input.app} not found`);
  await inTransaction(platform, async (tx) => {
    const removed = await tx
      .deleteFrom("domains")
      .where("environment_id", "=", environment.id)
      .where("hostname", "=", hostname)
      .returning("id")
      .executeTakeFirst();
    if (!removed) throw new NotFound(`${hostname} is not a domain of ${environment.ref} ${environment.name}`);
    await recordDomainChange(tx, environment, input.actor, hostname, "removed");
  });
  return { ref: environment.ref, env: environment.name, hostname };
}

/** The domains of an application, or of one of its environments, and the hostnames it claims (`domain claim`) still waiting for DNS. */
export async function listDomains(
  platform: Platform,
  input: { actor: Actor; app: string; env?: string | undefined },
): Promise<{ ref: string; env: string | undefined; domains: DomainEntry[]; claims: WaitingClaim[] }> {
  const envName = input.env === undefined ? undefined : parseField(environmentName, input.env, "env", "environment name");
  const found = await applicationsInScope(platform.db, input.actor, input.app)
    .leftJoin("environments as e", (join) => {
      const onApplication = join.onRef("e.application_id", "=", "a.id");
      return envName === undefined ? onApplication : onApplication.on("e.name", "=", envName);
    })
    .leftJoin("domains as d", "d.environment_id", "e.id")
    .select([...accessColumns, "e.name", "d.hostname", "d.dns_status", lastCheckedAt])
    .orderBy("e.id")
    .orderBy("d.hostname")
    .execute();
  const { access: app, rows } = oneApplication(found, input.app);
  const ref = `${app.org.slug}/${app.slug}`;
  if (envName !== undefined && rows[0]!.name === null) throw new NotFound(`${ref} has no environment ${envName}`);
  return {
    ref,
    env: envName,
    claims: await waitingClaimsOf(platform.db, app.id, envName),
    domains: rows
      .filter((row) => row.hostname !== null)
      .map((row) => ({
        hostname: row.hostname!,
        environment: row.name!,
        dnsStatus: row.dns_status ?? "pending",
        dnsCheckedAt: row.dns_checked_at,
      })),
  };
}
