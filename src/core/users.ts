import { sql, type Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/schema.ts";
import { AlreadyDone, Conflict, Invalid, NotFound } from "./errors.ts";
import { displayName, email, parseField } from "./names.ts";
import { inTransaction, type Actor, type Platform } from "./platform.ts";
import { hashOneTimeCode, oneTimeCode } from "./one-time-codes.ts";

export interface User {
  id: number;
  email: string;
  displayName: string;
}

/** A user with whether their chat confirmed their email. */
export interface UserWithEmailState extends User {
  emailConfirmed: boolean;
}

const chatId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, . _ or -");

/**
 * Registers a person from a chat identity (workspace + user id), or returns the user it belongs
 * to, following their profile's email and name. A new identity is a new user even when its
 * email is another user's: the workspace controls its profiles' emails, so a match proves
 * nothing. Identities are joined only by `linkIdentity`, on a code the linked one asked for.
 */
export async function registerUser(
  platform: Platform,
  input: {
    /** The chat workspace, a Slack team id (`local` for the shell). */
    teamId: string;
    /** The user's id in that workspace. */
    chatUserId: string;
    /** Email from the chat profile. */
    email: string;
    /** False when the chat says the email is not confirmed: it then matches no invitation. Default true. */
    emailConfirmed?: boolean;
    /** Name to show in lists and commits. */
    displayName: string;
  },
): Promise<User> {
  const teamId = parseField(chatId, input.teamId, "teamId", "team id");
  const chatUserId = parseField(chatId, input.chatUserId, "chatUserId", "user id");
  const address = parseField(email, input.email, "email");
  const name = parseField(displayName, input.displayName, "displayName", "name");
  const confirmed = input.emailConfirmed ?? true;

  for (;;) {
    const known = await identityUser(platform.db, teamId, chatUserId);
    if (known) {
      // The profile changed in the chat: the same user follows it. A user linked from several
      // workspaces keeps the email they have: each workspace may show another, and none decides.
      const followEmail = !known.linked;
      const emailChanged = followEmail && (known.email !== address || known.email_confirmed !== confirmed);
      if (!emailChanged && known.display_name === name) return { id: known.id, email: known.email, displayName: known.display_name };
      const updated = await platform.db
        .updateTable("users")
        .set(followEmail ? { email: address, email_confirmed: confirmed, display_name: name } : { display_name: name })
        .where("id", "=", known.id)
        .returning(["id", "email", "display_name"])
        .executeTakeFirstOrThrow();
      return { id: updated.id, email: updated.email, displayName: updated.display_name };
    }
    const created = await platform.db.transaction().execute(async (tx) => {
      const user = await tx.insertInto("users").values({ email: address, email_confirmed: confirmed, display_name: name }).returning(["id", "email", "display_name"]).executeTakeFirstOrThrow();
      const identity = await tx
        .insertInto("user_identities")
        .values({ team_id: teamId, chat_user_id: chatUserId, user_id: user.id })
        .onConflict((conflict) => conflict.columns(["team_id", "chat_user_id"]).doNothing())
        .returning("user_id")
        .executeTakeFirst();
      // Registered at the same moment by another request: that user stands, and this one is undone.
      if (!identity) throw new RegisteredMeanwhile();
      return { id: user.id, email: user.email, displayName: user.display_name };
    }).catch((error: unknown) => {
      if (error instanceof RegisteredMeanwhile) return undefined;
      throw error;
    });
    if (created) return created;
  }
}

class RegisteredMeanwhile extends Error {}

/** The user a chat identity belongs to, and whether other identities belong to them too (`link`). */
function identityUser(db: Kysely<Database>, teamId: string, chatUserId: string) {
  return db
    .selectFrom("user_identities as i")
    .innerJoin("users as u", "u.id", "i.user_id")
    .select((eb) => [
      "u.id",
      "u.email",
      "u.email_confirmed",
      "u.display_name",
      eb
        .exists(
          eb
            .selectFrom("user_identities as other")
            .select("other.user_id")
            .whereRef("other.user_id", "=", "u.id")
            .where((other) => other.or([other("other.team_id", "!=", other.ref("i.team_id")), other("other.chat_user_id", "!=", other.ref("i.chat_user_id"))])),
        )
        .as("linked"),
    ])
    .where("i.team_id", "=", teamId)
    .where("i.chat_user_id", "=", chatUserId)
    .executeTakeFirst();
}

/** How long a link code can be used. */
export const linkCodeMinutes = 15;

/**
 * `link`: a one-time code for the actor's user, to type in another workspace (or as another
 * chat identity) that should become the same person. Asking for it is the linked identity's
 * consent; the code is kept only as its hash and lasts `linkCodeMinutes`.
 */
export async function startIdentityLink(platform: Platform, input: { actor: Actor }): Promise<{ code: string; expiresAt: Date }> {
  const code = oneTimeCode();
  const row = await platform.db
    .insertInto("identity_link_codes")
    .values({ code_hash: hashOneTimeCode(code), user_id: input.actor.userId, expires_at: sql<Date>`now() + make_interval(mins => ${linkCodeMinutes})` })
    .returning("expires_at")
    .executeTakeFirstOrThrow();
  return { code, expiresAt: row.expires_at };
}

/**
 * `link <code>`: the actor's chat identity in workspace `teamId`, where they speak from, now belongs
 * to the user who asked for the code. Refused when the actor's user already has orgs or tokens of
 * its own: joining would leave them behind. The code is used up only by a link that succeeds.
 */
export async function linkIdentity(platform: Platform, input: { actor: Actor; teamId: string; code: string }): Promise<User> {
  const code = input.code.trim();
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(code)) throw new Invalid("that is not a link code: type `link` where edgebot already knows you, then `link <code>` here", "code");
  return inTransaction(platform, async (tx) => {
    const link = await tx
      .selectFrom("identity_link_codes")
      .select(["user_id", sql<boolean>`expires_at <= now()`.as("expired")])
      .where("code_hash", "=", hashOneTimeCode(code))
      .forUpdate()
      .executeTakeFirst();
    if (!link) throw new NotFound("that link code is not valid: it may have been used already");
    if (link.expired) throw new Conflict(`that link code expired: codes last ${linkCodeMinutes} minutes, type \`link\` again where edgebot knows you`);
    if (link.user_id === input.actor.userId) throw new AlreadyDone("this identity already belongs to that edgebot user");
    const own = await tx
      .selectFrom("memberships")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("user_id", "=", input.actor.userId)
      .executeTakeFirstOrThrow();
    const tokens = await tx
      .selectFrom("access_tokens")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("user_id", "=", input.actor.userId)
      .where("revoked_at", "is", null)
      .executeTakeFirstOrThrow();
    if (Number(own.n) > 0 || Number(tokens.n) > 0) {
      throw new Conflict("this identity already has orgs or tokens of its own in edgebot, which a link would leave behind: leave those orgs and revoke those tokens first, or keep the two apart");
    }
    const moved = await tx
      .updateTable("user_identities")
      .set({ user_id: link.user_id })
      .where("team_id", "=", input.teamId)
      .where("user_id", "=", input.actor.userId)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) throw new NotFound("your identity here is not registered");
    await tx.deleteFrom("identity_link_codes").where("code_hash", "=", hashOneTimeCode(code)).execute();
    const user = await tx.selectFrom("users").select(["id", "email", "display_name"]).where("id", "=", link.user_id).executeTakeFirstOrThrow();
    return { id: user.id, email: user.email, displayName: user.display_name };
  });
}


/** How a command names another person: a chat mention or an email address. */
export type PersonRef =
  | { kind: "chat"; teamId: string; chatUserId: string; label: string }
  | { kind: "email"; email: string };

export function describePerson(person: PersonRef): string {
  const text = person.kind === "email" ? person.email : person.label;
  // The label is whatever the chat sent; an answer repeats a short one.
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * The user a mention or email names among `candidates` (a query of users, `u`): by mention, the
 * identity's user; by email, the one user with that confirmed email. Undefined when nobody
 * matches; `Invalid` when several people hold the email, so the caller asks for a mention.
 */
export async function findUser(db: Kysely<Database>, person: PersonRef, within?: { orgId: number }): Promise<User | undefined> {
  // An id no chat could send names nobody (and a NUL byte would make the database throw).
  if (person.kind === "chat" && !(chatId.safeParse(person.teamId).success && chatId.safeParse(person.chatUserId).success)) return undefined;
  let query = db.selectFrom("users as u").select(["u.id", "u.email", "u.display_name"]);
  if (within) query = query.innerJoin("memberships as m", "m.user_id", "u.id").where("m.org_id", "=", within.orgId);
  query =
    person.kind === "chat"
      ? query.innerJoin("user_identities as i", "i.user_id", "u.id").where("i.team_id", "=", person.teamId).where("i.chat_user_id", "=", person.chatUserId)
      : query.where("u.email", "=", parseField(email, person.email, "user", "email")).where("u.email_confirmed", "=", true);
  const rows = await query.limit(2).execute();
  if (rows.length > 1) throw new Invalid(`several people use edgebot with ${describePerson(person)}: name the one you mean with an @mention`, "user");
  const row = rows[0];
  return row && { id: row.id, email: row.email, displayName: row.display_name };
}

/** The user a chat identity belongs to, or undefined when it is not registered. */
export async function identityOwner(platform: Platform, teamId: string, chatUserId: string): Promise<number | undefined> {
  const row = await platform.db.selectFrom("user_identities").select("user_id").where("team_id", "=", teamId).where("chat_user_id", "=", chatUserId).executeTakeFirst();
  return row?.user_id;
}

/** The chat user id a user has in workspace `teamId`, if they have one there. */
export async function chatIdentityIn(db: Kysely<Database>, actor: Actor, teamId: string): Promise<string | undefined> {
  const row = await db.selectFrom("user_identities").select("chat_user_id").where("user_id", "=", actor.userId).where("team_id", "=", teamId).executeTakeFirst();
  return row?.chat_user_id;
}

/** The acting user's name and email, for commits, and whether the email is confirmed. */
export async function userById(db: Kysely<Database>, actor: Actor): Promise<UserWithEmailState> {
  const row = await db.selectFrom("users").select(["id", "email", "email_confirmed", "display_name"]).where("id", "=", actor.userId).executeTakeFirst();
  if (!row) throw new NotFound("your user is not registered");
  return { id: row.id, email: row.email, displayName: row.display_name, emailConfirmed: row.email_confirmed };
}
