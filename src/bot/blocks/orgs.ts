import type { Member } from "../../core/members.ts";
import type { OrgDetails, OrgSummary } from "../../core/orgs.ts";
import type { RoleRequest } from "../../core/role-requests.ts";
import { roleRequestLine } from "./role-requests.ts";
import { code, escapeText, MessageBuilder, say, when, type Message } from "../message.ts";

export function orgCreatedMessage(org: OrgSummary): Message {
  return say(`:white_check_mark: Created org *${org.slug}* (${escapeText(org.name)}). You are its owner. Next: ${code(`app create <hostname> --org ${org.slug}`)}`);
}

export function orgListMessage(orgs: OrgSummary[]): Message {
  if (orgs.length === 0) return say(`You are not in any org yet. Create one with ${code("org create <slug>")}, or ask an admin to invite you.`);
  return new MessageBuilder()
    .section(`*Your orgs* (${orgs.length})`)
    .list(
      orgs.map((org) => `*${org.slug}* — ${escapeText(org.name)} · ${org.role} · ${plural(org.applications, "application")}`),
      { noun: "orgs" },
    )
    .build();
}

export function orgDetailsMessage(org: OrgDetails): Message {
  return new MessageBuilder()
    .section(`*${org.slug}* — ${escapeText(org.name)}`)
    .section(
      [
        `Your role: ${org.role}`,
        `Owners: ${org.owners.map(escapeText).join(", ") || "none"}`,
        `Members: ${org.members} · Applications: ${org.applications}`,
        `Billing contact: ${org.billingEmail ?? "not set"}`,
        `Channel: ${org.channelId ? `<#${org.channelId}>` : "not set"}`,
        `Granting admin or owner takes: ${plural(org.approvalsRequired, "approval")} from owners or admins other than the requester`,
      ].join("\n"),
    )
    .context(`Created ${when(org.createdAt)}`)
    .build();
}

export function memberListMessage(org: { slug: string; name: string }, members: Member[], requests: RoleRequest[] = []): Message {
  const builder = new MessageBuilder()
    .section(`*Members of ${org.slug}* (${members.length})`)
    .list(members.map((member) => `${escapeText(member.displayName)} <${escapeText(member.email)}> · ${member.role}`), { noun: "members" });
  if (requests.length > 0) {
    builder
      .section(`*Role changes waiting for approval* (${requests.length})`)
      .list(requests.map(roleRequestLine), { limit: 20, noun: "requests" })
      .context(`Decide with ${code("member approve <id>")} or ${code("member deny <id> [reason]")}.`);
  }
  return builder.build();
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
