import type { Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/schema.ts";
import { NotFound } from "./errors.ts";
import { displayName, email, parseField } from "./names.ts";
import type { Actor, Platform } from "./platform.ts";

export interface User {
  id: number;
  email: string;
  displayName: string;
}

const chatId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, . _ or -");

/**
 * Registers a person from a chat identity (workspace + user id) and email, or returns them.
 * One person in several workspaces is one user, matched by email.
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
    /** Name to show in lists and commits. */
    displayName: string;
  },
): Promise<User> {
  const teamId = parseField(chatId, input.teamId, "teamId", "team id");
  const chatUserId = parseField(chatId, input.chatUserId, "chatUserId", "user id");
  const address = parseField(email, input.email, "email");
  const name = parseField(displayName, input.displayName, "displayName", "name");

  const known = await platform.db
    .selectFrom("user_identities as i")
    .innerJoin("users as u", "u.id", "i.user_id")
    .select(["u.id", "u.email", "u.display_name"])
    .where("i.team_id", "=", teamId)
    .where("i.chat_user_id", "=", chatUserId)
    .executeTakeFirst();
  if (known && known.email === address && known.display_name === name) {
    return { id: known.id, email: known.email, displayName: known.display_name };
  }

  return platform.db.transaction().execute(async (tx) => {
    if (known) {
      // The profile changed in the chat: keep the same user and follow the profile, unless
      // the new email is another user's; then only the name follows.
      const emailTaken = await tx.selectFrom("users").select("id").where("email", "=", address).where("id", "!=", known.id).executeTakeFirst();
      const updated = await tx
        .updateTable("users")
        .set(emailTaken ? { display_name: name } : { email: address, display_name: name })
        .where("id", "=", known.id)
        .returning(["id", "email", "display_name"])
        .executeTakeFirstOrThrow();
      return { id: updated.id, email: updated.email, displayName: updated.display_name };
    }
    const user = await tx
      .insertInto("users")
      .values({ email: address, display_name: name })
      .onConflict((conflict) => conflict.column("email").doUpdateSet({ email: address }))
      .returning(["id", "email", "display_name"])
      .executeTakeFirstOrThrow();
    await tx
      .insertInto("user_identities")
      .values({ team_id: teamId, chat_user_id: chatUserId, user_id: user.id })
      .onConflict((conflict) => conflict.columns(["team_id", "chat_user_id"]).doNothing())
      .execute();
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

/** Finds the user a mention or email names, or undefined when nobody is registered so. */
export async function findUser(db: Kysely<Database>, person: PersonRef): Promise<User | undefined> {
  // An id no chat could send names nobody (and a NUL byte would make the database throw).
  if (person.kind === "chat" && !(chatId.safeParse(person.teamId).success && chatId.safeParse(person.chatUserId).success)) return undefined;
  const query =
    person.kind === "chat"
      ? db
          .selectFrom("user_identities as i")
          .innerJoin("users as u", "u.id", "i.user_id")
          .select(["u.id", "u.email", "u.display_name"])
          .where("i.team_id", "=", person.teamId)
          .where("i.chat_user_id", "=", person.chatUserId)
      : db
          .selectFrom("users as u")
          .select(["u.id", "u.email", "u.display_name"])
          .where("u.email", "=", parseField(email, person.email, "user", "email"));
  const row = await query.executeTakeFirst();
  return row && { id: row.id, email: row.email, displayName: row.display_name };
}

/** The chat user id a user has in workspace `teamId`, if they have one there. */
export async function chatIdentityIn(db: Kysely<Database>, actor: Actor, teamId: string): Promise<string | undefined> {
  const row = await db.selectFrom("user_identities").select("chat_user_id").where("user_id", "=", actor.userId).where("team_id", "=", teamId).executeTakeFirst();
  return row?.chat_user_id;
}

/** The acting user's name and email, for commits. */
export async function userById(db: Kysely<Database>, actor: Actor): Promise<User> {
  const row = await db.selectFrom("users").select(["id", "email", "display_name"]).where("id", "=", actor.userId).executeTakeFirst();
  if (!row) throw new NotFound("your user is not registered");
  return { id: row.id, email: row.email, displayName: row.display_name };
}
