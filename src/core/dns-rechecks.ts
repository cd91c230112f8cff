import { recordAudit } from "./audit.ts";
import { changeAnnouncement, domainsOf, nextRecheck, recheckDelaySeconds, recordDnsResults, scheduleRecheck, type CheckedEnvironment } from "./golive.ts";
import { announceInBackground } from "./notifications.ts";
import { inTransaction, type Platform, type Recheck } from "./platform.ts";

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
  const target = `${checked.ref} ${checked.name}`;

  return inTransaction(platform, async (tx) => {
    const wasLive = (await tx.selectFrom("environments").select("live_at").where("id", "=", checked.id).forUpdate().executeTakeFirst())?.live_at;
    if (wasLive === undefined) return { kind: "gone" } as const;
    const change = await recordDnsResults(tx, checked, domains, verdicts, { trigger: "recheck" });
    const hostnames = domains.map((domain) => domain.hostname);

    if (change.wentLive) {
      await recordAudit(tx, { org: checked.org, actor: null, action: "env.live", target, details: { trigger: "recheck", attempt: recheck.attempt } });
      await announceInBackground(tx, checked, recheck.askedBy, changeAnnouncement(checked, change, { verdicts, hostnames, background: true })!);
    }
    if (change.live) return { kind: "live", wentLive: change.wentLive } as const;
    if (change.regressed) {
      // Scheduled first: the announcement says when the next re-check is.
      const nextInSeconds = recheckDelaySeconds(1);
      const nextRecheckAt = await scheduleRecheck(platform.rechecks, tx, { environmentId: checked.id, attempt: 1, since: now.toISOString(), askedBy: recheck.askedBy }, nextInSeconds);
      await recordAudit(tx, { org: checked.org, actor: null, action: "env.regressed", target, details: { trigger: "recheck", attempt: recheck.attempt } });
      await announceInBackground(tx, checked, recheck.askedBy, changeAnnouncement(checked, change, { verdicts, hostnames, background: true, ...(nextRecheckAt ? { nextRecheckAt } : {}) })!);
      return { kind: "regressed", nextInSeconds } as const;
    }
    // Live, with a domain that could not be checked: nothing is known to be wrong.
    if (wasLive !== null) return { kind: "unchanged" } as const;

    const next = nextRecheck(recheck, now);
    if (next === "give_up") {
      await recordAudit(tx, { org: checked.org, actor: null, action: "env.golive_gave_up", target, details: { since: recheck.since, attempts: recheck.attempt } });
      await announceInBackground(tx, checked, recheck.askedBy, { kind: "golive.gave_up", payload: { app: checked.ref, env: checked.name, verdicts, since: recheck.since } });
      return { kind: "gave_up" } as const;
    }
    await platform.rechecks?.schedule(tx, { ...recheck, attempt: next.attempt }, next.nextInSeconds);
    return { kind: "waiting", nextInSeconds: next.nextInSeconds } as const;
  });
}

/** The live environments, for the daily re-check: ids only, in order, `limit` after `afterId`. */
export async function liveEnvironmentIds(platform: Platform, page: { afterId: number; limit: number }): Promise<number[]> {
  const rows = await platform.db.selectFrom("environments").select("id").where("live_at", "is not", null).where("id", ">", page.afterId).orderBy("id").limit(page.limit).execute();
  return rows.map((row) => row.id);
}
