import type { HomeView, KnownBlock, SectionBlock } from "@slack/types";
import type { Verdict } from "../../core/golive.ts";
import { may } from "../../core/permissions.ts";
import type { OrgApplications } from "../../core/applications.ts";
import { describeProgress } from "../../core/approvals.ts";
import type { Invitation } from "../../core/invitations.ts";
import type { RoleRequest } from "../../core/role-requests.ts";
import { code, escapeText, fit, maxBlocks, maxSectionText, maxViewBlocks, MessageBuilder, when, type Message } from "../message.ts";
import { homeEnvironmentButtons } from "./buttons.ts";
import { dnsCheckMessage } from "./dns.ts";
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
 * application's environments with their domains and DNS status, with "Go live" and "Check DNS"
 * buttons. It stays within 100 blocks; what does not fit is counted, with the command that lists it.
 */
export function homeView(
  orgs: OrgApplications[],
  options: {
    slashCommand: string;
    awaiting: { total: number; invitations: Invitation[] };
    roleRequests?: { total: number; requests: RoleRequest[] };
    /** Names this publication in its buttons: a click takes effect once per publication. */
    publication?: string;
  },
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
    let used = 0;
    let shown = 0;
    for (const app of org.shown) {
      const appBlocks = applicationBlocks(app, slash, { canBuild: may(org.role, "build"), publication: options.publication ?? "home" });
      if (used + appBlocks.length > room) break;
      blocks.push(...appBlocks);
      used += appBlocks.length;
      shown += 1;
    }
    const more = org.applications - shown;
    if (more > 0) blocks.push(context(`…and ${plural(more, "more application")} in ${org.slug}: ${code(`${slash} app list ${org.slug}`)}`));
  }
  return { type: "home", blocks };
}

/**
 * An application's environments and domains, with a menu of its forms (the one that deletes asks
 * for a confirmation) for those who may build; under it, the buttons of the environments shown that have domains.
 */
function applicationBlocks(app: OrgApplications["shown"][number], slash: string, options: { canBuild: boolean; publication: string }): KnownBlock[] {
  const shownEnvironments = app.environments.slice(0, environmentsShown).map((environment) => ({ name: environment.name, domains: environment.domains.length }));
  const buttons = homeEnvironmentButtons(app.ref, shownEnvironments, { canBuild: options.canBuild, home: options.publication });
  const summary = applicationSection(app, slash, options.canBuild);
  return buttons === undefined ? [summary] : [summary, buttons];
}

function applicationSection(app: OrgApplications["shown"][number], slash: string, canBuild: boolean): SectionBlock {
  const block = section(applicationText(app, slash));
  if (canBuild) {
    block.accessory = {
      type: "overflow",
      action_id: openFormAction,
      options: [
        { text: { type: "plain_text", text: "New environment" }, value: formButtonValue("env create", app.ref) },
        { text: { type: "plain_text", text: "Add a domain" }, value: formButtonValue("domain add", app.ref) },
        // Its form asks for a confirmation before anything is deleted.
        { text: { type: "plain_text", text: "Delete application…" }, value: formButtonValue("app delete", app.ref) },
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

/** The answer to "Check DNS": what DNS says of each of the environment's domains, within one message. */
export function environmentDnsMessage(input: { app: string; env: string; verdicts: Verdict[] }): Message {
  const passing = input.verdicts.filter((verdict) => verdict.status === "passes").length;
  const heading = `*DNS of ${input.app} ${input.env}*: ${passing} of ${plural(input.verdicts.length, "domain")} point at the edge.`;
  const blocks = new MessageBuilder().section(heading).build().blocks;
  const lines = [heading];
  let shown = 0;
  for (const verdict of input.verdicts) {
    const message = dnsCheckMessage(verdict);
    // Two blocks stay free: the note on domains not shown, and Slack's 50.
    if (blocks.length + message.blocks.length > maxBlocks - 2) break;
    blocks.push(...message.blocks);
    lines.push(message.text);
    shown += 1;
  }
  const left = input.verdicts.length - shown;
  if (left > 0) {
    const note = `…and ${plural(left, "more domain")}: ${code(`golive ${input.app} ${input.env}`)} checks them all, or ${code("dns check <hostname>")} one.`;
    blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: note }] });
    lines.push(note);
  }
  return { text: lines.join("\n"), blocks };
}
