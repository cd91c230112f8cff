import { sql } from "kysely";
import { recordAudit } from "./audit.ts";
import { changeAnnouncement, domainsOf, nextRecheck, recheckDelaySeconds, recordDnsResults, scheduleRecheck, storeChecks, type CheckedEnvironment, type Verdict } from "./golive.ts";
import { announceInBackground } from "./notifications.ts";
import { inTransaction, type Platform, type Recheck, type RecheckQueue, type Tx } from "./platform.ts";

/** What one background re-check came to. */
export type RecheckOutcome =
  /** The environment, or every one of its domains, is gone: nothing to check. */
  | { kind: "gone" }
  /** Every domain passes; `wentLive` when this check made it live. */
  | { kind: "live"; wentLive: boolean }
  /** Not every domain passes yet; the next re-check is scheduled. */
  | { kind: "waiting"; nextInSeconds: number }
  /** 48 hours passed without every domain passing: re-checks stop, and that is announced. */
  | { kind: "gave_up" }
  /** It was live and a domain fails now: announced, and re-checked as awaiting DNS again. */
  | { kind: "regressed"; nextInSeconds: number }
  /** It is live and no domain fails, but some could not be checked: the next daily check looks again. */
  | { kind: "unchanged" };

/**
 * One background re-check of an environment: DNS is asked outside any transaction, then one
 * transaction stores the checks and statuses, moves the environment (live, or no longer), writes
 * the announcement, and schedules the next re-check. An environment awaiting DNS is re-checked
 * with backoff until it goes live or 48 hours pass; a live one is checked by the daily sweep, and
 * a regression starts the awaiting re-checks again. Run it with `onceForRequest` keyed by the job,
 * so a job that runs twice takes effect once.
 */
export async function recheckEnvironment(platform: Platform, recheck: Recheck, now = new Date()): Promise<RecheckOutcome> {
  const environment = await platform.db
    .selectFrom("environments as e")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .select(["e.id", "e.name", "a.id as application_id", "a.slug as app_slug", "o.id as org_id", "o.slug as org_slug"])
    .where("e.id", "=", recheck.environmentId)
    .executeTakeFirst();
  if (environment === undefined) return { kind: "gone" };
  const domains = await domainsOf(platform, environment.id);
  if (domains.length === 0) return { kind: "gone" };
  const verdicts = await platform.dns.verifyAll(domains.map((domain) => domain.hostname));
  const checked: CheckedEnvironment = {
    id: environment.id,
    ref: `${environment.org_slug}/${environment.app_slug}`,
    name: environment.name,
    org: { id: environment.org_id, slug: environment.org_slug },
    applicationId: environment.application_id,
  };
  return inTransaction(platform, (tx) => settleRecheck(tx, platform.rechecks, { environment: checked, domains, verdicts }, recheck, now));
}

/** An environment with the verdicts DNS gave its domains, in their order, as a re-check found them outside any transaction. */
export interface CheckedDomains {
  environment: CheckedEnvironment;
  domains: Array<{ id: number; hostname: string }>;
  verdicts: Verdict[];
}

/**
 * The transaction half of a re-check: stores the checks and statuses, moves the environment
 * (live, or no longer), writes the announcement and schedules the next re-check, in `tx`.
 */
async function settleRecheck(tx: Tx, rechecks: RecheckQueue | undefined, found: CheckedDomains, recheck: Recheck, now: Date): Promise<RecheckOutcome> {
  const { environment: checked, domains, verdicts } = found;
  const target = `${checked.ref} ${checked.name}`;
  const wasLive = (await tx.selectFrom("environments").select("live_at").where("id", "=", checked.id).forUpdate().executeTakeFirst())?.live_at;
  if (wasLive === undefined) return { kind: "gone" };
  const change = await recordDnsResults(tx, checked, domains, verdicts, { trigger: "recheck" });
  const hostnames = domains.map((domain) => domain.hostname);

  if (change.wentLive) {
    await recordAudit(tx, { org: checked.org, actor: null, action: "env.live", target, details: { trigger: "recheck", attempt: recheck.attempt } });
    await announceInBackground(tx, checked, recheck.askedBy, changeAnnouncement(checked, change, { verdicts, hostnames, background: true })!);
  }
  if (change.live) return { kind: "live", wentLive: change.wentLive };
  if (change.regressed) {
    // Scheduled first: the announcement says when the next re-check is.
    const nextInSeconds = recheckDelaySeconds(1);
    const nextRecheckAt = await scheduleRecheck(rechecks, tx, { environmentId: checked.id, attempt: 1, since: now.toISOString(), askedBy: recheck.askedBy }, nextInSeconds);
    await recordAudit(tx, { org: checked.org, actor: null, action: "env.regressed", target, details: { trigger: "recheck", attempt: recheck.attempt } });
    await announceInBackground(tx, checked, recheck.askedBy, changeAnnouncement(checked, change, { verdicts, hostnames, background: true, ...(nextRecheckAt ? { nextRecheckAt } : {}) })!);
    return { kind: "regressed", nextInSeconds };
  }
  // Live, with a domain that could not be checked: nothing is known to be wrong.
  if (wasLive !== null) return { kind: "unchanged" };

  const next = nextRecheck(recheck, now);
  if (next === "give_up") {
    await recordAudit(tx, { org: checked.org, actor: null, action: "env.golive_gave_up", target, details: { since: recheck.since, attempts: recheck.attempt } });
    await announceInBackground(tx, checked, recheck.askedBy, { kind: "golive.gave_up", payload: { app: checked.ref, env: checked.name, verdicts, since: recheck.since } });
    return { kind: "gave_up" };
  }
  await rechecks?.schedule(tx, { ...recheck, attempt: next.attempt }, next.nextInSeconds);
  return { kind: "waiting", nextInSeconds: next.nextInSeconds };
}

/**
 * The live environments in pages of `size` by id, for the daily re-check: each page's bounds,
 * found in one statement (the last id of every `size`-th live environment, and the last one).
 */
export async function liveEnvironmentPages(platform: Platform, size: number): Promise<Array<{ afterId: number; throughId: number }>> {
  const { rows } = await sql<{ id: number }>`select id from (
      select id, row_number() over (order by id) as position, count(*) over () as live from environments where live_at is not null
    ) numbered
    where position % ${size} = 0 or position = live
    order by id`.execute(platform.db);
  return rows.map((row, index) => ({ afterId: index === 0 ? 0 : rows[index - 1]!.id, throughId: row.id }));
}

/** A page of the daily sweep: the live environments with ids after `afterId`, up to and including `throughId`. */
export interface SweepPage {
  afterId: number;
  throughId: number;
  /** When the sweep began (ISO 8601): an environment found no longer live is re-checked as awaiting DNS since then. */
  since: string;
}

/** A page's live environments with their domains' verdicts, as DNS gave them outside any transaction. */
export interface CheckedPage {
  page: SweepPage;
  environments: CheckedDomains[];
}

/** What one page of the daily sweep came to. */
export interface SweepOutcome {
  /** Environments still live with no domain failing: only their checks and statuses were written. */
  unchanged: number;
  /** Environments with a failing domain, or no longer live, taken through a re-check's transitions: their outcomes by kind. */
  moved: Partial<Record<RecheckOutcome["kind"], number>>;
  /** Environments deleted since the page was read. */
  gone: number;
}

/**
 * The first half of a page of the daily sweep, outside any transaction: one query reads the
 * page's live environments with their domains, and one `verifyInBulk` asks DNS of every hostname
 * (at most `DNS_CONCURRENCY` at once). An environment without domains has nothing to check.
 */
export async function checkSweepPage(platform: Platform, page: SweepPage): Promise<CheckedPage> {
  const rows = await platform.db
    .selectFrom("environments as e")
    .innerJoin("applications as a", "a.id", "e.application_id")
    .innerJoin("orgs as o", "o.id", "a.org_id")
    .innerJoin("domains as d", "d.environment_id", "e.id")
    .select(["e.id", "e.name", "a.id as application_id", "a.slug as app_slug", "o.id as org_id", "o.slug as org_slug", "d.id as domain_id", "d.hostname"])
    .where("e.live_at", "is not", null)
    .where("e.id", ">", page.afterId)
    .where("e.id", "<=", page.throughId)
    .orderBy("e.id")
    .orderBy("d.hostname")
    .execute();
  const verdicts = await platform.dns.verifyInBulk(rows.map((row) => row.hostname));
  const environments: CheckedDomains[] = [];
  rows.forEach((row, index) => {
    let last = environments.at(-1);
    if (last?.environment.id !== row.id) {
      const environment = { id: row.id, ref: `${row.org_slug}/${row.app_slug}`, name: row.name, org: { id: row.org_id, slug: row.org_slug }, applicationId: row.application_id };
      last = { environment, domains: [], verdicts: [] };
      environments.push(last);
    }
    last.domains.push({ id: row.domain_id, hostname: row.hostname });
    last.verdicts.push(verdicts[index]!);
  });
  return { page, environments };
}

/**
 * The second half of a page of the daily sweep, in one transaction that locks the page's
 * environments and domains. An environment still live with no domain failing only gets its
 * checks and statuses, written for the whole page in one statement. Any other (a domain
 * fails, or it stopped being live meanwhile) goes through a re-check's transitions one by one,
 * so it is announced, audited and re-checked exactly as a single re-check would. Environments
 * deleted meanwhile, and domains removed, get nothing. Run it with `onceForRequest` keyed by
 * the job, so that a page that runs twice takes effect once.
 */
export async function recordSweepPage(platform: Platform, checked: CheckedPage, now = new Date()): Promise<SweepOutcome> {
  const outcome: SweepOutcome = { unchanged: 0, moved: {}, gone: 0 };
  const ids = checked.environments.map((found) => found.environment.id);
  return inTransaction(platform, async (tx) => {
    if (ids.length === 0) return outcome;
    // In id order, as every page locks them. Domains are locked by the update that stores their checks.
    const liveAt = new Map((await tx.selectFrom("environments").select(["id", "live_at"]).where("id", "in", ids).orderBy("id").forUpdate().execute()).map((row) => [row.id, row.live_at]));
    const quiet: Array<{ domain: { id: number; hostname: string }; verdict: Verdict }> = [];
    const quietIn: number[] = [];
    const moving: CheckedDomains[] = [];
    for (const found of checked.environments) {
      const wasLive = liveAt.get(found.environment.id);
      if (wasLive === undefined) outcome.gone += 1;
      else if (wasLive === null || found.verdicts.some((verdict) => verdict.status === "fails")) moving.push(found);
      else {
        outcome.unchanged += 1;
        found.domains.forEach((domain, index) => {
          quiet.push({ domain, verdict: found.verdicts[index]! });
          quietIn.push(found.environment.id);
        });
      }
    }
    await storeChecks(tx, quiet, { trigger: "recheck" }, quietIn);
    for (const found of moving) {
      const recheck: Recheck = { environmentId: found.environment.id, attempt: 0, since: checked.page.since, askedBy: null };
      const { kind } = await settleRecheck(tx, platform.rechecks, found, recheck, now);
      outcome.moved[kind] = (outcome.moved[kind] ?? 0) + 1;
    }
    return outcome;
  });
}
