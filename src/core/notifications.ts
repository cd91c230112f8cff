import { sql, type Kysely, type WhereInterface } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import type { Verdict } from "../dns/verify.ts";
import type { Actor, Tx } from "./platform.ts";

/** Who made the change, as the notification names them. */
export interface NotifiedPerson {
  name: string;
  email: string;
}

/** The structured event of each notification kind; surfaces render it, core never does. */
export interface NotificationPayloads {
  "app.created": { app: string; hostname: string; origin: string };
  /** `split` now handles `prefix` of `app`'s domains. */
  "app.split": { app: string; split: string; prefix: string };
  "env.created": { app: string; env: string; from: string; hostname?: string };
  "env.deleted": { app: string; env: string; domains: string[] };
  /** A file of an environment was edited from chat: the commit that holds the edit. */
  "config.edited": { app: string; env: string; path: string; commit: string; message: string };
  /** `from` was merged into `to`; `commit` is `to`'s new head (a fast-forward or a merge commit). */
  "env.promoted": { app: string; from: string; to: string; commit: string; fastForward: boolean };
  "domain.added": { app: string; env: string; hostname: string };
  "domain.removed": { app: string; env: string; hostname: string };
  "member.role_changed": { org: string; member: NotifiedPerson; from: Role; to: Role };
  "member.removed": { org: string; member: NotifiedPerson; role: Role };
  /** Told directly to the person whose notification could not reach `channel`: the bot is not in it and cannot join. */
  "channel.unreachable": { channel: string };
  /**
   * Someone asks for an invitation that needs approval: to the org's channel, else to each owner
   * and admin. `approvals` is how many it takes (absent in messages from before thresholds: 1).
   */
  "invitation.requested": { org: string; invitation: number; email: string; role: Role; approvals?: number };
  /** Not a new message: `copy` (an `invitation.requested` message) is edited to show the approvals so far, keeping its buttons. */
  "invitation.progress": { org: string; invitation: number; email: string; role: Role; approvals: number; approvedBy: string[]; copy: number };
  /** To the requester: how their request was decided. */
  "invitation.decided": { org: string; invitation: number; email: string; role: Role; status: string; reason: string | null };
  /**
   * A go-live check's results: one line per domain; `wentLive` when this check made the
   * environment live, `regressed` when it ended its being live. `nextRecheckAt` (ISO 8601) is
   * when background re-checks look next, while they run (absent in messages from before it).
   */
  "golive.results": { app: string; env: string; verdicts: Verdict[]; live: boolean; wentLive?: boolean; regressed?: boolean; nextRecheckAt?: string };
  /** An environment went live: every one of its domains passes; `background` when a re-check found it. */
  "env.live": { app: string; env: string; hostnames: string[]; background?: boolean };
  /** A live environment's domain no longer points at the edge; `verdicts` are every domain's; `nextRecheckAt` as in `golive.results`. */
  "env.regressed": { app: string; env: string; verdicts: Verdict[]; background: boolean; nextRecheckAt?: string };
  /** Background re-checks of an environment awaiting DNS stopped: 48 hours passed without every domain passing. */
  "golive.gave_up": { app: string; env: string; verdicts: Verdict[]; since: string };
  /** A hostname moved to `app` `env` by DNS proof (`domain claim`); `background` when a background look found the record. */
  "domain.claimed": { app: string; env: string; hostname: string; background?: boolean };
  /**
   * To the org that held `hostname`: another org proved control of its DNS and took it. The
   * claiming org is not named. `live` is the environment's state after, with `domainsLeft` domains.
   */
  "domain.claimed_away": { app: string; env: string; hostname: string; recordName: string; live: boolean; domainsLeft: number };
  /** Background looks for a claim's TXT record stopped: 48 hours passed without it. */
  "claim.gave_up": { app: string; env: string; hostname: string; recordName: string; token: string; since: string };
  /** A git client pushed to an environment: how many commits, and the newest few. */
  "git.pushed": { app: string; env: string; count: number; commits: Array<{ sha: string; subject: string }>; before: string; after: string };
  /** To the person invited: they are now a member. */
  "member.joined": { org: string; role: Role };
  /**
   * Not a new message: `copy` (the outbox id of an `invitation.requested` message) is edited to
   * show how the request ended, and loses its buttons.
   */
  "invitation.settled": {
    org: string;
    invitation: number;
    email: string;
    role: Role;
    status: string;
    decidedBy: string | null;
    decidedAt: string | null;
    /** Everyone whose approval counted (absent in messages from before thresholds). */
    approvedBy?: string[];
    copy: number;
  };
  /** A member is to become admin or owner: to the org's channel, else to each owner and admin, with buttons. */
  "role.requested": { org: string; request: number; member: NotifiedPerson; from: Role; to: Role; approvals: number };
  /** Not a new message: `copy` (a `role.requested` message) shows the approvals so far, keeping its buttons. */
  "role.progress": { org: string; request: number; member: NotifiedPerson; from: Role; to: Role; approvals: number; approvedBy: string[]; copy: number };
  /** Not a new message: `copy` (a `role.requested` message) shows how the request ended, and loses its buttons. */
  "role.settled": { org: string; request: number; member: NotifiedPerson; from: Role; to: Role; status: string; decidedBy: string | null; decidedAt: string | null; approvedBy: string[]; copy: number };
  /** To the requester: how their role request was decided. */
  "role.decided": { org: string; request: number; member: NotifiedPerson; to: Role; status: string; reason: string | null };
  // Agency handover: moves, clones, leaving (src/core/moves.ts, clones.ts, members.ts).
  /** `app` (`org/app`) is to move to org `to`: to the target org's channel, else its owners and admins, with buttons. */
  "app.move_requested": { move: number; app: string; to: string };
  /** Not a new message: `copy` (an `app.move_requested` message) shows how the request ended, and loses its buttons. */
  "app.move_settled": { move: number; app: string; to: string; status: string; decidedBy: string | null; decidedAt: string | null; copy: number };
  /** To the requester: how their move request was decided. */
  "app.move_decided": { move: number; app: string; to: string; status: string; reason: string | null };
  /** An application moved from `from` (its old `org/app`) to `app` (its new one): to both orgs. */
  "app.moved": { app: string; from: string };
  /** `app` was created as a copy of `from`'s production history. */
  "app.cloned": { app: string; from: string };
  /** A member left the org by themselves. */
  "member.left": { org: string; member: NotifiedPerson; role: Role };
}

export type NotificationKind = keyof NotificationPayloads;

/** The kinds that edit an earlier message (its outbox id is the payload's `copy`) instead of posting one. */
export const messageEdits = ["invitation.progress", "invitation.settled", "role.progress", "role.settled", "app.move_settled"] as const satisfies readonly NotificationKind[];
export type MessageEditKind = (typeof messageEdits)[number];

/** True for a notification that edits an earlier message. */
export function isMessageEdit(notification: Notification): notification is Extract<Notification, { kind: MessageEditKind }> {
  return (messageEdits as readonly string[]).includes(notification.kind);
}

// Written by their own functions: `channel.unreachable` by delivery, edits by `editRequestMessages`.
type WrittenElsewhere = "channel.unreachable" | MessageEditKind;

/** One kind with its payload, as `notify` takes it. */
export type NotificationEvent = { [K in Exclude<NotificationKind, WrittenElsewhere>]: { kind: K; payload: NotificationPayloads[K] } }[Exclude<NotificationKind, WrittenElsewhere>];

/** A notification as stored: the event, who caused it, and where it goes. */
export type Notification = { [K in NotificationKind]: { kind: K; payload: NotificationPayloads[K] & { actor: NotifiedPerson | null } } }[NotificationKind] & {
  id: number;
  /** A channel, or for `channel.unreachable` the chat user id of the person it is for. */
  channelId: string;
  /** The chat workspace of `channelId`; null for a channel set before workspaces were recorded. */
  teamId: string | null;
  attempts: number;
};

/** Where `notifyChannel` wrote a notification: whose channel it was, and its id. */
export interface NotifiedChannel {
  /** The application's channel, the org's, or (with neither set) the conversation given as the last resort. */
  of: "application" | "org" | "conversation";
  channelId: string;
}

/**
 * Writes a notification in the transaction of the change that causes it, addressed to the
 * application's channel, else the org's, in the workspace that channel was set in. With
 * neither set, nothing is written. Says whether a message was written.
 */
export async function notify(
  tx: Tx,
  input: NotificationEvent & {
    /** Who made the change; null for edgebot's own background work. */
    actor: Actor | null;
    /** The org the change belongs to. */
    org: { id: number };
    /** The application it concerns, whose own channel comes first. */
    app?: { id: number };
  },
): Promise<boolean> {
  return (await notifyChannel(tx, input)) !== undefined;
}

/**
 * `notify`, saying where the message went; `orElseIn` is the conversation it goes to when
 * neither the application nor the org has a channel (where a command was typed).
 */
export async function notifyChannel(
  tx: Tx,
  input: NotificationEvent & {
    actor: Actor | null;
    org: { id: number };
    app?: { id: number };
    /** The conversation of last resort, in its chat workspace. */
    orElseIn?: { channelId: string; teamId: string };
  },
): Promise<NotifiedChannel | undefined> {
  const elseChannel = input.orElseIn?.channelId ?? null;
  const elseTeam = input.orElseIn?.teamId ?? null;
  // One statement: the channels and the actor's name are read in the same transaction, so a
  // channel set a moment ago is used and a message never goes to a channel already replaced.
  const written = await tx
    .with("chosen", (db) =>
      db
        .selectFrom("orgs as o")
        .leftJoin("applications as a", (join) => join.onRef("a.org_id", "=", "o.id").on("a.id", "=", input.app?.id ?? null))
        .leftJoin("users as u", (join) => join.on("u.id", "=", input.actor?.userId ?? null))
        .where("o.id", "=", input.org.id)
        .select([
          "o.id as org_id",
          sql<NotifiedChannel["of"]>`case when a.channel_id is not null then 'application' when o.channel_id is not null then 'org' else 'conversation' end`.as("of"),
          sql<string>`coalesce(a.channel_id, o.channel_id, ${elseChannel}::text)`.as("channel_id"),
          // The workspace goes with whichever channel was chosen, never one from the other.
          sql<string | null>`case when a.channel_id is not null then a.channel_team_id when o.channel_id is not null then o.channel_team_id else ${elseTeam}::text end`.as("team_id"),
          sql<string>`${JSON.stringify(input.payload)}::jsonb || jsonb_build_object('actor', case when u.id is null then null else jsonb_build_object('name', u.display_name, 'email', u.email) end)`.as("payload"),
        ]),
    )
    .with("written", (db) =>
      db
        .insertInto("outbox")
        .columns(["org_id", "kind", "channel_id", "team_id", "actor_id", "payload"])
        .expression((eb) =>
          eb
            .selectFrom("chosen")
            .where("chosen.channel_id", "is not", null)
            .select(["chosen.org_id", sql.lit(input.kind).as("kind"), "chosen.channel_id", "chosen.team_id", sql<number | null>`${input.actor?.userId ?? null}::integer`.as("actor_id"), "chosen.payload"]),
        )
        .returning("id"),
    )
    .selectFrom("chosen")
    .where("chosen.channel_id", "is not", null)
    .select(["chosen.of", "chosen.channel_id"])
    .executeTakeFirst();
  return written === undefined ? undefined : { of: written.of, channelId: written.channel_id };
}

/**
 * Writes a notification to people directly, in the transaction of the change that causes it:
 * one direct message each, to their most recent chat identity. `to` names the people, or asks
 * for the application's channel (given `app`) or the org's when there is one, and else each of
 * the org's owners and admins, with `alsoMembers` (members of the org) besides them.
 */
export async function notifyPeople(
  tx: Tx,
  input: NotificationEvent & {
    actor: Actor | null;
    org: { id: number };
    app?: { id: number };
    to: { users: number[] } | { channelElse: "administrators"; alsoMembers?: number[] };
  },
): Promise<void> {
  // To the application's or the org's channel when there is one: then notify writes the message.
  if ("channelElse" in input.to && (await notify(tx, input))) return;
  const recipients = "users" in input.to ? input.to.users : undefined;
  if (recipients !== undefined && recipients.length === 0) return;
  const alsoMembers = "channelElse" in input.to ? (input.to.alsoMembers ?? []) : [];
  await tx
    .insertInto("outbox")
    .columns(["org_id", "kind", "channel_id", "team_id", "actor_id", "payload"])
    .expression((eb) => {
      let people = eb
        .selectFrom("user_identities as i")
        .leftJoin("users as author", (join) => join.on("author.id", "=", input.actor?.userId ?? null))
        .distinctOn("i.user_id")
        .select([
          sql<number>`${input.org.id}::integer`.as("org_id"),
          sql.lit(input.kind).as("kind"),
          "i.chat_user_id",
          "i.team_id",
          sql<number | null>`${input.actor?.userId ?? null}::integer`.as("actor_id"),
          sql<string>`${JSON.stringify(input.payload)}::jsonb || jsonb_build_object('actor', case when author.id is null then null else jsonb_build_object('name', author.display_name, 'email', author.email) end)`.as("payload"),
        ])
        .orderBy("i.user_id")
        .orderBy("i.created_at", "desc");
      people =
        recipients !== undefined
          ? people.where("i.user_id", "in", recipients)
          : people.where(
              "i.user_id",
              "in",
              eb
                .selectFrom("memberships as m")
                .select("m.user_id")
                .where("m.org_id", "=", input.org.id)
                .where((member) => (alsoMembers.length === 0 ? member("m.role", "in", ["owner", "admin"]) : member.or([member("m.role", "in", ["owner", "admin"]), member("m.user_id", "in", alsoMembers)]))),
            );
      return people;
    })
    .execute();
}

/**
 * Writes, for every copy of an invitation's request message, the edit that shows how it ended
 * (`invitation.settled`), in the transaction of the decision or expiry.
 */
export async function settleInvitationMessages(
  tx: Tx,
  invitation: { id: number; org: string; email: string; role: Role; status: string; decidedBy: string | null; decidedAt: Date | null; approvedBy: string[] },
  actor: Actor | null,
): Promise<void> {
  const { id, org, email, role, status, decidedBy, decidedAt, approvedBy } = invitation;
  await editRequestMessages(tx, {
    request: { kind: "invitation.requested", id },
    edit: { kind: "invitation.settled", payload: { org, invitation: id, email, role, status, decidedBy, decidedAt: decidedAt?.toISOString() ?? null, approvedBy } },
    actor,
  });
}

/** Where a request's message is: its kind, and the id its payload names it by (`invitation`, `request` or `move`). */
export type RequestMessage = { kind: "invitation.requested"; id: number } | { kind: "role.requested"; id: number } | { kind: "app.move_requested"; id: number };

/** One edit, as `editRequestMessages` takes it: the payload without the copy it edits. */
export type MessageEdit = { [K in MessageEditKind]: { kind: K; payload: Omit<NotificationPayloads[K], "copy"> } }[MessageEditKind];

/**
 * Writes, for every copy of a request's message (in a channel, or one per owner and admin), an
 * edit of it: progress, or how it ended. In the transaction of the approval, decision or expiry.
 */
export async function editRequestMessages(tx: Tx, input: { request: RequestMessage; edit: MessageEdit; actor: Actor | null }): Promise<void> {
  const payload = { ...input.edit.payload, actor: null };
  const key = input.request.kind === "invitation.requested" ? "invitation" : input.request.kind === "app.move_requested" ? "move" : "request";
  await tx
    .insertInto("outbox")
    .columns(["org_id", "kind", "channel_id", "team_id", "actor_id", "payload"])
    .expression((eb) =>
      eb
        .selectFrom("outbox as copy")
        .select([
          "copy.org_id",
          sql.lit(input.edit.kind).as("kind"),
          "copy.channel_id",
          "copy.team_id",
          sql<number | null>`${input.actor?.userId ?? null}::integer`.as("actor_id"),
          sql<string>`${JSON.stringify(payload)}::jsonb || jsonb_build_object('copy', copy.id)`.as("payload"),
        ])
        .where("copy.kind", "=", input.request.kind)
        .where(sql<string>`copy.payload->>${key}`, "=", String(input.request.id))
        .where("copy.given_up_at", "is", null),
    )
    .execute();
}

/**
 * True when a later edit of the same message is waiting or done: an edit delivered late (after
 * retries) must not bring back the buttons of a request already decided.
 */
export async function hasNewerEdit(db: Kysely<Database>, edit: { id: number; copy: number }): Promise<boolean> {
  const row = await db
    .selectFrom("outbox")
    .select("id")
    .where("kind", "in", [...messageEdits])
    .where("id", ">", edit.id)
    .where(sql<string>`payload->>'copy'`, "=", String(edit.copy))
    .where("given_up_at", "is", null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Where an outbox message was posted, if it was: its conversation and timestamp, which an edit needs. */
export async function findPostedMessage(
  db: Kysely<Database>,
  id: number,
): Promise<{ state: "posted"; channelId: string; ts: string } | { state: "pending" } | { state: "never" }> {
  const row = await db.selectFrom("outbox").select(["channel_id", "message_channel_id", "message_ts", "delivered_at", "given_up_at"]).where("id", "=", id).executeTakeFirst();
  if (!row || row.given_up_at !== null || (row.delivered_at !== null && row.message_ts === null)) return { state: "never" };
  if (row.delivered_at === null || row.message_ts === null) return { state: "pending" };
  return { state: "posted", channelId: row.message_channel_id ?? row.channel_id, ts: row.message_ts };
}

/** What became of one delivery attempt; the claim loop records it on the row. */
export type DeliveryOutcome =
  | { delivered: true; messageTs: string | null; messageChannelId?: string | null }
  | {
      delivered: false;
      error: string;
      /** When to try again; absent means give up for good. */
      retryAt?: Date;
      /** False for a wait that is not the message's fault (a rate limit): it does not use up an attempt. */
      countsAsAttempt?: boolean;
      /**
       * Giving up, tell the person who caused the notification: a `channel.unreachable` message
       * to them directly, written in the same transaction as the give-up so it is written once.
       */
      tellActor?: boolean;
    };

/** The notifications not yet delivered nor given up, and how long the oldest of them has waited (0 with none). */
export async function outboxBacklog(db: Kysely<Database>): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const row = await db
    .selectFrom("outbox")
    .select([sql<string>`count(*)`.as("depth"), sql<string | null>`extract(epoch from now() - min(created_at))`.as("oldest")])
    .where("delivered_at", "is", null)
    .where("given_up_at", "is", null)
    .executeTakeFirstOrThrow();
  return { depth: Number(row.depth), oldestAgeSeconds: row.oldest === null ? 0 : Math.max(0, Number(row.oldest)) };
}

/** The NOTIFY channel every write to the outbox signals when it commits (migrations/0014_outbox_wakeup.ts). */
export const outboxChannel = "edgebot_outbox";

/** How long a claimed notification is held for its deliverer before anyone may claim it again. */
export const deliveryLeaseSeconds = 60;

/**
 * Delivers due notifications one at a time. Each is claimed by pushing its next attempt a
 * lease ahead (one statement, `FOR UPDATE SKIP LOCKED`), handed to `deliver` outside any
 * transaction, and then marked delivered or rescheduled. Other processes skip it while it is
 * in flight, and no database connection waits on Slack. A process that dies mid-delivery
 * leaves the row to be claimed again when the lease ends. Returns how many were delivered;
 * stops at `limit` claims, when `shouldStop` says so, or when nothing due is left to claim.
 */
export async function deliverDueNotifications(
  db: Kysely<Database>,
  deliver: (notification: Notification) => Promise<DeliveryOutcome>,
  options: {
    limit?: number;
    maxAttempts: number;
    shouldStop?: () => boolean;
    /**
     * Workspaces whose notifications are not to be claimed now (asked before each claim; null
     * for notifications without one): theirs stay due, untouched, while the others are delivered.
     */
    heldWorkspaces?: () => ReadonlyArray<string | null>;
  },
): Promise<number> {
  let delivered = 0;
  for (let claims = 0; claims < (options.limit ?? 100) && !options.shouldStop?.(); claims += 1) {
    const held = options.heldWorkspaces?.() ?? [];
    const row = await db
      .updateTable("outbox")
      .set({ next_attempt_at: sql<Date>`now() + make_interval(secs => ${deliveryLeaseSeconds})` })
      .where("id", "=", (eb) =>
        eb
          .selectFrom("outbox")
          .select("id")
          .where("delivered_at", "is", null)
          .where("given_up_at", "is", null)
          .where("next_attempt_at", "<=", sql<Date>`now()`)
          .$call((query) => withoutWorkspaces(query, held))
          .orderBy("next_attempt_at")
          .orderBy("id")
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returning(["id", "org_id", "kind", "payload", "channel_id", "team_id", "actor_id", "attempts"])
      .executeTakeFirst();
    if (!row) break;
    const notification = { id: row.id, kind: row.kind, payload: row.payload, channelId: row.channel_id, teamId: row.team_id, attempts: row.attempts } as Notification;
    const outcome = await deliver(notification).catch((error: unknown): DeliveryOutcome => ({ delivered: false, error: `delivery failed: ${describeError(error)}` }));
    if (outcome.delivered) {
      await db
        .updateTable("outbox")
        .set({ delivered_at: sql<Date>`now()`, message_ts: outcome.messageTs, message_channel_id: outcome.messageChannelId ?? null, attempts: row.attempts + 1, last_error: null })
        .where("id", "=", row.id)
        .execute();
      delivered += 1;
      continue;
    }
    const attempts = outcome.countsAsAttempt === false ? row.attempts : row.attempts + 1;
    const giveUp = outcome.retryAt === undefined || attempts >= options.maxAttempts;
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable("outbox")
        .set({
          attempts,
          last_error: giveUp && outcome.retryAt !== undefined ? `gave up after ${attempts} attempts: ${outcome.error}` : outcome.error,
          ...(giveUp ? { given_up_at: sql<Date>`now()` } : { next_attempt_at: outcome.retryAt! }),
        })
        .where("id", "=", row.id)
        .execute();
      if (giveUp && outcome.tellActor) await tellActorChannelUnreachable(tx, row);
    });
  }
  return delivered;
}

/**
 * Writes the `channel.unreachable` message for the person who caused an undeliverable
 * notification, to their chat identity in the channel's workspace. Nothing is written when
 * they have none there, or when a message about the same channel is still waiting for them:
 * several notifications failing together make one message.
 */
async function tellActorChannelUnreachable(tx: Tx, row: { org_id: number | null; channel_id: string; team_id: string | null; actor_id: number | null }): Promise<void> {
  if (row.team_id === null || row.actor_id === null) return;
  await tx
    .insertInto("outbox")
    .columns(["org_id", "kind", "channel_id", "team_id", "payload"])
    .expression((eb) =>
      eb
        .selectFrom("user_identities as i")
        .where("i.team_id", "=", row.team_id)
        .where("i.user_id", "=", row.actor_id)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("outbox as waiting")
                .select("waiting.id")
                .where("waiting.kind", "=", "channel.unreachable")
                .where("waiting.team_id", "=", row.team_id)
                .whereRef("waiting.channel_id", "=", "i.chat_user_id")
                .where(sql<string>`waiting.payload->>'channel'`, "=", row.channel_id)
                .where("waiting.delivered_at", "is", null)
                .where("waiting.given_up_at", "is", null),
            ),
          ),
        )
        .select([
          sql<number | null>`${row.org_id}::integer`.as("org_id"),
          sql.lit("channel.unreachable").as("kind"),
          "i.chat_user_id",
          "i.team_id",
          sql<string>`${JSON.stringify({ channel: row.channel_id, actor: null })}::jsonb`.as("payload"),
        ])
        .orderBy("i.created_at")
        .limit(1),
    )
    .execute();
}

/** Leaves out the notifications of `held` workspaces (null: those without a workspace). */
function withoutWorkspaces<Q extends WhereInterface<Database, "outbox">>(query: Q, held: ReadonlyArray<string | null>): Q {
  const named = held.filter((teamId): teamId is string => teamId !== null);
  const nullHeld = named.length < held.length;
  if (named.length === 0) return nullHeld ? (query.where("team_id", "is not", null) as Q) : query;
  // `not in` is never true of a null team_id: those rows are kept by name unless null is held too.
  return query.where((eb) => (nullHeld ? eb("team_id", "not in", named) : eb.or([eb("team_id", "is", null), eb("team_id", "not in", named)]))) as Q;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Announces what a background check found (a go-live, a regression, a give-up, a claim) in the
 * application's channel, else the org's; with neither, by direct message to the org's owners
 * and admins, and to the member who asked for the check when they are not one of them.
 */
export async function announceInBackground(tx: Tx, where: { org: { id: number }; applicationId: number }, askedBy: number | null, event: NotificationEvent): Promise<void> {
  await notifyPeople(tx, { ...event, org: where.org, app: { id: where.applicationId }, actor: null, to: { channelElse: "administrators", alsoMembers: askedBy === null ? [] : [askedBy] } });
}
