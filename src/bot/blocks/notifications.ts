import type { KnownBlock } from "@slack/types";
import type { Notification, NotifiedPerson } from "../../core/notifications.ts";
import { escapeText, MessageBuilder, when, type Message } from "../message.ts";
import { hostnameLabel } from "./applications.ts";
import { claimedAnnouncement, claimedAwayAnnouncement, claimGaveUpAnnouncement } from "./claims.ts";
import { shortCommit } from "./configs.ts";
import { gaveUpAnnouncement, goLiveResultsMessage, liveAnnouncement, regressionAnnouncement } from "./dns.ts";
import { plural } from "./orgs.ts";

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
      const { org, invitation, email, role } = notification.payload;
      const message = announce(
        `:envelope: A request to invite *${escapeText(email)}* to *${org}* as ${role} waits for an owner or admin: \`invite approve ${invitation}\` or \`invite deny ${invitation} [reason]\`.`,
        by,
      );
      return { ...message, blocks: [...message.blocks, invitationButtons(invitation)] };
    }
    case "invitation.settled": {
      const { org, invitation, email, role, status, decidedBy, decidedAt } = notification.payload;
      const at = decidedAt === null ? "" : ` on ${when(new Date(decidedAt))}`;
      const ended =
        status === "denied"
          ? `:no_entry: denied by ${escapeText(decidedBy ?? "an admin")}${at}`
          : status === "expired"
            ? ":hourglass: expired: nobody decided within 48 hours"
            : `:white_check_mark: approved by ${escapeText(decidedBy ?? "an admin")}${at}`;
      return new MessageBuilder().section(`:envelope: Request ${invitation} to invite *${escapeText(email)}* to *${org}* as ${role}: ${ended}.`).build();
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
    default: {
      // A kind written by a newer edgebot than the one delivering: say something rather than nothing.
      const unknown = notification as { kind: string };
      return announce(`Something changed (${escapeText(unknown.kind)}).`, by);
    }
  }
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
