import type { Kysely } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import { Conflict, Invalid } from "./errors.ts";

/** The least and most approvals an org's policy may ask for granting admin or owner. */
export const approvalPolicyRange = { min: 1, max: 3 } as const;

/** Where a request stands: how many approvals it takes, and who has given one that counts. */
export interface ApprovalProgress {
  /** Approvals it takes in all (0 for something approved as it was made). */
  approvalsRequired: number;
  /** Display names of the owners and admins whose approval counts, in the order they gave it. */
  approvedBy: string[];
}

/** True when changing `from` to `to` grants admin or owner: a promotion to one of the highest roles. */
export function grantsHighRole(from: Role, to: Role): boolean {
  const rank: Record<Role, number> = { owner: 0, admin: 1, developer: 2, viewer: 3 };
  return (to === "owner" || to === "admin") && rank[to] < rank[from];
}

/** Parses `--approvals`: 1, 2 or 3, nothing else. */
export function parseApprovalPolicy(raw: string | number | undefined): number {
  const text = raw === undefined ? "" : String(raw).trim();
  if (text === "") throw new Invalid("say how many approvals granting admin or owner takes: --approvals 1, 2 or 3", "approvals");
  if (!/^[1-3]$/.test(text)) {
    throw new Invalid(`--approvals must be 1, 2 or 3 (owners or admins other than the one who asks), not ${text.slice(0, 20)}`, "approvals");
  }
  return Number(text);
}

/**
 * How many approvals granting admin or owner takes when `requesterId` asks, in org `org`: the
 * org's threshold of owners or admins other than the requester. An org whose only owner or admin
 * is the requester has nobody else who could ever approve: that owner's grant applies as made
 * (0). An org with fewer others than its threshold is refused, so no request waits for ever.
 */
export async function grantApprovalsRequired(
  db: Kysely<Database>,
  org: { id: number; slug: string },
  requesterId: number,
  /** The member a role change is for: they may not approve their own promotion. */
  memberId?: number,
): Promise<number> {
  const row = await db
    .selectFrom("orgs as o")
    .select((eb) => [
      "o.approvals_required",
      eb
        .selectFrom("memberships as m")
        .select(eb.fn.countAll<number>().as("n"))
        .whereRef("m.org_id", "=", "o.id")
        .where("m.role", "in", ["owner", "admin"])
        .where("m.user_id", "not in", [requesterId, memberId ?? requesterId])
        .as("others"),
      eb.selectFrom("memberships as me").select("me.role").whereRef("me.org_id", "=", "o.id").where("me.user_id", "=", requesterId).as("requester_role"),
    ])
    .where("o.id", "=", org.id)
    .executeTakeFirstOrThrow();
  const others = Number(row.others ?? 0);
  const required = row.approvals_required;
  if (others === 0 && row.requester_role === "owner") return 0;
  if (others < required) {
    throw new Conflict(
      `granting admin or owner in ${org.slug} takes ${approvalCount(required)} from owners or admins other than you, and it has ${others}: ` +
        `an owner can lower that with org policy ${org.slug} --approvals ${Math.max(approvalPolicyRange.min, others)}`,
    );
  }
  return required;
}

/** "1 of 2 approvals: approved by ana" */
export function describeProgress(progress: ApprovalProgress): string {
  const given = `${progress.approvedBy.length} of ${approvalCount(progress.approvalsRequired)}`;
  return progress.approvedBy.length === 0 ? given : `${given}: approved by ${progress.approvedBy.join(", ")}`;
}

/** "1 approval", "2 approvals". */
export function approvalCount(n: number): string {
  return `${n} approval${n === 1 ? "" : "s"}`;
}

/** A request that is no longer waiting, as `alreadyDecided` names it. */
export interface DecidedRequest {
  id: number;
  status: string;
  decidedBy: string | null;
  decidedAt: Date | null;
  expiresAt: Date;
}

/**
 * Why a request (`noun` 12, like `invitation 12`) can no longer be decided: it expired, or who
 * denied or approved it and when. `approvedBy` names the approvers when more than the decider
 * counted; `after` adds what the approval led to.
 */
export function alreadyDecided(noun: string, request: DecidedRequest, options: { approvedBy?: string; after?: string } = {}): string {
  const who = request.decidedBy ?? "someone no longer here";
  const when = request.decidedAt === null ? "an unknown time" : utc(request.decidedAt);
  if (request.status === "expired") return `${noun} ${request.id} expired at ${utc(request.expiresAt)}`;
  if (request.status === "denied") return `${noun} ${request.id} was already denied by ${who} at ${when}`;
  return `${noun} ${request.id} was already approved by ${options.approvedBy || who} at ${when}${options.after ?? ""}`;
}

/** A moment as errors show it, to the minute, in UTC: `2026-11-25 21:38 UTC`. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
