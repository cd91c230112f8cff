import type { KnownBlock, ModalView } from "@slack/types";
import type { ApplicationMove, MoveOutcome } from "../../core/moves.ts";
import { code, escapeText, MessageBuilder, say, when, type Message } from "../message.ts";

/** The answer to `app move`, `move approve`, `move deny` and their buttons. */
export function moveOutcomeMessage(outcome: MoveOutcome): Message {
  const { move } = outcome;
  switch (outcome.kind) {
    case "moved":
      return new MessageBuilder()
        .section(
          `:truck: Moved *${move.app}* to *${move.to}*: it is now *${move.movedTo}*, with its repository and history, ` +
            `${outcome.environments} environment(s) and ${outcome.domains} domain(s).`,
        )
        .context(`Its channel was cleared: set one with ${code(`app channel ${move.movedTo} #channel`)}. Git remotes now end in /git/${move.movedTo}.git.`)
        .build();
    case "requested":
      return new MessageBuilder()
        .section(`:truck: Asked to move *${move.app}* to *${move.to}* (move ${move.id}). An owner or admin of ${move.to} decides; you will hear the outcome.`)
        .context(`It expires ${when(move.expiresAt)} if not decided by then.`)
        .build();
    case "denied":
      return say(`:no_entry: Denied move ${move.id}: *${move.app}* stays in *${move.from}*${move.denyReason ? ` (${escapeText(move.denyReason)})` : ""}.`);
  }
}

/** The request message the target's owners and admins see, with its buttons. */
export function moveRequestMessage(request: { move: number; app: string; to: string }, by: string): Message {
  const { move, app, to } = request;
  const message = new MessageBuilder()
    .section(
      `:truck: A request to move *${app}* into *${to}*, with its repository, environments and domains, waits for an owner or admin of ${to}: ` +
        `\`move approve ${move}\` or \`move deny ${move} [reason]\`.`,
    )
    .context(`asked ${by}`)
    .build();
  return { ...message, blocks: [...message.blocks, moveButtons(move)] };
}

/** Action ids of the buttons on a move request; their value is the move's id. */
export const moveActions = { approve: "move_approve", deny: "move_deny" } as const;

/** Approve and Deny for one move request. */
export function moveButtons(move: number): KnownBlock {
  return {
    type: "actions",
    elements: [
      { type: "button", action_id: moveActions.approve, style: "primary", text: { type: "plain_text", text: "Approve" }, value: String(move) },
      { type: "button", action_id: moveActions.deny, style: "danger", text: { type: "plain_text", text: "Deny" }, value: String(move) },
    ],
  };
}

/** The callback id of the modal that asks why a move is denied. */
export const denyMoveCallback = "move_deny";

/** The modal a move request's Deny button opens: an optional reason; `metadata` comes back with the submission. */
export function denyMoveView(move: ApplicationMove, metadata: string): ModalView {
  return {
    type: "modal",
    callback_id: denyMoveCallback,
    private_metadata: metadata,
    title: { type: "plain_text", text: "Deny move" },
    submit: { type: "plain_text", text: "Deny" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `Deny moving *${move.app}* into *${move.to}*? It stays in ${move.from}; the requester is told, with your reason.` } },
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
