import type { HomeView, KnownBlock, SectionBlock } from "@slack/types";
import { may } from "../../core/permissions.ts";
import type { OrgApplications } from "../../core/applications.ts";
import { describeProgress } from "../../core/approvals.ts";
import type { Invitation } from "../../core/invitations.ts";
import type { RoleRequest } from "../../core/role-requests.ts";
import { code, escapeText, fit, maxSectionText, maxViewBlocks, when } from "../message.ts";
import { invitationButtons, roleRequestButtons } from "./notifications.ts";
import { dnsStatus, hostnameLabel } from "./applications.ts";
import { formButtonValue, openFormAction } from "./modals.ts";
import { plural } from "./orgs.ts";

/** Invitation requests, and role requests, the Home tab shows with their buttons. */
export const homeRequestsShown = 5;

/** Applications read per org for the Home tab: more than 100 blocks could never show. */
export const homeApplicationsPerOrg = 30;

// Within one application's section, so a section stays far below Slack's 3000 characters.
const environmentsShown = 10;
const domainsShown = 5;

/**
 * The Home tab: each of the person's orgs with their role, its applications, and each
 * application's environments with their domains and DNS status. It stays within 100 blocks;
 * what does not fit is counted, with the command that lists it.
 */
export function homeView(
  orgs: OrgApplications[],
  options: { slashCommand: string; awaiting: { total: number; invitations: Invitation[] }; roleRequests?: { total: number; requests: RoleRequest[] } },
): HomeView {
  const slash = options.slashCommand;
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: "Your edge" } },
    section(`Your orgs, their applications and each environment's domains with their DNS status. Type ${code(`${slash} help`)} for every command.`),
    {
      type: "actions",
      elements: [
        // Action ids are unique within a block; the listener takes every id that starts with openFormAction.
        { type: "button", action_id: `${openFormAction}:app`, text: { type: "plain_text", text: "New application" }, value: formButtonValue("app create"), style: "primary" },
        { type: "button", action_id: `${openFormAction}:org`, text: { type: "plain_text", text: "New org" }, value: formButtonValue("org create") },
      ],
    },
  ];
  blocks.push(...awaitingBlocks(options.awaiting, slash));
  if (options.roleRequests) blocks.push(...roleRequestBlocks(options.roleRequests, slash));
  if (orgs.length === 0) {
    blocks.push(
      section(`You are not in any org yet. Create one with ${code(`${slash} org create <slug>`)}, or ask an admin of your team's org to invite you.`),
      context(`Then add a website: ${code(`${slash} app create <hostname> --org <slug>`)}`),
    );
    return { type: "home", blocks };
  }
  // One block stays free for the note on orgs that did not fit.
  const budget = maxViewBlocks - 1;
  for (const [index, org] of orgs.entries()) {
    // An org needs a divider, its heading, one line and a note at least.
    if (blocks.length + 4 > budget) {
      const left = orgs.length - index;
      blocks.push(context(`…and ${plural(left, "more org")}: ${code(`${slash} org list`)}`));
      break;
    }
    const heading = section(`*${org.slug}* — ${escapeText(org.name)} · your role: ${org.role} · ${plural(org.applications, "application")}`);
    if (may(org.role, "build")) heading.accessory = { type: "button", action_id: openFormAction, text: { type: "plain_text", text: "New application" }, value: formButtonValue("app create", org.slug) };
    blocks.push({ type: "divider" }, heading);
    if (org.applications === 0) {
      blocks.push(context(`No applications yet: ${code(`${slash} app create <hostname> --org ${org.slug}`)}`));
      continue;
    }
    // Leave room for this org's note when some of its applications do not fit.
    const room = budget - blocks.length - 1;
    const shown = org.shown.slice(0, Math.max(room, 0));
    for (const app of shown) blocks.push(applicationSection(app, slash, may(org.role, "build")));
    const more = org.applications - shown.length;
    if (more > 0) blocks.push(context(`…and ${plural(more, "more application")} in ${org.slug}: ${code(`${slash} app list ${org.slug}`)}`));
  }
  return { type: "home", blocks };
}

/** An application's environments and domains, with a menu of the forms that add to it for those who may build. */
function applicationSection(app: OrgApplications["shown"][number], slash: string, canBuild: boolean): SectionBlock {
  const block = section(applicationText(app, slash));
  if (canBuild) {
    block.accessory = {
      type: "overflow",
      action_id: openFormAction,
      options: [
        { text: { type: "plain_text", text: "New environment" }, value: formButtonValue("env create", app.ref) },
        { text: { type: "plain_text", text: "Add a domain" }, value: formButtonValue("domain add", app.ref) },
      ],
    };
  }
  return block;
}

/** Invitation requests the person can decide, each with its buttons; the rest counted. */
function awaitingBlocks(awaiting: { total: number; invitations: Invitation[] }, slash: string): KnownBlock[] {
  if (awaiting.total === 0) return [];
  const blocks: KnownBlock[] = [{ type: "divider" }, section(`*Invitation requests waiting for you* (${awaiting.total})`)];
  for (const invitation of awaiting.invitations) {
    blocks.push(
      section(
        `${escapeText(invitation.requestedBy ?? "Someone")} asks to invite *${escapeText(invitation.email)}* to *${invitation.org}* as ${invitation.role}${progressNote(invitation)} · expires ${when(invitation.expiresAt)}`,
      ),
      invitationButtons(invitation.id),
    );
  }
  const more = awaiting.total - awaiting.invitations.length;
  if (more > 0) blocks.push(context(`…and ${plural(more, "more request")}: ${code(`${slash} invite list <org>`)}`));
  return blocks;
}

/** Role requests the person can approve, each with its buttons; the rest counted. */
function roleRequestBlocks(awaiting: { total: number; requests: RoleRequest[] }, slash: string): KnownBlock[] {
  if (awaiting.total === 0) return [];
  const blocks: KnownBlock[] = [{ type: "divider" }, section(`*Role changes waiting for you* (${awaiting.total})`)];
  for (const request of awaiting.requests) {
    blocks.push(
      section(
        `${escapeText(request.requestedBy ?? "Someone")} asks to make *${escapeText(request.member.name)}* (${escapeText(request.member.email)}) ${request.to} of *${request.org}* (now ${request.from})${progressNote(request)} · expires ${when(request.expiresAt)}`,
      ),
      roleRequestButtons(request.id),
    );
  }
  const more = awaiting.total - awaiting.requests.length;
  if (more > 0) blocks.push(context(`…and ${plural(more, "more request")}: ${code(`${slash} member list <org>`)}`));
  return blocks;
}

/** " · 1 of 2 approvals: approved by ana", for a request that takes more than one approval or has one. */
function progressNote(progress: { approvalsRequired: number; approvedBy: string[] }): string {
  return progress.approvalsRequired > 1 || progress.approvedBy.length > 0 ? ` · ${escapeText(describeProgress(progress))}` : "";
}

function applicationText(app: OrgApplications["shown"][number], slash: string): string {
  const lines = [`*${app.ref}*`];
  for (const environment of app.environments.slice(0, environmentsShown)) {
    const domains = environment.domains.slice(0, domainsShown).map((domain) => `${hostnameLabel(domain.hostname)} — ${dnsStatus(domain.dnsStatus)}`);
    if (environment.domains.length > domainsShown) domains.push(`…and ${environment.domains.length - domainsShown} more`);
    lines.push(`• ${environment.name}: ${domains.length > 0 ? domains.join(" · ") : "_no domains_"}`);
  }
  if (app.environments.length > environmentsShown) {
    lines.push(`…and ${plural(app.environments.length - environmentsShown, "more environment")}: ${code(`${slash} env list ${app.ref}`)}`);
  }
  return lines.join("\n");
}

function section(text: string): SectionBlock {
  return { type: "section", text: { type: "mrkdwn", text: fit(text, maxSectionText) } };
}

function context(text: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: fit(text, maxSectionText) }] };
}
