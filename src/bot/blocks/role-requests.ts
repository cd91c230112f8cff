import type { ModalView } from "@slack/types";
import { approvalCount, describeProgress } from "../../core/approvals.ts";
import type { RoleChange } from "../../core/members.ts";
import type { RoleRequest, RoleRequestOutcome } from "../../core/role-requests.ts";
import { code, escapeText, MessageBuilder, say, when, type Message } from "../message.ts";

/** The answer to `member role`: the role changed, or the request that waits for approvals. */
export function roleChangeMessage(change: RoleChange): Message {
  if (change.kind === "changed") return say(`:white_check_mark: ${escapeText(change.member.displayName)} is now ${change.member.role} of *${change.org}* (was ${change.from}).`);
  const { request } = change;
  return new MessageBuilder()
    .section(
      `:bust_in_silhouette: Asked to make ${member(request)} ${request.to} of *${request.org}* (request ${request.id}). ` +
        `It needs ${approvalCount(request.approvalsRequired)} from owners or admins of ${request.org} other than you; you will hear the outcome.`,
    )
    .context(`It expires ${when(request.expiresAt)} if not decided by then.`)
    .build();
}

/** The answer to `member approve`, `member deny` and their buttons. */
export function roleRequestOutcomeMessage(outcome: RoleRequestOutcome): Message {
  const { request } = outcome;
  switch (outcome.kind) {
    case "approved_once":
      return new MessageBuilder()
        .section(`:ballot_box_with_check: You approved request ${request.id} to make ${member(request)} ${request.to} of *${request.org}*: ${escapeText(describeProgress(request))}.`)
        .context(`It waits for ${request.approvalsRequired - request.approvedBy.length} more owner or admin, until ${when(request.expiresAt)}.`)
        .build();
    case "approved":
      return say(`:white_check_mark: ${member(request)} is now ${request.to} of *${request.org}* (was ${request.from}): ${escapeText(describeProgress(request))}.`);
    case "denied":
      return say(`:no_entry: Denied request ${request.id}: ${member(request)} stays ${request.from} of *${request.org}*${request.denyReason ? ` (${escapeText(request.denyReason)})` : ""}.`);
  }
}

/** A waiting role request, one line of `member list`. */
export function roleRequestLine(request: RoleRequest): string {
  return `${request.id} · ${member(request)} to ${request.to} (now ${request.from}) · ${escapeText(describeProgress(request))} · asked by ${escapeText(request.requestedBy ?? "?")}, expires ${when(request.expiresAt)}`;
}

/** The answer to `org policy`. */
export function approvalPolicyMessage(policy: { slug: string; approvals: number; from: number; approvers: number }): Message {
  const builder = new MessageBuilder().section(
    `:white_check_mark: Granting admin or owner in *${policy.slug}* (an invitation as admin, ${code("member role … admin|owner")}) now takes ${approvalCount(policy.approvals)} from owners or admins other than the one who asks (was ${policy.from}).`,
  );
  if (policy.approvers - 1 < policy.approvals) {
    builder.context(`${policy.slug} has ${policy.approvers} owners and admins: until it has ${policy.approvals + 1}, such requests are refused. Requests already waiting keep the threshold they were made under.`);
  } else {
    builder.context("Requests already waiting keep the threshold they were made under.");
  }
  return builder.build();
}

/** The callback id of the modal that asks why a role request is denied. */
export const denyRoleRequestCallback = "role_request_deny";

/** The modal a role request's Deny button opens: an optional reason; `metadata` comes back with the submission. */
export function denyRoleRequestView(request: RoleRequest, metadata: string): ModalView {
  return {
    type: "modal",
    callback_id: denyRoleRequestCallback,
    private_metadata: metadata,
    title: { type: "plain_text", text: "Deny role change" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `Deny the request to make ${member(request)} ${request.to} of *${request.org}*? The requester is told, with your reason.` } },
      {
        type: "input",
        block_id: "reason",
        optional: true,
        label: { type: "plain_text", text: "Reason" },
        element: { type: "plain_text_input", action_id: "value", multiline: true, max_length: 500, placeholder: { type: "plain_text", text: "Not before the contract is signed" } },
      },
    ],
  };
}

function member(request: RoleRequest): string {
  return `*${escapeText(request.member.name)}* (${escapeText(request.member.email)})`;
}
