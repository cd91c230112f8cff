import type { ModalView } from "@slack/types";
import { approvalCount, describeProgress } from "../../core/approvals.ts";
import type { Invitation, InvitationOutcome } from "../../core/invitations.ts";
import { code, escapeText, MessageBuilder, when, type Message } from "../message.ts";

/** The answer to `member invite`, `invite approve` and `invite deny`. */
export function invitationOutcomeMessage(outcome: InvitationOutcome): Message {
  const { invitation } = outcome;
  const who = `*${escapeText(invitation.email)}*`;
  switch (outcome.kind) {
    case "requested": {
      const deciders =
        invitation.approvalsRequired <= 1
          ? `An owner or admin of ${invitation.org} other than you decides`
          : `It needs ${approvalCount(invitation.approvalsRequired)} from owners or admins of ${invitation.org} other than you`;
      return new MessageBuilder()
        .section(`:envelope: Asked to invite ${who} to *${invitation.org}* as ${invitation.role} (invitation ${invitation.id}). ${deciders}; you will hear the outcome.`)
        .context(`It expires ${when(invitation.expiresAt)} if not decided by then.`)
        .build();
    }
    case "approved_once":
      return new MessageBuilder()
        .section(`:ballot_box_with_check: You approved invitation ${invitation.id} for ${who} to *${invitation.org}* as ${invitation.role}: ${escapeText(describeProgress(invitation))}.`)
        .context(`It waits for ${invitation.approvalsRequired - invitation.approvedBy.length} more owner or admin, until ${when(invitation.expiresAt)}.`)
        .build();
    case "denied":
      return new MessageBuilder().section(`:no_entry: Denied invitation ${invitation.id}: ${who} will not join *${invitation.org}*${invitation.denyReason ? ` (${escapeText(invitation.denyReason)})` : ""}.`).build();
    case "joined":
      return new MessageBuilder()
        .section(`:white_check_mark: ${escapeText(outcome.member.displayName)} (${who}) is now ${invitation.role} of *${invitation.org}*. They have been told.`)
        .build();
    case "code":
      return new MessageBuilder()
        .section(`:white_check_mark: Invitation ${invitation.id} for ${who} to *${invitation.org}* as ${invitation.role} is approved. edgebot does not know them yet: pass on this one-time code, shown only now.`)
        .section(code(`join ${outcome.code}`))
        .context(`They type it after the slash command once they are in Slack, with the email ${escapeText(invitation.email)}. It works until ${when(invitation.expiresAt)}.`)
        .build();
  }
}

/** For the requester of an invitation approved with a code: the code, to pass on. */
export function invitationCodeForRequester(outcome: Extract<InvitationOutcome, { kind: "code" }>): Message {
  const { invitation } = outcome;
  return new MessageBuilder()
    .section(`:white_check_mark: Your request ${invitation.id} to invite *${escapeText(invitation.email)}* to *${invitation.org}* as ${invitation.role} was approved by ${escapeText(invitation.decidedBy ?? "an admin")}. Pass on this one-time code:`)
    .section(code(`join ${outcome.code}`))
    .context(`It works for ${escapeText(invitation.email)} only, until ${when(invitation.expiresAt)}.`)
    .build();
}

/** `invite list`: live invitations first, then recent decisions. */
export function invitationListMessage(org: string, invitations: Invitation[]): Message {
  const builder = new MessageBuilder().section(`*Invitations to ${org}*`);
  if (invitations.length === 0) return builder.section(`No invitations in the last 30 days. Invite someone with ${code(`member invite ${org} <@user|email>`)}.`).build();
  builder.list(invitations.map(invitationLine), { limit: 40, noun: "invitations" });
  if (invitations.some((invitation) => invitation.status === "pending")) builder.context(`Decide with ${code("invite approve <id>")} or ${code("invite deny <id> [reason]")}.`);
  return builder.build();
}

function invitationLine(invitation: Invitation): string {
  const head = `${invitation.id} · ${escapeText(invitation.email)} as ${invitation.role}`;
  const asked = invitation.requestedBy ? ` by ${escapeText(invitation.requestedBy)}` : "";
  switch (invitation.status) {
    case "pending": {
      const progress = invitation.approvalsRequired > 1 || invitation.approvedBy.length > 0 ? `, ${escapeText(describeProgress(invitation))}` : "";
      return `${head} · :hourglass_flowing_sand: waiting for approval (asked${asked}${progress}), expires ${when(invitation.expiresAt)}`;
    }
    case "approved":
      return `${head} · approved by ${escapeText(invitation.decidedBy ?? "?")}, waiting for them to join until ${when(invitation.expiresAt)}`;
    case "accepted":
      return `${head} · :white_check_mark: joined${invitation.acceptedBy ? ` as ${escapeText(invitation.acceptedBy)}` : ""}`;
    case "denied":
      return `${head} · :no_entry: denied by ${escapeText(invitation.decidedBy ?? "?")}${invitation.denyReason ? `: ${escapeText(invitation.denyReason)}` : ""}`;
    case "expired":
      return `${head} · expired ${when(invitation.expiresAt)}`;
  }
}

/** The callback id of the modal that asks why an invitation is denied. */
export const denyInvitationCallback = "invitation_deny";

/** The modal a Deny button opens: an optional reason; `metadata` comes back with the submission. */
export function denyInvitationView(invitation: Invitation, metadata: string): ModalView {
  return {
    type: "modal",
    callback_id: denyInvitationCallback,
    private_metadata: metadata,
    title: { type: "plain_text", text: "Deny invitation" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `Deny the request to invite *${escapeText(invitation.email)}* to *${invitation.org}* as ${invitation.role}? The requester is told, with your reason.` } },
      {
        type: "input",
        block_id: "reason",
        optional: true,
        label: { type: "plain_text", text: "Reason" },
        element: { type: "plain_text_input", action_id: "value", multiline: true, max_length: 500, placeholder: { type: "plain_text", text: "Not a client of ours" } },
      },
    ],
  };
}
