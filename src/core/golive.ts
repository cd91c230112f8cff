import { sql } from "kysely";
import type { DnsStatus } from "../db/schema.ts";
import type { Verdict } from "../dns/verify.ts";
import { findEnvironmentAsMember } from "./access.ts";
import { recordAudit } from "./audit.ts";
import { Invalid } from "./errors.ts";
import { notify, notifyChannel, type NotificationEvent, type NotifiedChannel } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Recheck, type RecheckQueue, type Tx } from "./platform.ts";

/** What DNS says of a hostname: whether it points at the edge, and what it points at. */
export type { Verdict } from "../dns/verify.ts";

/** An environment awaiting DNS is re-checked for this long after it began waiting. */
export const awaitingHours = 48;

/** The wait before re-check number `attempt`: 1 minute, doubling, at most an hour. */
export function recheckDelaySeconds(attempt: number): number {
  return Math.min(60 * 2 ** Math.max(attempt - 1, 0), 3600);
}

/**
 * After a background re-check that settled nothing: the next one and its wait, or giving up,
 * when that wait would end past 48 hours from when the waiting began.
 */
export function nextRecheck(recheck: { attempt: number; since: string }, now: Date): { attempt: number; nextInSeconds: number } | "give_up" {
  const attempt = recheck.attempt + 1;
  const nextInSeconds = recheckDelaySeconds(attempt);
  const giveUpAt = new Date(recheck.since).getTime() + awaitingHours * 3600_000;
  return now.getTime() + nextInSeconds * 1000 > giveUpAt ? "give_up" : { attempt, nextInSeconds };
}

export interface GoLiveResult {
  /** `org/app`. */
  app: string;
  env: string;
  verdicts: Verdict[];
  /** Every domain passes: the environment is live. */
  live: boolean;
  /** This check made it live (it was not before). */
  wentLive: boolean;
  /** It was live and a domain now fails: it is live no more. */
  regressed: boolean;
  /** Where the results were posted: the application's channel, else the org's, else the conversation the command came from; undefined when none of these. */
  posted: NotifiedChannel | undefined;
  /** Background re-checks go on until it is live (there is a job queue, and it is not live yet). */
  rechecking: boolean;
  /** When the next background re-check is due, while they run. */
  nextRecheckAt?: Date;
}

/**
 * `golive <app> <env>`: checks every domain of the environment against DNS now, outside any
 * transaction, then in one transaction stores each check, updates each domain's status,
 * marks the environment live when every domain passes, schedules the background re-checks of an
 * environment not live yet, and writes the results (with when the next re-check is) and the
 * go-live or regression announcement to the outbox. The results go to the application's channel,
 * else the org's, else `conversation`, the one the command was typed in.
 */
export async function goLive(
  platform: Platform,
  input: {
    actor: Actor;
    app: string;
    env: string;
    /** Where the command was typed, in its chat workspace: the results go there when no channel is set. */
    conversation?: { channelId: string; teamId: string };
  },
): Promise<GoLiveResult> {
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `environment ${input.env} of ${input.app} not found`);
  const domains = await domainsOf(platform, environment.id);
  if (domains.length === 0) throw new Invalid(`${environment.ref} ${environment.name} has no domains yet: add one with domain add ${environment.ref} ${environment.name} <hostname>`, "env");
  const verdicts = await platform.dns.verifyAll(domains.map((domain) => domain.hostname));

  return inTransaction(platform, async (tx) => {
    const checked = { id: environment.id, ref: environment.ref, name: environment.name, org: environment.org, applicationId: environment.applicationId };
    const change = await recordDnsResults(tx, checked, domains, verdicts, { trigger: "golive", checkedBy: input.actor.userId });
    const counts = { passes: verdicts.filter((v) => v.status === "passes").length, fails: verdicts.filter((v) => v.status === "fails").length, couldNotCheck: verdicts.filter((v) => v.status === "could_not_check").length };
    await recordAudit(tx, { org: environment.org, actor: input.actor, action: "env.golive", target: `${environment.ref} ${environment.name}`, details: { ...counts, live: change.live, wentLive: change.wentLive, regressed: change.regressed } });
    // Not live: re-checked in the background where something runs re-checks; the messages say when.
    const rechecks = change.live ? undefined : platform.rechecks;
    const nextRecheckAt = await scheduleRecheck(rechecks, tx, { environmentId: environment.id, attempt: 1, since: new Date().toISOString(), askedBy: input.actor.userId });
    const next = nextRecheckAt === undefined ? {} : { nextRecheckAt };
    const app = { id: environment.applicationId };
    const results = { app: environment.ref, env: environment.name, verdicts, live: change.live, wentLive: change.wentLive, regressed: change.regressed };
    const payload = { ...results, ...(nextRecheckAt === undefined ? {} : { nextRecheckAt: nextRecheckAt.toISOString() }) };
    const posted = await notifyChannel(tx, { org: environment.org, app, actor: input.actor, kind: "golive.results", payload, ...(input.conversation ? { orElseIn: input.conversation } : {}) });
    const announcement = changeAnnouncement(checked, change, { verdicts, hostnames: domains.map((domain) => domain.hostname), background: false, ...next });
    if (announcement !== undefined) await notify(tx, { org: environment.org, app, actor: input.actor, ...announcement });
    return { ...results, posted, rechecking: rechecks !== undefined, ...next };
  });
}

/**
 * Schedules a re-check where something runs them, and says when the re-check now waiting is
 * due (an earlier one kept, or this one); undefined where nothing runs them.
 */
export async function scheduleRecheck(rechecks: RecheckQueue | undefined, tx: Tx, recheck: Recheck, afterSeconds = recheckDelaySeconds(recheck.attempt)): Promise<Date | undefined> {
  if (rechecks === undefined) return undefined;
  return (await rechecks.schedule(tx, recheck, afterSeconds)) ?? new Date(Date.now() + afterSeconds * 1000);
}

/** The environment a check is about, with what its messages and audit events name. */
export interface CheckedEnvironment {
  id: number;
  /** `org/app`. */
  ref: string;
  name: string;
  org: { id: number; slug: string };
  applicationId: number;
}

/** What a check changed: whether every domain passes, and whether the environment went live or stopped being live. */
export interface DnsResultsChange {
  live: boolean;
  wentLive: boolean;
  regressed: boolean;
}

/** The domains of an environment, in the order their checks are shown. */
export async function domainsOf(platform: Platform, environmentId: number): Promise<Array<{ id: number; hostname: string }>> {
  return platform.db.selectFrom("domains").select(["id", "hostname"]).where("environment_id", "=", environmentId).orderBy("hostname").execute();
}

/** The domain status a verdict leaves; "could not check" is never a failure. */
const statusOf: Record<Verdict["status"], DnsStatus> = { passes: "passing", fails: "failing", could_not_check: "unknown" };

/**
 * Stores one check of each domain and the status it leaves, then moves the environment: live
 * once every domain passes (marked once), and no longer live when a domain fails. "Could not
 * check" moves nothing. Domains removed while DNS was being asked are left out.
 */
export async function recordDnsResults(
  tx: Tx,
  environment: CheckedEnvironment,
  domains: Array<{ id: number; hostname: string }>,
  verdicts: Verdict[],
  source: { trigger: "golive"; checkedBy: number } | { trigger: "recheck" },
): Promise<DnsResultsChange> {
  const stillThere = new Set(
    (await tx.selectFrom("domains").select("id").where("environment_id", "=", environment.id).forUpdate().execute()).map((row) => row.id),
  );
  const checked = domains.map((domain, index) => ({ domain, verdict: verdicts[index]! })).filter(({ domain }) => stillThere.has(domain.id));
  await storeChecks(tx, checked, source, checked.map(() => environment.id));
  const live = verdicts.every((verdict) => verdict.status === "passes");
  const fails = verdicts.some((verdict) => verdict.status === "fails");
  // Each transition happens once: the update only matches an environment in the state it leaves.
  const wentLive = live && (await tx.updateTable("environments").set({ live_at: sql<Date>`now()` }).where("id", "=", environment.id).where("live_at", "is", null).returning("id").execute()).length > 0;
  const regressed = fails && (await tx.updateTable("environments").set({ live_at: null }).where("id", "=", environment.id).where("live_at", "is not", null).returning("id").execute()).length > 0;
  return { live, wentLive, regressed };
}

/**
 * Stores one check of each domain and the status it leaves, moving no environment, in one
 * statement whatever their number (the daily sweep writes a page of environments' at once).
 * Only a status that changed is written to its domain: a domain's last check time is its
 * latest check's, so the daily sweep, where nearly every status stays, writes the checks and
 * leaves the domains be. The domains checked are locked against removal first (`for key
 * share`, before any is updated: a row locked after this statement updated it would be
 * skipped); one removed from its environment meanwhile gets no check. The rows travel as one
 * array a column, which Postgres unnests: a multi-row VALUES binds a parameter a cell, and
 * costs more to parse than to write. The domains are found by their ids (`= any`), never by a
 * scan of the table.
 */
export async function storeChecks(
  tx: Tx,
  checked: Array<{ domain: { id: number; hostname: string }; verdict: Verdict }>,
  source: { trigger: "golive"; checkedBy: number } | { trigger: "recheck" },
  environmentIds: number[],
): Promise<void> {
  if (checked.length === 0) return;
  const column = <T>(value: (check: (typeof checked)[number]) => T) => checked.map(value);
  const ids = column(({ domain }) => domain.id);
  await sql`with c as (
      select * from unnest(
        ${ids}::integer[],
        ${environmentIds}::integer[],
        ${column(({ verdict }) => statusOf[verdict.status])}::text[],
        ${column(({ domain }) => domain.hostname)}::text[],
        ${column(({ verdict }) => verdict.status)}::text[],
        ${column(({ verdict }) => verdict.expectedTarget)}::text[],
        ${column(({ verdict }) => JSON.stringify(verdict.status === "passes" ? [verdict.found] : verdict.status === "fails" ? verdict.found : [verdict.reason]))}::text[],
        ${column(({ verdict }) => (verdict.status === "fails" ? verdict.recordToCreate : null))}::text[]
      ) with ordinality as c (domain_id, environment_id, status, hostname, verdict, expected, found, record_to_create, position)
    ), present as (
      select domains.id from domains join c on c.domain_id = domains.id and c.environment_id = domains.environment_id
      where domains.id = any(array(select domain_id from c))
      for key share of domains
    ), changed as (
      update domains set dns_status = c.status
      from present join c on c.domain_id = present.id
      where domains.id = present.id and domains.dns_status is distinct from c.status
    )
    insert into dns_checks (domain_id, hostname, verdict, expected, found, record_to_create, checked_by, trigger)
    select c.domain_id, c.hostname, c.verdict, c.expected, c.found::jsonb, c.record_to_create, ${source.trigger === "golive" ? source.checkedBy : null}::integer, ${source.trigger}
    from c join present on present.id = c.domain_id
    order by c.position`.execute(tx);
}

/**
 * An environment's live state after a domain left it without a check (a hostname claimed by
 * another org): live when it still has domains and each passed its last check, else not live.
 * Each transition happens once, as in `recordDnsResults`.
 */
export async function settleLiveFromStatuses(tx: Tx, environmentId: number): Promise<DnsResultsChange & { domainsLeft: number }> {
  const statuses = await tx.selectFrom("domains").select("dns_status").where("environment_id", "=", environmentId).forUpdate().execute();
  const live = statuses.length > 0 && statuses.every((domain) => domain.dns_status === "passing");
  const wentLive = live && (await tx.updateTable("environments").set({ live_at: sql<Date>`now()` }).where("id", "=", environmentId).where("live_at", "is", null).returning("id").execute()).length > 0;
  const regressed = !live && (await tx.updateTable("environments").set({ live_at: null }).where("id", "=", environmentId).where("live_at", "is not", null).returning("id").execute()).length > 0;
  return { live, wentLive, regressed, domainsLeft: statuses.length };
}

/** The announcement of going live or of a regression; none when the environment stayed as it was. */
export function changeAnnouncement(
  environment: CheckedEnvironment,
  change: DnsResultsChange,
  input: { verdicts: Verdict[]; hostnames: string[]; background: boolean; nextRecheckAt?: Date },
): NotificationEvent | undefined {
  const named = { app: environment.ref, env: environment.name };
  if (change.wentLive) return { kind: "env.live", payload: { ...named, hostnames: input.hostnames, ...(input.background ? { background: true } : {}) } };
  if (change.regressed) {
    const next = input.nextRecheckAt === undefined ? {} : { nextRecheckAt: input.nextRecheckAt.toISOString() };
    return { kind: "env.regressed", payload: { ...named, verdicts: input.verdicts, background: input.background, ...next } };
  }
  return undefined;
}
