import { sql, type Kysely } from "kysely";
import type { Database, Role, RoleRequestStatus } from "../db/schema.ts";
import { alreadyDecided, describeProgress, grantApprovalsRequired, type ApprovalProgress } from "./approvals.ts";
import { recordAudit } from "./audit.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "./errors.ts";
import { editRequestMessages, notify, notifyPeople, type NotifiedPerson } from "./notifications.ts";
import { authorize } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Tx } from "./platform.ts";

/** How long a role request lives, from its creation: as long as an invitation. */
export const roleRequestLifetimeHours = 48;

/** A request to make a member admin or owner, as people see it. */
export interface RoleRequest extends ApprovalProgress {
  id: number;
  org: string;
  member: NotifiedPerson;
  from: Role;
  to: "owner" | "admin";
  /** Its status now: a pending request past its time reads `expired` before the sweep marks it. */
  status: RoleRequestStatus;
  requestedBy: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  denyReason: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * What a decision came to: an approval that does not reach the threshold yet; the role
 * granted (`approved`); or `denied`.
 */
export type RoleRequestOutcome = { kind: "approved_once" | "approved" | "denied"; request: RoleRequest };

/**
 * Opens a request to make `member` admin or owner, in the transaction of `member role` (which
 * has checked the member, the role and who may ask, with the org locked). Returns null when the
 * requester is the org's only owner or admin: nobody else could approve, so the change applies
 * as made. A member with a request waiting is answered with it.
 */
export async function openRoleRequest(
  tx: Tx,
  input: {
    actor: Actor;
    org: { id: number; slug: string };
    /** The member and their role now. */
    member: { userId: number; displayName: string; email: string; role: Role };
    to: "owner" | "admin";
  },
): Promise<RoleRequest | null> {
  const { actor, org, member, to } = input;
  const approvalsRequired = await grantApprovalsRequired(tx, org, actor.userId, member.userId);
  if (approvalsRequired === 0) return null;
  // A waiting request past its time no longer counts; the sweep would mark it soon anyway.
  await tx.updateTable("role_requests").set({ status: "expired" }).where("org_id", "=", org.id).where("member_id", "=", member.userId).where("status", "=", "pending").where("expires_at", "<=", sql<Date>`now()`).execute();
  // The org is locked by the caller, so two requests for one member come here in turn.
  const waiting = await requestRows(tx).where("r.org_id", "=", org.id).where("r.member_id", "=", member.userId).where("r.status", "=", "pending").executeTakeFirst();
  if (waiting) {
    const request = toRoleRequest(waiting);
    throw new Conflict(`${member.displayName} already has a request waiting to become ${request.to} (request ${request.id}, ${describeProgress(request)}): decide it with member approve ${request.id} or member deny ${request.id}`);
  }
  const created = await tx
    .insertInto("role_requests")
    .values({ org_id: org.id, member_id: member.userId, from_role: member.role, role: to, requested_by: actor.userId, status: "pending", approvals_required: approvalsRequired })
    .returning("id")
    .executeTakeFirstOrThrow();
  await recordAudit(tx, { org, actor, action: "member.role_request", target: member.email, details: { request: created.id, from: member.role, to, approvalsRequired } });
  await notifyPeople(tx, {
    kind: "role.requested",
    payload: { org: org.slug, request: created.id, member: { name: member.displayName, email: member.email }, from: member.role, to, approvals: approvalsRequired },
    actor,
    org,
    to: { channelElse: "administrators" },
  });
  return readRoleRequest(tx, created.id);
}

/**
 * `member approve` / `member deny` and their buttons: an owner or admin other than the requester
 * decides. Each approval counts once per person; the one that reaches the request's threshold
 * changes the role, and any denial ends the request. The org and the request are locked first,
 * so approvers clicking at the same moment each count once, in turn.
 */
export async function decideRoleRequest(
  platform: Platform,
  input: { actor: Actor; id: string | number; decision: "approve" | "deny"; reason?: string | undefined },
): Promise<RoleRequestOutcome> {
  const id = roleRequestId(input.id);
  const reason = input.reason === undefined ? undefined : parseReason(input.reason);
  return inTransaction(platform, async (tx) => {
    const { row, request } = await undecidedRoleRequest(tx, input.actor, id, { lock: true });
    const org = { id: row.org_id, slug: row.slug };
    if (input.decision === "deny") {
      await tx.updateTable("role_requests").set({ status: "denied", decided_by: input.actor.userId, decided_at: sql<Date>`now()`, deny_reason: reason ?? null }).where("id", "=", id).execute();
      await recordAudit(tx, { org, actor: input.actor, action: "member.role_deny", target: request.member.email, details: { request: id, to: request.to, ...(reason ? { reason } : {}) } });
      return settle(tx, { kind: "denied", request: await readRoleRequest(tx, id) }, row.requested_by, input.actor, org);
    }
    if (await tx.selectFrom("role_request_approvals").select("approver_id").where("request_id", "=", id).where("approver_id", "=", input.actor.userId).executeTakeFirst()) {
      throw new Conflict(`you already approved request ${id}: ${describeProgress(request)}; another owner or admin must approve it too`);
    }
    await tx.insertInto("role_request_approvals").values({ request_id: id, approver_id: input.actor.userId }).execute();
    const counted = await readRoleRequest(tx, id);
    const approvals = counted.approvedBy.length;
    await recordAudit(tx, { org, actor: input.actor, action: "member.role_approve", target: request.member.email, details: { request: id, to: request.to, approvals, approvalsRequired: counted.approvalsRequired } });
    if (approvals < counted.approvalsRequired) {
      const { member, from, to, approvalsRequired, approvedBy } = counted;
      await editRequestMessages(tx, {
        request: { kind: "role.requested", id },
        edit: { kind: "role.progress", payload: { org: org.slug, request: id, member, from, to, approvals: approvalsRequired, approvedBy } },
        actor: input.actor,
      });
      return { kind: "approved_once", request: counted };
    }
    // The member's role now, under the org's lock: it may have changed since the request.
    const membership = await tx.selectFrom("memberships").select("role").where("org_id", "=", org.id).where("user_id", "=", row.member_id).executeTakeFirst();
    if (!membership) throw new Conflict(`${request.member.name} is no longer a member of ${org.slug}: deny request ${id}, or let it expire`);
    await tx.updateTable("role_requests").set({ status: "approved", decided_by: input.actor.userId, decided_at: sql<Date>`now()` }).where("id", "=", id).execute();
    await tx.updateTable("memberships").set({ role: request.to }).where("org_id", "=", org.id).where("user_id", "=", row.member_id).execute();
    await recordAudit(tx, { org, actor: input.actor, action: "member.role", target: request.member.email, details: { from: membership.role, to: request.to, request: id, approvedBy: counted.approvedBy } });
    await notify(tx, { org, actor: input.actor, kind: "member.role_changed", payload: { org: org.slug, member: request.member, from: membership.role, to: request.to } });
    return settle(tx, { kind: "approved", request: await readRoleRequest(tx, id) }, row.requested_by, input.actor, org);
  });
}

/**
 * Throws what deciding role request `id` would be refused with, writing nothing: for a surface
 * that asks more (a reason to deny) before deciding, so a refusal comes before the question.
 */
export async function checkMayDecideRoleRequest(platform: Platform, input: { actor: Actor; id: string | number }): Promise<RoleRequest> {
  return (await undecidedRoleRequest(platform.db, input.actor, roleRequestId(input.id), { lock: false })).request;
}

/** An org's waiting role requests, oldest first (owners and admins see them in `member list`). */
export async function pendingRoleRequests(db: Kysely<Database>, orgId: number): Promise<RoleRequest[]> {
  const rows = await requestRows(db).where("r.org_id", "=", orgId).where("r.status", "=", "pending").where("r.expires_at", ">", sql<Date>`now()`).orderBy("r.id").limit(20).execute();
  return rows.map(toRoleRequest);
}

/**
 * Role requests the actor could approve now: waiting, unexpired, in orgs where they are an owner
 * or admin, asked for by someone else, not about them, not approved by them yet; oldest first,
 * at most `limit`, with how many there are.
 */
export async function roleRequestsAwaiting(platform: Platform, input: { actor: Actor; limit: number }): Promise<{ total: number; requests: RoleRequest[] }> {
  const rows = await requestRows(platform.db)
    .innerJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "r.org_id").on("me.user_id", "=", input.actor.userId))
    .select(sql<number>`count(*) over ()`.as("total"))
    .where("me.role", "in", ["owner", "admin"])
    .where("r.status", "=", "pending")
    .where("r.expires_at", ">", sql<Date>`now()`)
    .where("r.member_id", "!=", input.actor.userId)
    .where((eb) => eb.or([eb("r.requested_by", "is", null), eb("r.requested_by", "!=", input.actor.userId)]))
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("role_request_approvals as a").select("a.approver_id").whereRef("a.request_id", "=", "r.id").where("a.approver_id", "=", input.actor.userId))),
    )
    .orderBy("r.id")
    .limit(input.limit)
    .execute();
  return { total: Number(rows[0]?.total ?? 0), requests: rows.map(toRoleRequest) };
}

/**
 * Marks waiting role requests past their time as expired, and returns them, editing the
 * messages showing them. Safe to run from several processes at once.
 */
export async function expireRoleRequests(db: Kysely<Database>): Promise<RoleRequest[]> {
  return db.transaction().execute(async (tx) => {
    const expired = await tx.updateTable("role_requests").set({ status: "expired" }).where("status", "=", "pending").where("expires_at", "<=", sql<Date>`now()`).returning("id").execute();
    if (expired.length === 0) return [];
    const rows = await requestRows(tx).where("r.id", "in", expired.map((row) => row.id)).orderBy("r.id").execute();
    const requests = rows.map(toRoleRequest);
    for (const request of requests) await editSettled(tx, request, null);
    return requests;
  });
}

async function settle(tx: Tx, outcome: RoleRequestOutcome, requestedBy: number | null, actor: Actor, org: { id: number; slug: string }): Promise<RoleRequestOutcome> {
  const { request } = outcome;
  await editSettled(tx, request, actor);
  if (requestedBy !== null && requestedBy !== actor.userId) {
    await notifyPeople(tx, {
      kind: "role.decided",
      payload: { org: org.slug, request: request.id, member: request.member, to: request.to, status: request.status, reason: request.denyReason },
      actor,
      org,
      to: { users: [requestedBy] },
    });
  }
  return outcome;
}

async function editSettled(tx: Tx, request: RoleRequest, actor: Actor | null): Promise<void> {
  const { id, org, member, from, to, status, decidedBy, decidedAt, approvedBy } = request;
  await editRequestMessages(tx, {
    request: { kind: "role.requested", id },
    edit: { kind: "role.settled", payload: { org, request: id, member, from, to, status, decidedBy, decidedAt: decidedAt?.toISOString() ?? null, approvedBy } },
    actor,
  });
}

/** A waiting request the actor may decide, locked (with its org) when `lock` is set; else what refuses it. */
async function undecidedRoleRequest(db: Kysely<Database>, actor: Actor, id: number, options: { lock: boolean }) {
  if (options.lock) {
    // The org first, in the order `member role` takes its locks: a decision and a role change wait for each other.
    const org = await db.selectFrom("role_requests").select("org_id").where("id", "=", id).executeTakeFirst();
    if (org) await db.selectFrom("orgs").select("id").where("id", "=", org.org_id).forUpdate().execute();
  }
  const query = db
    .selectFrom("role_requests as r")
    .innerJoin("orgs as o", "o.id", "r.org_id")
    .leftJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "r.org_id").on("me.user_id", "=", actor.userId))
    .select(["r.id", "r.org_id", "o.slug", "r.member_id", "r.requested_by", "me.role as actor_role"])
    .where("r.id", "=", id);
  const row = await (options.lock ? query.forUpdate(["r"]) : query).executeTakeFirst();
  // Someone outside the org learns nothing about its requests.
  if (!row || row.actor_role === null) throw new NotFound(`role request ${id} not found`);
  authorize(row.actor_role, "administer", `role request ${id} not found`);
  if (row.requested_by === actor.userId) throw new Forbidden("you asked for this role change: another owner or admin must decide it");
  if (row.member_id === actor.userId) throw new Forbidden("this role change is yours: another owner or admin must decide it");
  const request = toRoleRequest(await requestRows(db).where("r.id", "=", id).executeTakeFirstOrThrow());
  if (request.status !== "pending") throw new Conflict(alreadyDecided("role request", request, { approvedBy: request.approvedBy.join(" and ") }));
  return { row, request };
}


function requestRows(db: Kysely<Database>) {
  return db
    .selectFrom("role_requests as r")
    .innerJoin("orgs as o", "o.id", "r.org_id")
    .innerJoin("users as member", "member.id", "r.member_id")
    .leftJoin("users as requester", "requester.id", "r.requested_by")
    .leftJoin("users as decider", "decider.id", "r.decided_by")
    .select([
      "r.id",
      "o.slug",
      "member.display_name as member_name",
      "member.email as member_email",
      "r.from_role",
      "r.role",
      sql<RoleRequestStatus>`case when r.status = 'pending' and r.expires_at <= now() then 'expired' else r.status end`.as("status"),
      "requester.display_name as requested_by",
      "decider.display_name as decided_by",
      "r.decided_at",
      "r.deny_reason",
      "r.created_at",
      "r.expires_at",
      "r.approvals_required",
      // Approvals count while their givers are still owners or admins of the org.
      sql<string[]>`array(
        select u.display_name from role_request_approvals a
        join users u on u.id = a.approver_id
        join memberships m on m.user_id = a.approver_id and m.org_id = r.org_id and m.role in ('owner', 'admin')
        where a.request_id = r.id
        order by a.approved_at, a.approver_id)`.as("approved_by"),
    ]);
}

async function readRoleRequest(tx: Kysely<Database>, id: number): Promise<RoleRequest> {
  return toRoleRequest(await requestRows(tx).where("r.id", "=", id).executeTakeFirstOrThrow());
}

function toRoleRequest(row: {
  id: number;
  slug: string;
  member_name: string;
  member_email: string;
  from_role: Role;
  role: "owner" | "admin";
  status: RoleRequestStatus;
  requested_by: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  deny_reason: string | null;
  created_at: Date;
  expires_at: Date;
  approvals_required: number;
  approved_by: string[] | null;
}): RoleRequest {
  return {
    id: row.id,
    org: row.slug,
    member: { name: row.member_name, email: row.member_email },
    from: row.from_role,
    to: row.role,
    status: row.status,
    requestedBy: row.requested_by,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    denyReason: row.deny_reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    approvalsRequired: row.approvals_required,
    approvedBy: row.approved_by ?? [],
  };
}

function roleRequestId(raw: string | number): number {
  const text = String(raw).trim().replace(/^#/, "");
  if (!/^\d{1,9}$/.test(text)) throw new Invalid(`${text.slice(0, 40)} is not a role request id: use the number member list shows`, "id");
  return Number(text);
}

function parseReason(raw: string): string | undefined {
  const reason = raw.replace(/\p{Cc}/gu, " ").trim();
  if (reason.length > 500) throw new Invalid("the reason is too long (500 characters at most)", "reason");
  return reason === "" ? undefined : reason;
}

