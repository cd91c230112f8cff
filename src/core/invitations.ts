import { sql, type Kysely } from "kysely";
import type { Database, InvitationStatus, Role } from "../db/schema.ts";
import { findOrgAsMember } from "./access.ts";
import { alreadyDecided, describeProgress, grantApprovalsRequired, utc, type ApprovalProgress } from "./approvals.ts";
import { recordAudit } from "./audit.ts";
import { isUniqueViolation } from "../db/errors.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "./errors.ts";
import { email as emailSchema, parseField, role as roleSchema } from "./names.ts";
import { editRequestMessages, notifyPeople, settleInvitationMessages } from "./notifications.ts";
import { article, authorize, may } from "./permissions.ts";
import { inTransaction, type Actor, type Platform, type Tx } from "./platform.ts";
import { describePerson, findUser, userById, type PersonRef } from "./users.ts";
import { hashOneTimeCode, oneTimeCode } from "./one-time-codes.ts";

/** An invitation as people see it, with its approvals so far. */
export interface Invitation extends ApprovalProgress {
  id: number;
  org: string;
  email: string;
  role: InvitedRole;
  /** Its status now: a live invitation past its time reads `expired` before the sweep marks it. */
  status: InvitationStatus;
  requestedBy: string | null;
  /** Who asked, as a user, while they still exist. */
  requesterId: number | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  denyReason: string | null;
  acceptedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export type InvitedRole = Exclude<Role, "owner">;

/**
 * What an invitation or a decision came to: waiting for approvals (`requested` when made,
 * `approved_once` after an approval that does not reach the threshold yet); denied; the person
 * added at once (edgebot knows them by email); or approved with a one-time code for someone
 * edgebot does not know yet. The code exists only in this answer.
 */
export type InvitationOutcome =
  | { kind: "requested"; invitation: Invitation }
  | { kind: "approved_once"; invitation: Invitation }
  | { kind: "denied"; invitation: Invitation }
  | { kind: "joined"; invitation: Invitation; member: { displayName: string; email: string } }
  /** `requester` is who asked, when someone other than the approver: they pass the code on. */
  | { kind: "code"; invitation: Invitation; code: string; requester: Actor | null };

const invitedRole = roleSchema.refine((value): value is InvitedRole => value !== "owner", "cannot be owner: invite as admin, then an owner can make them an owner");

/**
 * `member invite`: owners and admins invite, approved as made; a developer's invitation is a
 * request that waits for an owner or admin; a viewer may not invite. An invitation as admin,
 * whoever makes it, waits for the org's threshold of approvals from owners or admins other than
 * the requester. Someone already a member, or already invited, is answered with what exists.
 */
export async function inviteMember(platform: Platform, input: { actor: Actor; org: string; invitee: PersonRef; role?: string | undefined }): Promise<InvitationOutcome> {
  const role = parseField(invitedRole, input.role ?? "viewer", "role", "role") as InvitedRole;
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "request_invitation", `org ${input.org} not found`);
  const { email, userId } = await invitee(platform.db, input.invitee);
  const approvalsRequired = role === "admin" ? await grantApprovalsRequired(platform.db, org, input.actor.userId) : may(org.role, "administer") ? 0 : 1;
  const approvedAsMade = approvalsRequired === 0;
  if (approvedAsMade && userId === undefined) await introduce(platform, email);

  try {
    return await inTransaction(platform, async (tx) => {
      const member = await tx
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["u.display_name", "m.role"])
        .where("m.org_id", "=", org.id)
        .$call((query) => (userId === undefined ? query.where("u.email", "=", email).where("u.email_confirmed", "=", true) : query.where("u.id", "=", userId)))
        .executeTakeFirst();
      if (member) throw new Conflict(`${member.display_name} (${email}) is already ${article(member.role)} ${member.role} of ${org.slug}`, "invitee");
      // A live invitation past its time no longer counts; the sweep would mark it soon anyway.
      await tx
        .updateTable("invitations")
        .set({ status: "expired" })
        .where("org_id", "=", org.id)
        .where("invitee_email", "=", email)
        .where("status", "in", ["pending", "approved"])
        .where("expires_at", "<=", sql<Date>`now()`)
        .execute();
      const created = await tx
        .insertInto("invitations")
        .values({
          org_id: org.id,
          role,
          invitee_email: email,
          invitee_user_id: userId ?? null,
          requested_by: input.actor.userId,
          approvals_required: approvalsRequired,
          status: approvedAsMade ? "approved" : "pending",
          ...(approvedAsMade ? { decided_by: input.actor.userId, decided_at: sql<Date>`now()` } : {}),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await recordAudit(tx, { org, actor: input.actor, action: "invitation.create", target: email, details: { invitation: created.id, role, approved: approvedAsMade, approvalsRequired } });
      if (approvedAsMade) return admit(tx, created.id, input.actor);
      const invitation = await readInvitation(tx, created.id);
      await notifyPeople(tx, {
        kind: "invitation.requested",
        payload: { org: org.slug, invitation: invitation.id, email, role, approvals: approvalsRequired },
        actor: input.actor,
        org,
        to: { channelElse: "administrators" },
      });
      return { kind: "requested", invitation };
    });
  } catch (error) {
    if (isUniqueViolation(error, "invitations_live_key")) throw await alreadyInvited(platform.db, org.id, email);
    throw error;
  }
}

/**
 * `invite approve` / `invite deny`: an owner or admin other than the requester decides. Each
 * approval counts once per person; the one that reaches the invitation's threshold approves it,
 * and any denial ends it. The invitation is locked first, so a double click, a retry or two
 * admins at the same moment each count once, in turn, and see what the others did.
 */
export async function decideInvitation(
  platform: Platform,
  input: { actor: Actor; id: string | number; decision: "approve" | "deny"; reason?: string | undefined },
): Promise<InvitationOutcome> {
  const id = invitationId(input.id);
  const reason = input.reason === undefined ? undefined : parseReason(input.reason);
  if (input.decision === "approve") {
    // Outside the transaction: the lookup may ask a chat workspace, and a refusal comes first.
    // Only an approval that may reach the threshold admits anyone, so only it looks them up.
    const { invitation } = await undecidedInvitation(platform.db, input.actor, id, { lock: false });
    if (invitation.approvedBy.length + 1 >= invitation.approvalsRequired) await introduce(platform, invitation.email);
  }
  return inTransaction(platform, async (tx) => {
    const { row, invitation } = await undecidedInvitation(tx, input.actor, id, { lock: true });
    const org = { id: row.org_id, slug: row.slug };
    if (input.decision === "deny") {
      await tx
        .updateTable("invitations")
        .set({ status: "denied", decided_by: input.actor.userId, decided_at: sql<Date>`now()`, deny_reason: reason ?? null })
        .where("id", "=", id)
        .execute();
      await recordAudit(tx, { org, actor: input.actor, action: "invitation.deny", target: invitation.email, details: { invitation: id, ...(reason ? { reason } : {}) } });
      const denied = await readInvitation(tx, id);
      await settleInvitationMessages(tx, denied, input.actor);
      await tellRequester(tx, denied, row.requested_by, input.actor, org);
      return { kind: "denied", invitation: denied };
    }
    if (await tx.selectFrom("invitation_approvals").select("approver_id").where("invitation_id", "=", id).where("approver_id", "=", input.actor.userId).executeTakeFirst()) {
      throw new Conflict(`you already approved invitation ${id}: ${describeProgress(invitation)}; another owner or admin must approve it too`);
    }
    await tx.insertInto("invitation_approvals").values({ invitation_id: id, approver_id: input.actor.userId }).execute();
    const counted = await readInvitation(tx, id);
    const approvals = counted.approvedBy.length;
    await recordAudit(tx, {
      org,
      actor: input.actor,
      action: "invitation.approve",
      target: invitation.email,
      details: { invitation: id, approvals, approvalsRequired: counted.approvalsRequired },
    });
    if (approvals < counted.approvalsRequired) {
      await editRequestMessages(tx, {
        request: { kind: "invitation.requested", id },
        edit: {
          kind: "invitation.progress",
          payload: { org: org.slug, invitation: id, email: counted.email, role: counted.role, approvals: counted.approvalsRequired, approvedBy: counted.approvedBy },
        },
        actor: input.actor,
      });
      return { kind: "approved_once", invitation: counted };
    }
    await tx.updateTable("invitations").set({ status: "approved", decided_by: input.actor.userId, decided_at: sql<Date>`now()` }).where("id", "=", id).execute();
    const outcome = await admit(tx, id, input.actor);
    await settleInvitationMessages(tx, outcome.invitation, input.actor);
    await tellRequester(tx, outcome.invitation, row.requested_by, input.actor, org);
    return outcome;
  });
}

/**
 * Throws what deciding invitation `id` would be refused with, writing nothing: for a surface
 * that asks more (a reason to deny) before deciding, so a refusal comes before the question.
 */
export async function checkMayDecide(platform: Platform, input: { actor: Actor; id: string | number }): Promise<Invitation> {
  return (await undecidedInvitation(platform.db, input.actor, invitationId(input.id), { lock: false })).invitation;
}

/** A pending invitation the actor may decide, locked for the decision when `lock` is set; else what refuses it. */
async function undecidedInvitation(db: Kysely<Database>, actor: Actor, id: number, options: { lock: boolean }) {
  const query = db
    .selectFrom("invitations as i")
    .innerJoin("orgs as o", "o.id", "i.org_id")
    .leftJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "i.org_id").on("me.user_id", "=", actor.userId))
    .select(["i.id", "i.org_id", "o.slug", "i.requested_by", "me.role as actor_role"])
    .where("i.id", "=", id);
  // Locked, the row waits for a decision in flight; the invitation is read after, as it then is.
  const row = await (options.lock ? query.forUpdate(["i"]) : query).executeTakeFirst();
  // Someone outside the org learns nothing about its invitations.
  if (!row || row.actor_role === null) throw new NotFound(`invitation ${id} not found`);
  authorize(row.actor_role, "administer", `invitation ${id} not found`);
  if (row.requested_by === actor.userId) throw new Forbidden("you asked for this invitation: another owner or admin must decide it");
  const invitation = toInvitation(await invitationRows(db).where("i.id", "=", id).executeTakeFirstOrThrow());
  if (invitation.status !== "pending") throw new Conflict(alreadyDecidedInvitation(invitation));
  return { row, invitation };
}

/**
 * `join <code>`: redeems an approved invitation's code. Only the person invited may: their
 * email must be the invitation's. A refused code stays redeemable by the right person.
 */
export async function redeemInvitation(platform: Platform, input: { actor: Actor; code: string }): Promise<{ org: string; role: InvitedRole }> {
  const code = input.code.trim();
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(code)) throw new Invalid("that is not an invitation code: paste the code you were given, like join Ab3dE5gH7jK9", "code");
  const user = await userById(platform.db, input.actor);
  return inTransaction(platform, async (tx) => {
    const row = await tx
      .selectFrom("invitations as i")
      .innerJoin("orgs as o", "o.id", "i.org_id")
      .select(["i.id", "i.org_id", "o.slug", "i.role", "i.invitee_email", "i.invitee_user_id", "i.status", "i.expires_at", sql<boolean>`i.expires_at <= now()`.as("expired")])
      .where("i.code_hash", "=", hashOneTimeCode(code))
      .forUpdate(["i"])
      .executeTakeFirst();
    if (!row || row.status !== "approved") throw new NotFound("that code is not valid: it may have been used already");
    if (row.expired) throw new Conflict(`that code expired at ${utc(row.expires_at)}: ask for a new invitation`);
    if (row.invitee_email !== user.email || (row.invitee_user_id !== null && row.invitee_user_id !== user.id)) throw new Forbidden(`that code is for someone else: your email is ${user.email}`);
    if (!user.emailConfirmed) throw new Forbidden(`your email ${user.email} is not confirmed in your chat workspace: confirm it there, then redeem the code again`);
    const org = { id: row.org_id, slug: row.slug };
    await addMember(tx, org, user.id, row.role);
    await tx.updateTable("invitations").set({ status: "accepted", accepted_by: user.id, accepted_at: sql<Date>`now()`, code_hash: null }).where("id", "=", row.id).execute();
    await recordAudit(tx, { org, actor: input.actor, action: "invitation.accept", target: user.email, details: { invitation: row.id, role: row.role } });
    return { org: row.slug, role: row.role };
  });
}

/** `invite list`: an org's live invitations and recent decisions (owners and admins). */
export async function listInvitations(platform: Platform, input: { actor: Actor; org: string; limit?: number }): Promise<{ org: string; invitations: Invitation[] }> {
  const org = await findOrgAsMember(platform.db, input.actor, input.org);
  authorize(org.role, "administer", `org ${input.org} not found`);
  const rows = await invitationRows(platform.db)
    .where("i.org_id", "=", org.id)
    .where((eb) => eb.or([eb("i.status", "in", ["pending", "approved"]), eb("i.created_at", ">", sql<Date>`now() - interval '30 days'`)]))
    .orderBy("i.id", "desc")
    .limit(input.limit ?? 50)
    .execute();
  return { org: org.slug, invitations: rows.map(toInvitation) };
}

/**
 * Requests the actor could decide now: pending, unexpired, in orgs where they are an owner or
 * admin, asked for by someone else; oldest first, at most `limit`, with how many there are.
 */
export async function invitationsAwaiting(platform: Platform, input: { actor: Actor; limit: number }): Promise<{ total: number; invitations: Invitation[] }> {
  const rows = await invitationRows(platform.db)
    .innerJoin("memberships as me", (join) => join.onRef("me.org_id", "=", "i.org_id").on("me.user_id", "=", input.actor.userId))
    .select(sql<number>`count(*) over ()`.as("total"))
    .where("me.role", "in", ["owner", "admin"])
    .where("i.status", "=", "pending")
    .where("i.expires_at", ">", sql<Date>`now()`)
    .where((eb) => eb.or([eb("i.requested_by", "is", null), eb("i.requested_by", "!=", input.actor.userId)]))
    // Someone who approved already has nothing more to do.
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("invitation_approvals as a").select("a.approver_id").whereRef("a.invitation_id", "=", "i.id").where("a.approver_id", "=", input.actor.userId))),
    )
    .orderBy("i.id")
    .limit(input.limit)
    .execute();
  return { total: Number(rows[0]?.total ?? 0), invitations: rows.map(toInvitation) };
}

/**
 * Marks live invitations past their time as expired, and returns them, so that the messages
 * showing them can say so. Safe to run from several processes at once.
 */
export async function expireInvitations(db: Kysely<Database>): Promise<Invitation[]> {
  return db.transaction().execute(async (tx) => {
    const expired = await tx
      .updateTable("invitations")
      .set({ status: "expired", code_hash: null })
      .where("status", "in", ["pending", "approved"])
      .where("expires_at", "<=", sql<Date>`now()`)
      .returning("id")
      .execute();
    if (expired.length === 0) return [];
    const rows = await invitationRows(tx).where("i.id", "in", expired.map((row) => row.id)).orderBy("i.id").execute();
    const invitations = rows.map(toInvitation);
    for (const invitation of invitations) await settleInvitationMessages(tx, invitation, null);
    return invitations;
  });
}

/**
 * After approval: someone edgebot knows by email becomes a member at once and is told;
 * anyone else gets a one-time code, stored only as its hash.
 */
async function admit(tx: Tx, id: number, actor: Actor): Promise<InvitationOutcome> {
  const invitation = await readInvitation(tx, id);
  const row = await tx.selectFrom("invitations as i").innerJoin("orgs as o", "o.id", "i.org_id").select(["o.id", "o.slug"]).where("i.id", "=", id).executeTakeFirstOrThrow();
  const org = { id: row.id, slug: row.slug };
  // By mention: that user. By email: the one person with it confirmed; when several hold it, a
  // code, which the one who redeems it uses (never all of them).
  const candidates = await tx
    .selectFrom("invitations as i")
    .innerJoin("users as u", (join) => join.on((eb) => eb.or([eb("u.id", "=", eb.ref("i.invitee_user_id")), eb.and([eb("i.invitee_user_id", "is", null), eb("u.email", "=", eb.ref("i.invitee_email")), eb("u.email_confirmed", "=", true)])])))
    .select(["u.id", "u.display_name", "u.email"])
    .where("i.id", "=", id)
    .limit(2)
    .execute();
  const known = candidates.length === 1 ? candidates[0] : undefined;
  if (!known) {
    const code = oneTimeCode();
    await tx.updateTable("invitations").set({ code_hash: hashOneTimeCode(code) }).where("id", "=", id).execute();
    const requester = invitation.requesterId === null || invitation.requesterId === actor.userId ? null : { userId: invitation.requesterId };
    return { kind: "code", invitation: await readInvitation(tx, id), code, requester };
  }
  await addMember(tx, org, known.id, invitation.role);
  await tx.updateTable("invitations").set({ status: "accepted", accepted_by: known.id, accepted_at: sql<Date>`now()` }).where("id", "=", id).execute();
  await recordAudit(tx, { org, actor, action: "invitation.accept", target: known.email, details: { invitation: id, role: invitation.role } });
  await notifyPeople(tx, { kind: "member.joined", payload: { org: org.slug, role: invitation.role }, actor, org, to: { users: [known.id] } });
  return { kind: "joined", invitation: await readInvitation(tx, id), member: { displayName: known.display_name, email: known.email } };
}

/** Lets the platform's directory make someone known by email before they are admitted; a failing directory only means a code instead. */
async function introduce(platform: Platform, email: string): Promise<void> {
  if (platform.directory === undefined) return;
  const known = await platform.db.selectFrom("users").select("id").where("email", "=", email).where("email_confirmed", "=", true).executeTakeFirst();
  if (!known) await platform.directory.introduce(email).catch(() => undefined);
}

async function addMember(tx: Tx, org: { id: number; slug: string }, userId: number, role: InvitedRole): Promise<void> {
  // Someone who joined meanwhile by another way keeps the membership they have.
  await tx.insertInto("memberships").values({ org_id: org.id, user_id: userId, role }).onConflict((conflict) => conflict.columns(["org_id", "user_id"]).doNothing()).execute();
}

/** The requester hears how their request was decided, unless they decided it themselves. */
async function tellRequester(tx: Tx, invitation: Invitation, requestedBy: number | null, actor: Actor, org: { id: number; slug: string }): Promise<void> {
  if (requestedBy === null || requestedBy === actor.userId) return;
  await notifyPeople(tx, {
    kind: "invitation.decided",
    payload: { org: org.slug, invitation: invitation.id, email: invitation.email, role: invitation.role, status: invitation.status, reason: invitation.denyReason },
    actor,
    org,
    to: { users: [requestedBy] },
  });
}

/** Who an invitation is for: an email, and the user a mention names (an invitation by email names no user). */
async function invitee(db: Kysely<Database>, person: PersonRef): Promise<{ email: string; userId?: number }> {
  if (person.kind === "email") return { email: parseField(emailSchema, person.email, "invitee", "email") };
  const user = await findUser(db, person);
  if (!user) throw new Invalid(`${describePerson(person)} has not used edgebot yet, so their email is unknown: invite them by email instead`, "invitee");
  return { email: user.email, userId: user.id };
}

async function alreadyInvited(db: Kysely<Database>, orgId: number, email: string): Promise<Conflict> {
  const row = await invitationRows(db).where("i.org_id", "=", orgId).where("i.invitee_email", "=", email).where("i.status", "in", ["pending", "approved"]).executeTakeFirst();
  if (!row) return new Conflict(`${email} was invited at the same moment: see invite list`, "invitee");
  const invitation = toInvitation(row);
  const state = invitation.status === "pending" ? "waiting for approval" : "approved, waiting for them to join";
  return new Conflict(`${email} is already invited as ${invitation.role} (invitation ${invitation.id}, ${state}, until ${utc(invitation.expiresAt)})`, "invitee");
}

function alreadyDecidedInvitation(invitation: Invitation): string {
  // Everyone whose approval counted, else the one who decided.
  return alreadyDecided("invitation", invitation, { approvedBy: invitation.approvedBy.join(" and ") });
}

function invitationRows(db: Kysely<Database>) {
  return db
    .selectFrom("invitations as i")
    .innerJoin("orgs as o", "o.id", "i.org_id")
    .leftJoin("users as requester", "requester.id", "i.requested_by")
    .leftJoin("users as decider", "decider.id", "i.decided_by")
    .leftJoin("users as joiner", "joiner.id", "i.accepted_by")
    .select([
      "i.id",
      "o.slug",
      "i.invitee_email",
      "i.role",
      sql<InvitationStatus>`case when i.status in ('pending', 'approved') and i.expires_at <= now() then 'expired' else i.status end`.as("status"),
      "requester.display_name as requested_by",
      "i.requested_by as requester_id",
      "decider.display_name as decided_by",
      "i.decided_at",
      "i.deny_reason",
      "joiner.display_name as accepted_by",
      "i.created_at",
      "i.expires_at",
      "i.approvals_required",
      // Approvals count while their givers are still owners or admins of the org.
      sql<string[]>`array(
        select u.display_name from invitation_approvals a
        join users u on u.id = a.approver_id
        join memberships m on m.user_id = a.approver_id and m.org_id = i.org_id and m.role in ('owner', 'admin')
        where a.invitation_id = i.id
        order by a.approved_at, a.approver_id)`.as("approved_by"),
    ]);
}

async function readInvitation(tx: Tx, id: number): Promise<Invitation> {
  return toInvitation(await invitationRows(tx).where("i.id", "=", id).executeTakeFirstOrThrow());
}

function toInvitation(row: {
  id: number;
  slug: string;
  invitee_email: string;
  role: InvitedRole;
  status: InvitationStatus;
  requested_by: string | null;
  requester_id: number | null;
  decided_by: string | null;
  decided_at: Date | null;
  deny_reason: string | null;
  accepted_by: string | null;
  created_at: Date;
  expires_at: Date;
  approvals_required: number;
  approved_by: string[] | null;
}): Invitation {
  return {
    id: row.id,
    org: row.slug,
    email: row.invitee_email,
    role: row.role,
    status: row.status,
    requestedBy: row.requested_by,
    requesterId: row.requester_id,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    denyReason: row.deny_reason,
    acceptedBy: row.accepted_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    approvalsRequired: row.approvals_required,
    approvedBy: row.approved_by ?? [],
  };
}

function invitationId(raw: string | number): number {
  const text = String(raw).trim().replace(/^#/, "");
  if (!/^\d{1,9}$/.test(text)) throw new Invalid(`${text.slice(0, 40)} is not an invitation id: use the number invite list shows`, "id");
  return Number(text);
}

function parseReason(raw: string): string | undefined {
  const reason = raw.replace(/\p{Cc}/gu, " ").trim();
  if (reason.length > 500) throw new Invalid("the reason is too long (500 characters at most)", "reason");
  return reason === "" ? undefined : reason;
}


