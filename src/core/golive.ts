import { sql } from "kysely";
import type { DnsStatus } from "../db/schema.ts";
import type { Verdict } from "../dns/verify.ts";
import { recordAudit } from "./audit.ts";
import { findEnvironmentAsMember } from "./environments.ts";
import { Invalid } from "./errors.ts";
import { notify } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";

/** What checks hostnames against DNS; `DnsVerifier` is one. */
export interface DnsChecker {
  verifyAll(hostnames: string[]): Promise<Verdict[]>;
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
  /** Whether the results went to a channel (the app's or the org's); else only the answer shows them. */
  posted: boolean;
}

/** The domain status a verdict leaves; "could not check" is never a failure. */
const statusOf: Record<Verdict["status"], DnsStatus> = { passes: "passing", fails: "failing", could_not_check: "unknown" };

/**
 * `golive <app> <env>`: checks every domain of the environment against DNS now, outside any
 * transaction, then in one transaction stores each check, updates each domain's status,
 * marks the environment live when every domain passes, and writes the results and the go-live
 * announcement to the outbox.
 */
export async function goLive(platform: Platform, input: { actor: Actor; app: string; env: string; dns: DnsChecker }): Promise<GoLiveResult> {
  const environment = await findEnvironmentAsMember(platform.db, input.actor, input.app, input.env);
  authorize(environment.role, "build", `environment ${input.env} of ${input.app} not found`);
  const domains = await platform.db.selectFrom("domains").select(["id", "hostname"]).where("environment_id", "=", environment.id).orderBy("hostname").execute();
  if (domains.length === 0) throw new Invalid(`${environment.ref} ${environment.name} has no domains yet: add one with domain add ${environment.ref} ${environment.name} <hostname>`, "env");
  const verdicts = await input.dns.verifyAll(domains.map((domain) => domain.hostname));
  const live = verdicts.every((verdict) => verdict.status === "passes");

  return inTransaction(platform, async (tx) => {
    await tx
      .insertInto("dns_checks")
      .values(
        domains.map((domain, index) => {
          const verdict = verdicts[index]!;
          return {
            domain_id: domain.id,
            hostname: domain.hostname,
            verdict: verdict.status,
            expected: verdict.expectedTarget,
            found: JSON.stringify(verdict.status === "passes" ? [verdict.found] : verdict.status === "fails" ? verdict.found : [verdict.reason]),
            record_to_create: verdict.status === "fails" ? verdict.recordToCreate : null,
            checked_by: input.actor.userId,
            trigger: "golive" as const,
          };
        }),
      )
      .execute();
    for (const [index, domain] of domains.entries()) {
      await tx.updateTable("domains").set({ dns_status: statusOf[verdicts[index]!.status], dns_checked_at: sql<Date>`now()` }).where("id", "=", domain.id).execute();
    }
    // Marked live once: a second passing check changes nothing, and announces nothing.
    const wentLive = live
      ? (await tx.updateTable("environments").set({ live_at: sql<Date>`now()` }).where("id", "=", environment.id).where("live_at", "is", null).returning("id").execute()).length > 0
      : false;
    const counts = { passes: verdicts.filter((v) => v.status === "passes").length, fails: verdicts.filter((v) => v.status === "fails").length, couldNotCheck: verdicts.filter((v) => v.status === "could_not_check").length };
    await recordAudit(tx, { org: environment.org, actor: input.actor, action: "env.golive", target: `${environment.ref} ${environment.name}`, details: { ...counts, live, wentLive } });
    const app = { id: environment.applicationId };
    const posted = await notify(tx, { org: environment.org, app, actor: input.actor, kind: "golive.results", payload: { app: environment.ref, env: environment.name, verdicts, live } });
    if (wentLive) await notify(tx, { org: environment.org, app, actor: input.actor, kind: "env.live", payload: { app: environment.ref, env: environment.name, hostnames: domains.map((domain) => domain.hostname) } });
    return { app: environment.ref, env: environment.name, verdicts, live, wentLive, posted };
  });
}
