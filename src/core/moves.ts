import { sql, type Kysely } from "kysely";
import type { ApplicationMoveStatus, Database } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { findApplicationAsMember, findOrgAsMember, type ApplicationAccess } from "./access.ts";
import { alreadyDecided, utc } from "./approvals.ts";
import { recordAudit } from "./audit.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "./errors.ts";
import { editRequestMessages, notifyPeople } from "./notifications.ts";
import { article, may } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Tx } from "./platform.ts";

// An agency hands an application over to its client's org (`app move`). The application row
// changes org; its environments, domains, DNS checks and repository (kept by application id
// under GIT_ROOT) come with it unchanged. Access always goes through the application's org
// of the moment (access.ts, pushes.ts), so people outside the target lose it with the move.

/** How long a move request waits for a decision, from its creation: as long as an invitation. */
export const moveLifetimeHours = 48;

/** A request to move an application, as people see it. */
export interface ApplicationMove {
  id: number;
  /** The application's slug: the same in both orgs. */
  slug: string;
  /** `org/app` before the move. */
  app: string;
  /** `org/app` after it. */
  movedTo: string;
  from: string;
  to: string;
  /** Its status now: a waiting request past its time reads `expired` before the sweep marks it. */
  status: ApplicationMoveStatus;
  requestedBy: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  denyReason: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * What `app move` or a decision came to: the application moved (with how many environments and
 * domains went with it), a request waiting for the target's owners and admins, or a denial.
 */
export type MoveOutcome =
  | { kind: "moved"; move: ApplicationMove; environments: number; domains: number }
  | { kind: "requested"; move: ApplicationMove }
  | { kind: "denied"; move: ApplicationMove };

/**
 * `app move <app> --to <org>`: an owner or admin of the application's org moves it to another
 * org they are a member of. Owner or admin there too, it moves at once; otherwise the target's
 * owners and admins are asked, with buttons, and the request lives 48 hours. An application
 * with a move waiting gets no second one, and a slug the target already uses is refused.
 */
export async function requestMove(platform: Platform, input: { actor: Actor; app: string; to: string | undefined }): Promise<MoveOutcome> {
  if (input.to === undefined || input.to.trim() === "") throw new Invalid("say which org to move it to: add --to <org>", "to");
  const app = await findApplicationAsMember(platform.db, input.actor, input.app);
  const ref = `${app.org.slug}/${app.slug}`;
  if (!may(app.role, "administer")) {
    throw new Forbidden(`you are ${article(app.role)} ${app.role} of ${app.org.slug}: only an owner or admin can move an application out of its org`);
  }
  // The target is one of the actor's orgs: one they are not in reads as not found (SPEC §1).
  const target = await findOrgAsMember(platform.db, input.actor, input.to.trim());
  if (target.id === app.org.id) throw new Invalid(`${ref} is already in ${target.slug}: name another org with --to`, "to");

  return inTransaction(platform, async (tx) => {
    // The application's row first, as a decision takes it: requests and decisions of one application go in turn.
    await lockMovable(tx, app, ref);
    // Roles are read again under the lock: they may have changed since they were checked.
    const roles = await rolesOf(tx, input.actor, [app.org.id, target.id]);
    if (!may(roles.get(app.org.id) ?? "viewer", "administer")) throw new Forbidden(`only an owner or admin of ${app.org.slug} can move an application out of it`);
    await expireStale(tx, app.id);
    const waiting = await moveRows(tx).where("mv.application_id", "=", app.id).where("mv.status", "=", "pending").executeTakeFirst();
    if (waiting) {
      const move = toMove(waiting);
      throw new Conflict(`${ref} already has a move to ${move.to} waiting (move ${move.id}, until ${utc(move.expiresAt)}): it must be decided or expire first`, "app");
    }
    await assertSlugFree(tx, { id: target.id, slug: target.slug }, app.slug);
    const direct = may(roles.get(target.id) ?? "viewer", "administer");
    const created = await tx
      .insertInto("application_moves")
      .values({
        application_id: app.id,
        from_org_id: app.org.id,
        to_org_id: target.id,
        requested_by: input.actor.userId,
        status: direct ? "approved" : "pending",
        ...(direct ? { decided_by: input.actor.userId, decided_at: sql<Date>`now()` } : {}),
      })
      .returning("id")
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        if (isUniqueViolation(error, "application_moves_live_key")) throw new Conflict(`${ref} already has a move waiting: it must be decided or expire first`, "app");
        throw error;
      });
    if (direct) {
      const moved = await applyMove(tx, { id: created.id, applicationId: app.id, slug: app.slug, from: app.org, to: target, actor: input.actor });
      return { kind: "moved", move: await readMove(tx, created.id), ...moved };
    }
    await recordAudit(tx, { org: app.org, actor: input.actor, action: "app.move_request", target: ref, details: { move: created.id, to: target.slug } });
    await notifyPeople(tx, {
      kind: "app.move_requested",
      payload: { move: created.id, app: ref, to: target.slug },
      actor: input.actor,
      org: target,
      to: { channelElse: "administrators" },
    });
    return { kind: "requested", move: await readMove(tx, created.id) };
  });
}

/**
 * `move approve` / `move deny` and their buttons: an owner or admin of the target org, other than
 * the requester, decides, with their authority read at that moment. The application and the
 * request are locked first, so two clicks at once make one decision, and the second is told.
 */
export async function decideMove(
  platform: Platform,
  input: { actor: Actor; id: string | number; decision: "approve" | "deny"; reason?: string | undefined },
): Promise<MoveOutcome> {
  const id = moveId(input.id);
  const reason = input.reason === undefined ? undefined : parseReason(input.reason);
  return inTransaction(platform, async (tx) => {
    const { row, move } = await undecidedMove(tx, input.actor, id, { lock: true });
    const from = { id: row.from_org_id, slug: move.from };
    const to = { id: row.to_org_id, slug: move.to };
    if (input.decision === "deny") {
      await tx.updateTable("application_moves").set({ status: "denied", decided_by: input.actor.userId, decided_at: sql<Date>`now()`, deny_reason: reason ?? null }).where("id", "=", id).execute();
      for (const org of [from, to]) {
        await recordAudit(tx, { org, actor: input.actor, action: "app.move_deny", target: move.app, details: { move: id, to: to.slug, ...(reason ? { reason } : {}) } });
      }
      return settle(tx, { kind: "denied", move: await readMove(tx, id) }, row.requested_by, input.actor, from);
    }
    // Still where it was asked to move from, and still the requester's to give away.
    const application = await tx.selectFrom("applications").select("org_id").where("id", "=", row.application_id).executeTakeFirst();
    if (application?.org_id !== from.id) throw new Conflict(`${move.app} is no longer in ${from.slug}: deny move ${id}, or let it expire`);
    const requesterRole = row.requested_by === null ? undefined : (await rolesOf(tx, { userId: row.requested_by }, [from.id])).get(from.id);
    if (requesterRole === undefined || !may(requesterRole, "administer")) {
      throw new Conflict(`${move.requestedBy ?? "the requester"} is no longer an owner or admin of ${from.slug}: deny move ${id}, or let it expire`);
    }
    await assertSlugFree(tx, to, move.slug);
    await tx.updateTable("application_moves").set({ status: "approved", decided_by: input.actor.userId, decided_at: sql<Date>`now()` }).where("id", "=", id).execute();
    const moved = await applyMove(tx, { id, applicationId: row.application_id, slug: move.slug, from, to, actor: input.actor });
    return settle(tx, { kind: "moved", move: await readMove(tx, id), ...moved }, row.requested_by, input.actor, from);
  });
}

/**
 * Throws what deciding move `id` would be refused with, writing nothing: for a surface that asks
 * more (a reason to deny) before deciding, so a refusal comes before the question.
 */
export async function checkMayDecideMove(platform: Platform, input: { actor: Actor; id: string | number }): Promise<ApplicationMove> {
  return (await undecidedMove(platform.db, input.actor, moveId(input.id), { lock: false })).move;
}

/**
 * Marks waiting move requests past their time as expired, and returns them, editing the
 * messages showing them. Safe to run from several processes at once.
 */
export async function expireMoves(db: Kysely<Database>): Promise<ApplicationMove[]> {
  return db.transaction().execute(async (tx) => {
    const expired = await tx.updateTable("application_moves").set({ status: "expired" }).where("status", "=", "pending").where("expires_at", "<=", sql<Date>`now()`).returning("id").execute();
    if (expired.length === 0) return [];
    const rows = await moveRows(tx).where("mv.id", "in", expired.map((row) => row.id)).orderBy("mv.id").execute();
    const moves = rows.map(toMove);
    for (const move of moves) await editSettled(tx, move, null);
    return moves;
  });
}

/**
 * The move itself, in the decision's transaction: the application changes org, keeping its id
 * (so its repository, environments, domains, DNS checks and live state stay as they are), loses
 * its channel (the old org's people chose it), takes its open hostname claims along, and is
 * audited and announced in both orgs.
 */
async function applyMove(
  tx: Tx,
  move: { id: number; applicationId: number; slug: string; from: { id: number; slug: string }; to: { id: number; slug: string }; actor: Actor },
): Promise<{ environments: number; domains: number }> {
  const { from, to, actor } = move;
  const oldRef = `${from.slug}/${move.slug}`;
  const newRef = `${to.slug}/${move.slug}`;
  await tx
    .updateTable("applications")
    .set({ org_id: to.id, channel_id: null, channel_team_id: null })
    .where("id", "=", move.applicationId)
    .execute()
    .catch((error: unknown) => {
      if (isUniqueViolation(error, "applications_org_slug_key")) throw slugTaken(to.slug, move.slug);
      throw error;
    });
  // Claims the application's environments wait on become the target's; one the target already
  // has open for the same hostname stays, and the moving one closes.
  const environments = tx.selectFrom("environments").select("id").where("application_id", "=", move.applicationId);
  await tx
    .deleteFrom("hostname_claims as c")
    .where("c.environment_id", "in", environments)
    .where("c.status", "=", "open")
    .where(({ exists, selectFrom }) => exists(selectFrom("hostname_claims as t").select("t.id").where("t.org_id", "=", to.id).where("t.status", "=", "open").whereRef("t.hostname", "=", "c.hostname")))
    .execute();
  await tx.updateTable("hostname_claims").set({ org_id: to.id }).where("environment_id", "in", environments).where("status", "=", "open").execute();
  const counts = await tx
    .selectFrom("environments as e")
    .leftJoin("domains as d", "d.environment_id", "e.id")
    .select((eb) => [eb.fn.count<number>("e.id").distinct().as("environments"), eb.fn.count<number>("d.id").as("domains")])
    .where("e.application_id", "=", move.applicationId)
    .executeTakeFirstOrThrow();
  const details = { move: move.id, from: oldRef, to: newRef, environments: Number(counts.environments), domains: Number(counts.domains) };
  for (const org of [from, to]) {
    await recordAudit(tx, { org, actor, action: "app.move", target: newRef, details });
    await notifyPeople(tx, { kind: "app.moved", payload: { app: newRef, from: oldRef }, actor, org, to: { channelElse: "administrators" } });
  }
  return { environments: details.environments, domains: details.domains };
}

/** Every copy of the request's message shows how it ended; the requester, if someone else, is told. */
async function settle(tx: Tx, outcome: MoveOutcome, requestedBy: number | null, actor: Actor, from: { id: number }): Promise<MoveOutcome> {
  const { move } = outcome;
  await editSettled(tx, move, actor);
  if (requestedBy !== null && requestedBy !== actor.userId) {
    await notifyPeople(tx, {
      kind: "app.move_decided",
      payload: { move: move.id, app: move.app, to: move.to, status: move.status, reason: move.denyReason },
      actor,
      org: from,
      to: { users: [requestedBy] },
    });
  }
  return outcome;
}

async function editSettled(tx: Tx, move: ApplicationMove, actor: Actor | null): Promise<void> {
  await editRequestMessages(tx, {
    request: { kind: "app.move_requested", id: move.id },
    edit: { kind: "app.move_settled", payload: { move: move.id, app: move.app, to: move.to, status: move.status, decidedBy: move.decidedBy, decidedAt: move.decidedAt?.toISOString() ?? null } },
    actor,
  });
}

/** Locks the application's row and refuses one that moved meanwhile, or one tied to another by a split. */
async function lockMovable(tx: Tx, app: ApplicationAccess, ref: string): Promise<void> {
  const locked = await tx.selectFrom("applications").select(["org_id", "split_of"]).where("id", "=", app.id).forUpdate().executeTakeFirst();
  if (locked === undefined || locked.org_id !== app.org.id) throw new Conflict(`${ref} was moved or deleted a moment ago`, "app");
  // A split serves a prefix of its original's domains, so the two stay in one org.
  if (locked.split_of !== null) throw new Conflict(`${ref} is a split of another application: splits stay in their original's org`, "app");
  const split = await tx.selectFrom("applications").select("slug").where("split_of", "=", app.id).orderBy("slug").executeTakeFirst();
  if (split) throw new Conflict(`${ref} has splits (like ${app.org.slug}/${split.slug}), which stay in its org: delete them before moving it`, "app");
}

async function assertSlugFree(tx: Tx, org: { id: number; slug: string }, slug: string): Promise<void> {
  const taken = await tx.selectFrom("applications").select("id").where("org_id", "=", org.id).where("slug", "=", slug).executeTakeFirst();
  if (taken) throw slugTaken(org.slug, slug);
}

function slugTaken(org: string, slug: string): Conflict {
  return new Conflict(`${org} already has an application named ${slug}: rename or delete one of them before moving`, "to");
}

/** Each org's role of the actor, where they have one. */
async function rolesOf(tx: Kysely<Database>, actor: Actor, orgIds: number[]) {
  const rows = await tx.selectFrom("memberships").select(["org_id", "role"]).where("user_id", "=", actor.userId).where("org_id", "in", orgIds).execute();
  return new Map(rows.map((row) => [row.org_id, row.role]));
}

/** A waiting request past its time no longer counts: it is marked, and its messages say so, now. */
async function expireStale(tx: Tx, applicationId: number): Promise<void> {
  const stale = await tx
    .updateTable("application_moves")
    .set({ status: "expired" })
    .where("application_id", "=", applicationId)
    .where("status", "=", "pending")
    .where("expires_at", "<=", sql<Date>`now()`)
    .returning("id")
    .execute();
  for (const { id } of stale) await editSettled(tx, await readMove(tx, id), null);
}

/** A waiting move the actor may decide, locked (after its application) when `lock` is set; else what refuses it. */
async function undecidedMove(db: Kysely<Database>, actor: Actor, id: number, options: { lock: boolean }) {
  if (options.lock) {
    // The application first, in the order `app move` takes its locks.
    const target = await db.selectFrom("application_moves").select("application_id").where("id", "=", id).executeTakeFirst();
    if (target) await db.selectFrom("applications").select("id").where("id", "=", target.application_id).forUpdate().execute();
  }
  const query = db
    .selectFrom("application_moves as mv")
    .innerJoin("orgs as t", "t.id", "mv.to_org_id")
    .leftJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "mv.to_org_id").on("me.user_id", "=", actor.userId))
    .select(["mv.id", "mv.application_id", "mv.from_org_id", "mv.to_org_id", "mv.requested_by", "t.slug as to_slug", "me.role as actor_role"])
    .where("mv.id", "=", id);
  const row = await (options.lock ? query.forUpdate(["mv"]) : query).executeTakeFirst();
  // Only the target's members learn anything of the requests made to it.
  if (!row || row.actor_role === null) throw new NotFound(`move ${id} not found`);
  if (!may(row.actor_role, "administer")) {
    throw new Forbidden(`you are ${article(row.actor_role)} ${row.actor_role} of ${row.to_slug}: only an owner or admin of ${row.to_slug} can decide what moves into it`);
  }
  if (row.requested_by === actor.userId) throw new Forbidden(`you asked for this move: another owner or admin of ${row.to_slug} must decide it`);
  const move = await readMove(db, id);
  if (move.status !== "pending") throw new Conflict(alreadyDecided("move", move, { after: `: the application is ${move.movedTo}` }));
  return { row, move };
}


function moveRows(db: Kysely<Database>) {
  return db
    .selectFrom("application_moves as mv")
    .innerJoin("applications as a", "a.id", "mv.application_id")
    .innerJoin("orgs as f", "f.id", "mv.from_org_id")
    .innerJoin("orgs as t", "t.id", "mv.to_org_id")
    .leftJoin("users as requester", "requester.id", "mv.requested_by")
    .leftJoin("users as decider", "decider.id", "mv.decided_by")
    .select([
      "mv.id",
      "a.slug",
      "f.slug as from_slug",
      "t.slug as to_slug",
      sql<ApplicationMoveStatus>`case when mv.status = 'pending' and mv.expires_at <= now() then 'expired' else mv.status end`.as("status"),
      "requester.display_name as requested_by",
      "decider.display_name as decided_by",
      "mv.decided_at",
      "mv.deny_reason",
      "mv.created_at",
      "mv.expires_at",
    ]);
}

async function readMove(db: Kysely<Database>, id: number): Promise<ApplicationMove> {
  return toMove(await moveRows(db).where("mv.id", "=", id).executeTakeFirstOrThrow());
}

function toMove(row: {
  id: number;
  slug: string;
  from_slug: string;
  to_slug: string;
  status: ApplicationMoveStatus;
  requested_by: string | null;
  decided_by: string | null;
  decided_at: Date | null;
  deny_reason: string | null;
  created_at: Date;
  expires_at: Date;
}): ApplicationMove {
  return {
    id: row.id,
    slug: row.slug,
    app: `${row.from_slug}/${row.slug}`,
    movedTo: `${row.to_slug}/${row.slug}`,
    from: row.from_slug,
    to: row.to_slug,
    status: row.status,
    requestedBy: row.requested_by,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    denyReason: row.deny_reason,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function moveId(raw: string | number): number {
  const text = String(raw).trim().replace(/^#/, "");
  if (!/^\d{1,9}$/.test(text)) throw new Invalid(`${text.slice(0, 40)} is not a move id: use the number of the move's message`, "id");
  return Number(text);
}

function parseReason(raw: string): string | undefined {
  const reason = raw.replace(/\p{Cc}/gu, " ").trim();
  if (reason.length > 500) throw new Invalid("the reason is too long (500 characters at most)", "reason");
  return reason === "" ? undefined : reason;
}

