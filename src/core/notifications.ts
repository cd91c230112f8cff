import { sql, type Kysely } from "kysely";
import type { Database, Role } from "../db/schema.ts";
import type { Actor, Tx } from "./platform.ts";

/** Who made the change, as the notification names them. */
export interface NotifiedPerson {
  name: string;
  email: string;
}

/** The structured event of each notification kind; surfaces render it, core never does. */
export interface NotificationPayloads {
  "app.created": { app: string; hostname: string; origin: string };
  "env.created": { app: string; env: string; from: string; hostname?: string };
  "env.deleted": { app: string; env: string; domains: string[] };
  "domain.added": { app: string; env: string; hostname: string };
  "domain.removed": { app: string; env: string; hostname: string };
  "member.role_changed": { org: string; member: NotifiedPerson; from: Role; to: Role };
  "member.removed": { org: string; member: NotifiedPerson; role: Role };
}

export type NotificationKind = keyof NotificationPayloads;

/** One kind with its payload, as `notify` takes it. */
export type NotificationEvent = { [K in NotificationKind]: { kind: K; payload: NotificationPayloads[K] } }[NotificationKind];

/** A notification as stored: the event, who caused it, and where it goes. */
export type Notification = { [K in NotificationKind]: { kind: K; payload: NotificationPayloads[K] & { actor: NotifiedPerson | null } } }[NotificationKind] & {
  id: number;
  channelId: string;
  attempts: number;
};

/**
 * Writes a notification in the transaction of the change that causes it, addressed to the
 * application's channel, else the org's. With neither set, nothing is written.
 */
export async function notify(
  tx: Tx,
  input: NotificationEvent & {
    actor: Actor;
    /** The org the change belongs to. */
    org: { id: number };
    /** The application it concerns, whose own channel comes first. */
    app?: { id: number };
  },
): Promise<void> {
  // One statement: the channels and the actor's name are read in the same transaction, so a
  // channel set a moment ago is used and a message never goes to a channel already replaced.
  await tx
    .insertInto("outbox")
    .columns(["org_id", "kind", "channel_id", "payload"])
    .expression((eb) =>
      eb
        .selectFrom("orgs as o")
        .leftJoin("applications as a", (join) => join.onRef("a.org_id", "=", "o.id").on("a.id", "=", input.app?.id ?? null))
        .leftJoin("users as u", (join) => join.on("u.id", "=", input.actor.userId))
        .where("o.id", "=", input.org.id)
        .where(sql<string | null>`coalesce(a.channel_id, o.channel_id)`, "is not", null)
        .select([
          "o.id",
          sql.lit(input.kind).as("kind"),
          sql<string>`coalesce(a.channel_id, o.channel_id)`.as("channel_id"),
          sql<string>`${JSON.stringify(input.payload)}::jsonb || jsonb_build_object('actor', case when u.id is null then null else jsonb_build_object('name', u.display_name, 'email', u.email) end)`.as("payload"),
        ]),
    )
    .execute();
}

/** What became of one delivery attempt; the claim loop records it on the row. */
export type DeliveryOutcome =
  | { delivered: true; messageTs: string | null }
  | {
      delivered: false;
      error: string;
      /** When to try again; absent means give up for good. */
      retryAt?: Date;
      /** False for a wait that is not the message's fault (a rate limit): it does not use up an attempt. */
      countsAsAttempt?: boolean;
    };

/** How long a claimed notification is held for its deliverer before anyone may claim it again. */
export const deliveryLeaseSeconds = 60;

/**
 * Delivers due notifications one at a time. Each is claimed by pushing its next attempt a
 * lease ahead (one statement, `FOR UPDATE SKIP LOCKED`), handed to `deliver` outside any
 * transaction, and then marked delivered or rescheduled. Other processes skip it while it is
 * in flight, and no database connection waits on Slack. A process that dies mid-delivery
 * leaves the row to be claimed again when the lease ends. Returns how many were delivered;
 * stops at `limit` claims or when `shouldStop` says so.
 */
export async function deliverDueNotifications(
  db: Kysely<Database>,
  deliver: (notification: Notification) => Promise<DeliveryOutcome>,
  options: { limit?: number; maxAttempts: number; shouldStop?: () => boolean },
): Promise<number> {
  let delivered = 0;
  for (let claims = 0; claims < (options.limit ?? 100) && !options.shouldStop?.(); claims += 1) {
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
          .orderBy("next_attempt_at")
          .orderBy("id")
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returning(["id", "kind", "payload", "channel_id", "attempts"])
      .executeTakeFirst();
    if (!row) break;
    const notification = { id: row.id, kind: row.kind, payload: row.payload, channelId: row.channel_id, attempts: row.attempts } as Notification;
    const outcome = await deliver(notification).catch((error: unknown): DeliveryOutcome => ({ delivered: false, error: `delivery failed: ${describeError(error)}` }));
    if (outcome.delivered) {
      await db
        .updateTable("outbox")
        .set({ delivered_at: sql<Date>`now()`, message_ts: outcome.messageTs, attempts: row.attempts + 1, last_error: null })
        .where("id", "=", row.id)
        .execute();
      delivered += 1;
      continue;
    }
    const attempts = outcome.countsAsAttempt === false ? row.attempts : row.attempts + 1;
    const giveUp = outcome.retryAt === undefined || attempts >= options.maxAttempts;
    await db
      .updateTable("outbox")
      .set({
        attempts,
        last_error: giveUp && outcome.retryAt !== undefined ? `gave up after ${attempts} attempts: ${outcome.error}` : outcome.error,
        ...(giveUp ? { given_up_at: sql<Date>`now()` } : { next_attempt_at: outcome.retryAt! }),
      })
      .where("id", "=", row.id)
      .execute();
  }
  return delivered;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
