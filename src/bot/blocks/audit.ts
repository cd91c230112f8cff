import type { AuditEntry } from "../../core/audit.ts";
import { escapeText, MessageBuilder, say, when, type Message } from "../message.ts";

export function auditMessage(org: string, events: AuditEntry[]): Message {
  if (events.length === 0) return say(`Nothing has happened in *${org}* yet.`);
  return new MessageBuilder()
    .section(`*Audit log of ${org}* (newest first, ${events.length})`)
    .list(
      events.map((event) => {
        const who = event.actor ? escapeText(event.actor.name) : "a removed user";
        const details = Object.entries(event.details)
          .filter(([, value]) => value !== null && value !== undefined)
          .map(([key, value]) => `${key}: ${escapeText(Array.isArray(value) ? value.join(", ") : String(value))}`)
          .join(", ");
        return `${when(event.at)} · ${who} · \`${event.action}\` ${escapeText(event.target)}${details ? ` (${details})` : ""}`;
      }),
      { limit: 200, noun: "events" },
    )
    .build();
}
