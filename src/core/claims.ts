import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { challengeName, type ChallengeVerdict } from "../dns/verify.ts";
import { findEnvironmentAsMember, type EnvironmentAccess } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { Conflict, Invalid } from "./errors.ts";
import { nextRecheck, recheckDelaySeconds, settleLiveFromStatuses } from "./golive.ts";
import { normalizeHostname } from "./hostnames.ts";
import { announceInBackground, notifyPeople } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type ClaimRecheck, type Platform, type Tx } from "./platform.ts";

/** What DNS holds at a hostname's challenge name. */
export type { ChallengeVerdict } from "../dns/verify.ts";

/** The TXT record that proves control of a hostname's DNS for one claim. */
export interface ChallengeRecord {
  /** `_edgebot-challenge.<hostname>`. */
  name: string;
  /** The claim's token. */
  value: string;
}

/** What `domain claim` came to. */
export type ClaimResult =
  /** The record was seen: the hostname now belongs to `ref` `env`. */
  | { status: "claimed"; ref: string; env: string; hostname: string }
  /** The record is not there yet: create it. */
  | {
      status: "waiting";
      ref: string;
      env: string;
      hostname: string;
      record: ChallengeRecord;
      /** What DNS holds now; absent for a claim made just now (its record cannot exist yet). */
      verdict?: ChallengeVerdict;
      /** Background looks go on (there is a job queue); else the user runs the command again. */
      rechecking: boolean;
      /** Set when the input was a URL and only its host was kept. */
      reducedFrom?: string;
    };

/** One background look for a claim's record: what it came to. */
export type ClaimRecheckOutcome =
  /** The claim is gone (its environment deleted) or no longer open. */
  | { kind: "gone" }
  /** The record was seen and the hostname moved. */
  | { kind: "claimed" }
  /** Not seen yet; the next look is scheduled. */
  | { kind: "waiting"; nextInSeconds: number }
  /** 48 hours passed without it: looks stop, and that is announced. */
  | { kind: "gave_up" };

/** An open claim as its checks read it. */
interface OpenClaim {
  id: number;
  hostname: string;
  token: string;
  environmentId: number;
  /** Who made the claim; null once they are gone. */
  createdBy: number | null;
}

/** A claim still waiting for its record, as `domain list` shows it to the org's members. */
export interface WaitingClaim {
  hostname: string;
  /** The environment it is to move to. */
  environment: string;
  record: ChallengeRecord;
  /** What the last look found, if one was made. */
  lastLook: "found" | "missing" | "could_not_check" | null;
}

/** The open claims of an application's environments (of one of them, with `env`), by hostname. */
export async function waitingClaimsOf(db: Platform["db"], applicationId: number, env?: string): Promise<WaitingClaim[]> {
  let query = db
    .selectFrom("hostname_claims as c")
    .innerJoin("environments as e", "e.id", "c.environment_id")
    .select(["c.hostname", "c.token", "c.last_verdict", "e.name"])
    .where("e.application_id", "=", applicationId)
    .where("c.status", "=", "open")
    .orderBy("c.hostname");
  if (env !== undefined) query = query.where("e.name", "=", env);
  const rows = await query.execute();
  return rows.map((row) => ({ hostname: row.hostname, environment: row.name, record: { name: challengeName(row.hostname), value: row.token }, lastLook: row.last_verdict }));
}

/** A new token: 128 random bits, recognisable as edgebot's in a zone file. */
function newToken(): string {
  return `edgebot-claim-${randomBytes(16).toString("hex")}`;
}

/**
 * `domain claim <app> <env> <hostname>`: asks for a hostname another org holds, to be proven
 * by a TXT record at `_edgebot-challenge.<hostname>` holding a token of the claiming org's.
 * The first time, the claim is made (audited) and its record shown; asked again, the same
 * record is shown and DNS is asked now: when the record is there, the hostname moves here
 * (see `moveClaimedHostname`). Until then edgebot looks in the background, like go-live
 * re-checks. Control of DNS is the authority: a hostname live elsewhere can be claimed too.
 */
export async function claimHostname(
  platform: Platform,
  input: {
    actor: Actor;
    /** `org/app` (or `app`) of the environment the hostname is to move to. */
    app: string;
    env: string;
    /** The hostname (a pasted URL is reduced to its host). */
    hostname: string;
  },
): Promise<ClaimResult> {
  const { hostname, reducedFrom } = normalizeHostname(input.hostname);
  if (challengeName(hostname).length > 253) throw new Invalid(`${hostname} is too long to hold the challenge record ${challengeName(hostname).slice(0, 40)}… (253 characters at most): it cannot be claimed`, "hostname");
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `application ${input.app} not found`);
  const named = { ref: environment.ref, env: environment.name, hostname, ...(reducedFrom === undefined ? {} : { reducedFrom }) };

  const holder = await holderOf(platform.db, hostname);
  if (holder === undefined) {
    throw new Invalid(`nobody serves ${hostname}: there is nothing to claim, add it with domain add ${environment.ref} ${environment.name} ${hostname}`, "hostname");
  }
  if (holder.orgId === environment.org.id) {
    throw new Conflict(`${hostname} is already served by ${holder.ref} ${holder.env}, in ${environment.org.slug}: move it with domain remove and domain add, there is nothing to claim`, "hostname");
  }

  // Two first runs at once: one makes the claim, the other finds it when it tries again.
  const opened = await openClaim(platform, environment, hostname, input.actor).catch((error: unknown) => {
    if (isUniqueViolation(error, "hostname_claims_open_key")) return openClaim(platform, environment, hostname, input.actor);
    throw error;
  });
  const record = { name: challengeName(hostname), value: opened.token };
  if (opened.created) return { status: "waiting", ...named, record, rechecking: platform.rechecks !== undefined };

  const verdict = await platform.dns.verifyChallenge(hostname, opened.token);
  // The request's key (a form submitted twice) went with the first transaction; this one is
  // guarded by the claim's own state: it moves the hostname once, however often it runs.
  const { requestKey: _recorded, ...afterLook } = platform;
  return inTransaction(afterLook, async (tx) => {
    const claim = await lockOpenClaim(tx, opened.claim.id);
    if (claim === undefined) {
      // Settled meanwhile, by a background look or another request: the hostname is here, or the claim went with its environment.
      if ((await holderOf(tx, hostname))?.environmentId === environment.id) return { status: "claimed", ref: environment.ref, env: environment.name, hostname } as const;
      throw new Conflict(`the claim of ${hostname} ended while DNS was asked (its environment was deleted, or the hostname moved): run domain claim again`, "hostname");
    }
    await recordLook(tx, claim.id, verdict);
    if (verdict.status === "found") {
      await moveClaimedHostname(tx, claim, { actor: input.actor, askedBy: input.actor.userId, background: false });
      return { status: "claimed", ref: environment.ref, env: environment.name, hostname } as const;
    }
    await scheduleLook(platform, tx, claim.id, input.actor);
    return { status: "waiting", ...named, record, verdict, rechecking: platform.rechecks !== undefined } as const;
  });
}

/**
 * The org's open claim of a hostname, made now (audited, its first look scheduled) or found,
 * pointed at `environment`: the same token for as long as it is open.
 */
async function openClaim(platform: Platform, environment: EnvironmentAccess, hostname: string, actor: Actor): Promise<{ claim: { id: number }; token: string; created: boolean }> {
  return inTransaction(platform, async (tx) => {
    const existing = await tx
      .selectFrom("hostname_claims")
      .select(["id", "token", "environment_id"])
      .where("org_id", "=", environment.org.id)
      .where("hostname", "=", hostname)
      .where("status", "=", "open")
      .forUpdate()
      .executeTakeFirst();
    if (existing !== undefined) {
      // Asked again for another environment of the org: the same record, a new destination.
      if (existing.environment_id !== environment.id) {
        await tx.updateTable("hostname_claims").set({ environment_id: environment.id }).where("id", "=", existing.id).execute();
        await recordAudit(tx, { org: environment.org, actor, action: "domain.claim", target: hostname, details: { app: environment.ref, env: environment.name, record: challengeName(hostname), retargeted: true } });
      }
      return { claim: { id: existing.id }, token: existing.token, created: false };
    }
    const token = newToken();
    const created = await tx
      .insertInto("hostname_claims")
      .values({ hostname, org_id: environment.org.id, environment_id: environment.id, token, created_by: actor.userId })
      .returning("id")
      .executeTakeFirstOrThrow();
    await recordAudit(tx, { org: environment.org, actor, action: "domain.claim", target: hostname, details: { app: environment.ref, env: environment.name, record: challengeName(hostname) } });
    await scheduleLook(platform, tx, created.id, actor);
    return { claim: { id: created.id }, token, created: true };
  });
}

/**
 * One background look for a claim's record, with go-live re-checks' backoff and 48 hours (the
 * same queue and `nextRecheck`): DNS is asked outside any transaction, then one transaction
 * moves the hostname, or schedules the next look, or gives up and announces it. Run it with
 * `onceForRequest` keyed by the job.
 */
export async function recheckClaim(platform: Platform, recheck: ClaimRecheck, now = new Date()): Promise<ClaimRecheckOutcome> {
  const found = await platform.db.selectFrom("hostname_claims").select(["id", "hostname", "token", "environment_id"]).where("id", "=", recheck.claimId).where("status", "=", "open").executeTakeFirst();
  if (found === undefined) return { kind: "gone" };
  const verdict = await platform.dns.verifyChallenge(found.hostname, found.token);

  return inTransaction(platform, async (tx) => {
    const claim = await lockOpenClaim(tx, recheck.claimId);
    if (claim === undefined) return { kind: "gone" } as const;
    await recordLook(tx, claim.id, verdict);
    if (verdict.status === "found") {
      await moveClaimedHostname(tx, claim, { actor: null, askedBy: recheck.askedBy, background: true });
      return { kind: "claimed" } as const;
    }
    const next = nextRecheck(recheck, now);
    if (next === "give_up") {
      const destination = await destinationOf(tx, claim.environmentId);
      const target = { ref: destination.ref, env: destination.name };
      await recordAudit(tx, { org: destination.org, actor: null, action: "domain.claim_gave_up", target: claim.hostname, details: { app: target.ref, env: target.env, since: recheck.since, attempts: recheck.attempt } });
      await announceInBackground(tx, destination, recheck.askedBy, {
        kind: "claim.gave_up",
        payload: { app: target.ref, env: target.env, hostname: claim.hostname, recordName: challengeName(claim.hostname), token: claim.token, since: recheck.since },
      });
      return { kind: "gave_up" } as const;
    }
    await platform.rechecks?.schedule(tx, { ...recheck, attempt: next.attempt }, next.nextInSeconds);
    return { kind: "waiting", nextInSeconds: next.nextInSeconds } as const;
  });
}

/**
 * Moves a claimed hostname to the claim's environment, in the transaction that saw its record:
 * it leaves the environment holding it (its checks with it), joins the claim's environment
 * with its DNS status pending, and the claim closes. Audited in both orgs. The org that held
 * it is told in its application's or org's channel, else its owners and admins directly, and
 * without naming who took it; the environment it left has its live state recomputed.
 */
async function moveClaimedHostname(tx: Tx, claim: OpenClaim, by: { actor: Actor | null; askedBy: number | null; background: boolean }): Promise<void> {
  const destination = await destinationOf(tx, claim.environmentId);
  const recordName = challengeName(claim.hostname);
  await tx.updateTable("hostname_claims").set({ status: "claimed", claimed_at: sql<Date>`now()` }).where("id", "=", claim.id).execute();

  const holder = await holderOf(tx, claim.hostname, { lock: true });
  // Already the org's (moved there meanwhile, or the application moved orgs): nothing moves.
  if (holder?.orgId === destination.org.id) return;
  if (holder !== undefined) {
    await tx.deleteFrom("domains").where("id", "=", holder.domainId).execute();
    const left = await settleLiveFromStatuses(tx, holder.environmentId);
    const lost = { app: holder.ref, env: holder.env, hostname: claim.hostname };
    await recordAudit(tx, { org: holder.org, actor: null, action: "domain.claimed_away", target: claim.hostname, details: { ...lost, proof: `TXT ${recordName}`, live: left.live } });
    // No actor: the claimant is of another org, and is not named to this one.
    const event = { kind: "domain.claimed_away", payload: { ...lost, recordName, live: left.live, domainsLeft: left.domainsLeft } } as const;
    await notifyPeople(tx, { ...event, org: holder.org, app: { id: holder.applicationId }, actor: null, to: { channelElse: "administrators" } });
  }
  await tx.insertInto("domains").values({ environment_id: destination.id, hostname: claim.hostname, created_by: by.actor?.userId ?? claim.createdBy }).execute();
  await recordAudit(tx, {
    org: destination.org,
    actor: by.actor,
    action: "domain.claimed",
    target: claim.hostname,
    details: { app: destination.ref, env: destination.name, proof: `TXT ${recordName}`, from: holder === undefined ? "nobody" : "another org", trigger: by.background ? "recheck" : "command" },
  });
  const claimed = { kind: "domain.claimed", payload: { app: destination.ref, env: destination.name, hostname: claim.hostname, ...(by.background ? { background: true } : {}) } } as const;
  if (by.background) await announceInBackground(tx, destination, by.askedBy, claimed);
  // With no channel, the org's owners and admins hear of the hostname it now serves.
  else await notifyPeople(tx, { ...claimed, org: destination.org, app: { id: destination.applicationId }, actor: by.actor, to: { channelElse: "administrators" } });
}

/** Schedules the claim's next background look, when something runs them; one waits per claim. */
async function scheduleLook(platform: Platform, tx: Tx, claimId: number, actor: Actor): Promise<void> {
  await platform.rechecks?.schedule(tx, { claimId, attempt: 1, since: new Date().toISOString(), askedBy: actor.userId }, recheckDelaySeconds(1));
}

async function lockOpenClaim(tx: Tx, id: number): Promise<OpenClaim | undefined> {
  const row = await tx.selectFrom("hostname_claims").select(["id", "hostname", "token", "environment_id", "created_by"]).where("id", "=", id).where("status", "=", "open").forUpdate().executeTakeFirst();
  return row && { id: row.id, hostname: row.hostname, token: row.token, environmentId: row.environment_id, createdBy: row.created_by };
}

async function recordLook(tx: Tx, id: number, verdict: ChallengeVerdict): Promise<void> {
  await tx.updateTable("hostname_claims").set({ checked_at: sql<Date>`now()`, last_verdict: verdict.status }).where("id", "=", id).execute();
}

/** The environment a claim moves its hostname to, with its application and org (the org as it is now). */
async function destinationOf(tx: Tx, environmentId: number): Promise<Omit<EnvironmentAccess, "role">> {
  const row = await tx
    .selectFrom("environments as e")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select(["e.id", "e.name", "a.id as application_id", "a.slug as app", "o.id as org_id", "o.slug as org"])
    .where("e.id", "=", environmentId)
    .executeTakeFirstOrThrow();
  return { id: row.id, name: row.name, applicationId: row.application_id, ref: `${row.org}/${row.app}`, org: { id: row.org_id, slug: row.org } };
}

/** Who serves a hostname now, if anyone: its domain, environment, application and org. */
async function holderOf(db: Tx | Platform["db"], hostname: string, options: { lock?: boolean } = {}) {
  let query = db
    .selectFrom("domains as d")
    .innerJoin("environments as e", "e.id", "d.environment_id")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select(["d.id as domain_id", "e.id as environment_id", "e.name as env", "a.id as application_id", "a.slug as app", "o.id as org_id", "o.slug as org"])
    .where("d.hostname", "=", hostname);
  if (options.lock) query = query.forUpdate("d");
  const row = await query.executeTakeFirst();
  return (
    row && {
      domainId: row.domain_id,
      environmentId: row.environment_id,
      env: row.env,
      applicationId: row.application_id,
      ref: `${row.org}/${row.app}`,
      orgId: row.org_id,
      org: { id: row.org_id, slug: row.org },
    }
  );
}
