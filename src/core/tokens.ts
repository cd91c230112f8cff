import { createHash, randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { z } from "zod";
import type { Database } from "../db/schema.ts";
import { Conflict, Invalid, NotFound } from "./errors.ts";
import { parseField } from "./names.ts";
import type { Actor, Platform } from "./platform.ts";

/** Every token starts so: secret scanners and people recognise it, and a pasted one is easy to spot in a log. */
export const accessTokenPrefix = "edgebot_pat_";

/** How many live tokens one person may hold; more is a sign of tokens being made and forgotten. */
export const maxLiveTokens = 20;

// 32 random bytes, base64url: 43 characters.
const tokenShape = new RegExp(`^${accessTokenPrefix}[A-Za-z0-9_-]{43}$`);
const hintLength = 4;
// Recording every use would write on every git request; once a minute tells people enough.
const lastUsedResolutionSeconds = 60;

/** A token as its owner sees it in `token list`: never the secret. */
export interface AccessTokenSummary {
  id: number;
  /** The token's first characters, like `edgebot_pat_AbCd…`. */
  hint: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A token just made: the only moment the secret exists outside its owner's hands. */
export interface NewAccessToken extends AccessTokenSummary {
  token: string;
}

/** `token create`: a new personal access token for the acting user, shown once and stored hashed. */
export async function createAccessToken(platform: Platform, input: { actor: Actor }): Promise<NewAccessToken> {
  const secret = randomBytes(32).toString("base64url");
  const token = `${accessTokenPrefix}${secret}`;
  return platform.db.transaction().execute(async (tx) => {
    // The user's row is locked so two requests at once cannot both pass the count.
    const user = await tx.selectFrom("users").select("id").where("id", "=", input.actor.userId).forUpdate().executeTakeFirst();
    if (!user) throw new NotFound("you are not registered with edgebot");
    const live = await tx
      .selectFrom("access_tokens")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", input.actor.userId)
      .where("revoked_at", "is", null)
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= maxLiveTokens) {
      throw new Conflict(`you already have ${maxLiveTokens} tokens: revoke one you no longer use (\`token list\`, \`token revoke <id>\`)`);
    }
    const row = await tx
      .insertInto("access_tokens")
      .values({ user_id: input.actor.userId, token_hash: hashToken(token), hint: secret.slice(0, hintLength) })
      .returning(["id", "hint", "created_at"])
      .executeTakeFirstOrThrow();
    return { id: row.id, hint: hintOf(row.hint), createdAt: row.created_at, lastUsedAt: null, token };
  });
}

/** `token list`: the acting user's live tokens, newest first. */
export async function listAccessTokens(platform: Platform, input: { actor: Actor }): Promise<AccessTokenSummary[]> {
  const rows = await platform.db
    .selectFrom("access_tokens")
    .select(["id", "hint", "created_at", "last_used_at"])
    .where("user_id", "=", input.actor.userId)
    .where("revoked_at", "is", null)
    .orderBy("id", "desc")
    .execute();
  return rows.map((row) => ({ id: row.id, hint: hintOf(row.hint), createdAt: row.created_at, lastUsedAt: row.last_used_at }));
}

const tokenId = z.coerce.number({ error: "must be a token id from `token list`" }).int("must be a token id from `token list`").positive("must be a token id from `token list`").max(2 ** 31 - 1, "must be a token id from `token list`");

/**
 * `token revoke <id>`: the token stops working at once. Only one's own tokens: someone else's
 * reads as not found, like one that never existed.
 */
export async function revokeAccessToken(platform: Platform, input: { actor: Actor; id: string | number }): Promise<AccessTokenSummary> {
  if (typeof input.id === "string" && !/^\d{1,10}$/.test(input.id.trim())) throw new Invalid(`token id must be a token id from \`token list\`, not ${input.id.slice(0, 40)}`, "id");
  const id = parseField(tokenId, input.id, "id", "token id");
  const revoked = await platform.db
    .updateTable("access_tokens")
    .set({ revoked_at: sql<Date>`now()` })
    .where("id", "=", id)
    .where("user_id", "=", input.actor.userId)
    .where("revoked_at", "is", null)
    .returning(["id", "hint", "created_at", "last_used_at"])
    .executeTakeFirst();
  if (revoked) return { id: revoked.id, hint: hintOf(revoked.hint), createdAt: revoked.created_at, lastUsedAt: revoked.last_used_at };
  const existing = await platform.db.selectFrom("access_tokens").select("revoked_at").where("id", "=", id).where("user_id", "=", input.actor.userId).executeTakeFirst();
  if (existing) throw new Conflict(`token ${id} was already revoked`, "id");
  throw new NotFound(`token ${id} not found`);
}

/**
 * Who a token belongs to, when it is one of edgebot's live tokens; undefined for anything else.
 * A use is recorded when the last one recorded is old enough (`lastUsedResolutionSeconds`).
 */
export async function authenticateAccessToken(db: Kysely<Database>, token: string): Promise<(Actor & { tokenId: number; email: string }) | undefined> {
  const hash = accessTokenHash(token);
  if (hash === undefined) return undefined;
  const row = await db
    .selectFrom("access_tokens as t")
    .innerJoin("users as u", "u.id", "t.user_id")
    .select(["t.id", "t.user_id", "u.email", tokenUseIsStale])
    .where("t.token_hash", "=", hash)
    .where("t.revoked_at", "is", null)
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.stale) await recordTokenUse(db, row.id);
  return { userId: row.user_id, tokenId: row.id, email: row.email };
}

/** How a token is looked up: its SHA-256; undefined for text not shaped like a token, refused before it costs a query. */
function accessTokenHash(token: string): string | undefined {
  return tokenShape.test(token) ? hashToken(token) : undefined;
}

// Selects, beside a live token (`t`), whether its last use is old enough to be recorded again.
const tokenUseIsStale = sql<boolean>`t.last_used_at is null or t.last_used_at < now() - make_interval(secs => ${lastUsedResolutionSeconds})`.as("stale");

// Records that a token was used now.
async function recordTokenUse(db: Kysely<Database>, tokenId: number): Promise<void> {
  await db.updateTable("access_tokens").set({ last_used_at: sql<Date>`now()` }).where("id", "=", tokenId).execute();
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function hintOf(hint: string): string {
  return `${accessTokenPrefix}${hint}…`;
}
