import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { z } from "zod";
import { oneOrg, orgAccessColumns, orgInScope } from "./access.ts";
import { parseField } from "./names.ts";
import { authorize } from "./permissions.ts";
import type { Actor, Platform } from "./platform.ts";

export interface AuditEntry {
  /** What was done, like `app.create`. */
  action: string;
  /** The object it was done to, like `acme/www`. */
  target: string;
  details: Record<string, unknown>;
  /** Display name and email of who did it; null when that user is gone. */
  actor: { name: string; email: string } | null;
  at: Date;
}

/** Writes one audit event; call it with the transaction that makes the change. */
export async function recordAudit(
  tx: Transaction<Database> | Kysely<Database>,
  event: {
    /** The org the change belongs to. */
    org: { id: number; slug: string };
    /** Who did it; null for edgebot's own background work. */
    actor: Actor | null;
    action: string;
    target: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await tx
    .insertInto("audit_events")
    .values({
      org_id: event.org.id,
      org_slug: event.org.slug,
      actor_id: event.actor?.userId ?? null,
      action: event.action,
      target: event.target,
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}

const auditLimit = z.coerce.number().int("must be a whole number").min(1, "must be at least 1").max(200, "must be 200 at most");

/** The newest audit events of an org, for its owners and admins. */
export async function listAuditEvents(
  platform: Platform,
  input: {
    actor: Actor;
    /** The org's slug. */
    org: string;
    /** How many events, newest first (default 20, at most 200). */
    limit?: number | string | undefined;
  },
): Promise<{ org: { slug: string; name: string }; events: AuditEntry[] }> {
  const limit = input.limit === undefined ? 20 : parseField(auditLimit, input.limit, "limit", "--limit");
  // The org, the actor's role and the newest events in one statement; the role is checked before anything is returned.
  const found = await orgInScope(platform.db, input.actor, input.org)
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom("audit_events as e")
          .leftJoin("users as u", "u.id", "e.actor_id")
          .select(["e.id", "e.action", "e.target", "e.details", "e.created_at", "u.display_name", "u.email"])
          .whereRef("e.org_id", "=", "o.id")
          .orderBy("e.id", "desc")
          .limit(limit)
          .as("ev"),
      (join) => join.onTrue(),
    )
    .select([...orgAccessColumns, "ev.action", "ev.target", "ev.details", "ev.created_at", "ev.display_name", "ev.email"])
    .orderBy("ev.id", "desc")
    .execute();
  const { org, rows } = oneOrg(found, input.org);
  authorize(org.role, "administer", `org ${input.org} not found`);
  return {
    org: { slug: org.slug, name: org.name },
    events: rows
      .filter((row) => row.action !== null)
      .map((row) => ({
        action: row.action!,
        target: row.target!,
        details: row.details!,
        actor: row.display_name === null ? null : { name: row.display_name, email: row.email ?? "" },
        at: row.created_at!,
      })),
  };
}
