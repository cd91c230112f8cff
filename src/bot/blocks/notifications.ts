import type { KnownBlock } from "@slack/types";
import { describeProgress } from "../../core/approvals.ts";
import type { Notification, NotifiedPerson } from "../../core/notifications.ts";
import { escapeText, MessageBuilder, when, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";
import { claimedAnnouncement, claimedAwayAnnouncement, claimGaveUpAnnouncement } from "./claims.ts";
import { shortCommit } from "./configs.ts";
import { gaveUpAnnouncement, goLiveResultsMessage, liveAnnouncement, regressionAnnouncement } from "./dns.ts";
import { moveRequestMessage } from "./moves.ts";
import { plural } from "./orgs.ts";
import type { ApprovalProgress } from "../../core/approvals.ts";

/** The message a channel receives for one notification; one renderer per kind. */
export function notificationMessage(notification: Notification): Message {
  const by = byLine(notification.payload.actor);
  switch (notification.kind) {
    case "app.created": {
      const { app, hostname, origin } = notification.payload;
      return announce(`:rocket: *${app}* was created: production serves *${hostnameLabel(hostname)}*, fetching from \`${escapeText(origin)}\`.`, by);
    }
    case "app.split": {
      const { app, split, prefix } = notification.payload;
      return announce(`:scissors: *${split}* now handles \`${escapeText(prefix)}\` on *${app}*'s domains, starting from its production configuration.`, by);
    }
    case "env.created": {
      const { app, env, from, hostname } = notification.payload;
      const serves = hostname === undefined ? "" : ` It serves *${hostnameLabel(hostname)}*.`;
      return announce(`:seedling: *${app}* has a new environment *${env}*, branched from ${from}.${serves}`, by);
    }
    case "env.deleted": {
      const { app, env, domains } = notification.payload;
      const builder = new MessageBuilder().section(`:wastebasket: *${app}* environment *${env}* was deleted${domains.length > 0 ? ` with ${plural(domains.length, "domain")}` : ""}.`);
      if (domains.length > 0) builder.list(domains.map(hostnameLabel), { limit: 20, noun: "domains" });
      return builder.context(by).build();
    }
    case "config.edited": {
      const { app, env, path, commit, message } = notification.payload;
      return announce(`:pencil2: *${escapeText(path)}* of *${app}* ${env} was edited: ${escapeText(message)} (\`${shortCommit(commit)}\`).`, by);
    }
    case "env.promoted": {
      const { app, from, to, commit, fastForward } = notification.payload;
      return announce(`:arrow_double_up: *${app}* ${from} was promoted into *${to}*, now at \`${shortCommit(commit)}\`${fastForward ? "" : " (a merge commit)"}.`, by);
    }
    case "domain.added": {
      const { app, env, hostname } = notification.payload;
      return announce(`:globe_with_meridians: *${hostnameLabel(hostname)}* was added to *${app}* ${env}.`, by);
    }
    case "domain.removed": {
      const { app, env, hostname } = notification.payload;
      return announce(`:wastebasket: *${hostnameLabel(hostname)}* was removed from *${app}* ${env}.`, by);
    }
    case "domain.claimed":
      return claimedAnnouncement(notification.payload, by);
    case "domain.claimed_away":
      return claimedAwayAnnouncement(notification.payload);
    case "claim.gave_up":
      return claimGaveUpAnnouncement(notification.payload);
    case "member.role_changed": {
      const { org, member, from, to } = notification.payload;
      return announce(`:bust_in_silhouette: ${person(member)} is now ${to} of *${org}* (was ${from}).`, by);
    }
    case "member.removed": {
      const { org, member, role } = notification.payload;
      return announce(`:bust_in_silhouette: ${person(member)} (${role}) was removed from *${org}*.`, by);
    }
    case "channel.unreachable": {
      const { channel } = notification.payload;
      return new MessageBuilder()
        .section(
          `:warning: Your change was not announced in <#${channel}>: edgebot is not in that channel and cannot join it (it is private, or gone). ` +
            `Invite it there with \`/invite @edgebot\`, then set the channel again (\`org channel\` or \`app channel\`).`,
        )
        .build();
    }
    case "golive.results":
      return goLiveResultsMessage(notification.payload, { by });
    case "env.live":
      return liveAnnouncement(notification.payload, by);
    case "env.regressed":
      return regressionAnnouncement(notification.payload, by);
    case "golive.gave_up":
      return gaveUpAnnouncement(notification.payload);
    case "invitation.requested": {
      const { org, invitation, email, role, approvals = 1 } = notification.payload;
      return invitationRequest({ org, invitation, email, role, progress: { approvalsRequired: approvals, approvedBy: [] } }, by);
    }
    case "invitation.progress": {
      const { org, invitation, email, role, approvals, approvedBy } = notification.payload;
      return invitationRequest({ org, invitation, email, role, progress: { approvalsRequired: approvals, approvedBy } }, by);
    }
    case "invitation.settled": {
      const { org, invitation, email, role, status, decidedBy, decidedAt, approvedBy } = notification.payload;
      const ended = requestEnding({ status, decidedBy, decidedAt, approvedBy: approvedBy ?? [] });
      return new MessageBuilder().section(`:envelope: Request ${invitation} to invite *${escapeText(email)}* to *${org}* as ${role}: ${ended}.`).build();
    }
    case "role.requested": {
      const { org, request, member, from, to, approvals } = notification.payload;
      return roleRequest({ org, request, member, from, to, progress: { approvalsRequired: approvals, approvedBy: [] } }, by);
    }
    case "role.progress": {
      const { org, request, member, from, to, approvals, approvedBy } = notification.payload;
      return roleRequest({ org, request, member, from, to, progress: { approvalsRequired: approvals, approvedBy } }, by);
    }
    case "role.settled": {
      const { org, request, member, from, to, status, decidedBy, decidedAt, approvedBy } = notification.payload;
      const ended = requestEnding({ status, decidedBy, decidedAt, approvedBy });
      return new MessageBuilder().section(`:bust_in_silhouette: Request ${request} to make ${person(member)} ${to} of *${org}* (now ${from}): ${ended}.`).build();
    }
    case "role.decided": {
      const { org, request, member, to, status, reason } = notification.payload;
      const outcome = status === "denied" ? `was denied${reason ? `: ${escapeText(reason)}` : ""}` : `was approved: they are now ${to} of *${org}*`;
      return announce(`:bust_in_silhouette: Your request ${request} to make ${person(member)} ${to} of *${org}* ${outcome}.`, by);
    }
    case "invitation.decided": {
      const { org, invitation, email, role, status, reason } = notification.payload;
      const outcome =
        status === "denied"
          ? `was denied${reason ? `: ${escapeText(reason)}` : ""}`
          : status === "accepted"
            ? `was approved: they are now ${role} of *${org}*`
            : `was approved: they join by typing \`join <code>\` with the one-time code given to the approver (and, when approved with the button, to you)`;
      return announce(`:envelope: Your request ${invitation} to invite *${escapeText(email)}* to *${org}* as ${role} ${outcome}.`, by);
    }
    case "member.joined": {
      const { org, role } = notification.payload;
      return announce(`:wave: You are now ${role} of *${org}*. Try \`app list ${org}\`.`, by);
    }
    case "git.pushed": {
      const { app, env, count, commits } = notification.payload;
      const builder = new MessageBuilder().section(`:arrow_up: ${plural(count, "commit")} pushed to *${app}* ${env} with git, now at \`${notification.payload.after.slice(0, 7)}\`.`);
      // Subjects are the pusher's text: shown escaped, and the list says how many more there are.
      const shown = commits.map((commit) => `\`${commit.sha.slice(0, 7)}\` ${escapeText(commit.subject.slice(0, 200))}`);
      if (count > commits.length) shown.push(`…and ${count - commits.length} earlier`);
      if (shown.length > 0) builder.list(shown, { limit: commits.length + 1, noun: "commits" });
      return builder.context(by).build();
    }
    // Agency handover.
    case "app.move_requested":
      return moveRequestMessage(notification.payload, by);
    case "app.move_settled": {
      const { move, app, to, status, decidedBy, decidedAt } = notification.payload;
      const ended = status === "expired" ? ":hourglass: expired: nobody decided within 48 hours" : requestEnding({ status, decidedBy, decidedAt, approvedBy: [] });
      return new MessageBuilder().section(`:truck: Request ${move} to move *${app}* into *${to}*: ${ended}.`).build();
    }
    case "app.move_decided": {
      const { move, app, to, status, reason } = notification.payload;
      const outcome = status === "denied" ? `was denied${reason ? `: ${escapeText(reason)}` : ""}` : `was approved: it is now in *${to}*`;
      return announce(`:truck: Your request ${move} to move *${app}* into *${to}* ${outcome}.`, by);
    }
    case "app.moved": {
      const { app, from } = notification.payload;
      return announce(`:truck: *${from}* moved to another org: it is now *${app}*, with its repository, environments and domains. Its channel was cleared.`, by);
    }
    case "app.cloned": {
      const { app, from } = notification.payload;
      return announce(`:busts_in_silhouette: *${app}* was created as a copy of *${from}*'s production history, without domains.`, by);
    }
    case "member.left": {
      const { org, member, role } = notification.payload;
      return announce(`:wave: ${person(member)} (${role}) left *${org}*.`, by);
    }
    default: {
      // A kind written by a newer edgebot than the one delivering: say something rather than nothing.
      const unknown = notification as { kind: string };
      return announce(`Something changed (${escapeText(unknown.kind)}).`, by);
    }
  }
}

/** The request message of an invitation waiting for approvals, with its progress and buttons. */
function invitationRequest(request: { org: string; invitation: number; email: string; role: string; progress: ApprovalProgress }, by: string): Message {
  const { org, invitation, email, role, progress } = request;
  const message = new MessageBuilder()
    .section(
      `:envelope: A request to invite *${escapeText(email)}* to *${org}* as ${role} ${waitsFor(progress)}: \`invite approve ${invitation}\` or \`invite deny ${invitation} [reason]\`.`,
    )
    .context(progressContext(progress, by))
    .build();
  return { ...message, blocks: [...message.blocks, invitationButtons(invitation)] };
}

/** The request message of a role change waiting for approvals, with its progress and buttons. */
function roleRequest(request: { org: string; request: number; member: NotifiedPerson; from: string; to: string; progress: ApprovalProgress }, by: string): Message {
  const { org, member, from, to, progress } = request;
  const id = request.request;
  const message = new MessageBuilder()
    .section(`:bust_in_silhouette: A request to make ${person(member)} ${to} of *${org}* (now ${from}) ${waitsFor(progress)}: \`member approve ${id}\` or \`member deny ${id} [reason]\`.`)
    .context(progressContext(progress, by))
    .build();
  return { ...message, blocks: [...message.blocks, roleRequestButtons(id)] };
}

/** "waits for an owner or admin", or for a threshold above one, how many. */
function waitsFor(progress: ApprovalProgress): string {
  return progress.approvalsRequired <= 1 ? "waits for an owner or admin" : `needs ${progress.approvalsRequired} owners or admins other than the requester to approve`;
}

/** Who asked, and where the approvals stand once there are any or more than one is needed. */
function progressContext(progress: ApprovalProgress, by: string): string {
  const asked = `asked ${by}`;
  if (progress.approvalsRequired <= 1 && progress.approvedBy.length === 0) return asked;
  return `${escapeText(describeProgress(progress))} · ${asked}`;
}

/** How a request ended, for the edit of its message. */
function requestEnding(ending: { status: string; decidedBy: string | null; decidedAt: string | null; approvedBy: string[] }): string {
  const at = ending.decidedAt === null ? "" : ` on ${when(new Date(ending.decidedAt))}`;
  if (ending.status === "denied") return `:no_entry: denied by ${escapeText(ending.decidedBy ?? "an admin")}${at}`;
  if (ending.status === "expired") return ":hourglass: expired: not enough approvals within 48 hours";
  const approvers = ending.approvedBy.length > 0 ? ending.approvedBy.join(", ") : (ending.decidedBy ?? "an admin");
  return `:white_check_mark: approved by ${escapeText(approvers)}${at}`;
}

/** Action ids of the buttons on a role request; their value is the request's id. */
export const roleRequestActions = { approve: "role_request_approve", deny: "role_request_deny" } as const;

/** Approve and Deny for one role request. */
export function roleRequestButtons(request: number): KnownBlock {
  return {
    type: "actions",
    elements: [
      { type: "button", action_id: roleRequestActions.approve, style: "primary", text: { type: "plain_text", text: "Approve" }, value: String(request) },
      { type: "button", action_id: roleRequestActions.deny, style: "danger", text: { type: "plain_text", text: "Deny" }, value: String(request) },
    ],
  };
}

/** Action ids of the buttons on an invitation request; their value is the invitation's id. */
export const invitationActions = { approve: "invitation_approve", deny: "invitation_deny" } as const;

/** Approve and Deny for one invitation request, in a message or on the Home tab. */
export function invitationButtons(invitation: number): KnownBlock {
  return {
    type: "actions",
    elements: [
      { type: "button", action_id: invitationActions.approve, style: "primary", text: { type: "plain_text", text: "Approve" }, value: String(invitation) },
      { type: "button", action_id: invitationActions.deny, style: "danger", text: { type: "plain_text", text: "Deny" }, value: String(invitation) },
    ],
  };
}

function announce(text: string, by: string): Message {
  return new MessageBuilder().section(text).context(by).build();
}

function byLine(actor: NotifiedPerson | null): string {
  return actor === null ? "by a user who has since left" : `by ${person(actor)}`;
}

function person(who: NotifiedPerson): string {
  return `${escapeText(who.name)} (${escapeText(who.email)})`;
}
