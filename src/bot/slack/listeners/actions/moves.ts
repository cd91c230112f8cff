import { checkMayDecideMove, decideMove } from "../../../../core/moves.ts";
import { denyMoveView, moveOutcomeMessage } from "../../../blocks/moves.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { decisionButton } from "./decision-button.ts";

// A request to move an application into an org: its buttons. Core decides once, under a lock,
// with the clicker's authority in the target org read at that moment; every answer goes only to
// the person who clicked, and the request message is edited through the outbox, in every copy.

/** Approve: moves the application. */
export function approveMoveButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, answer }) => {
    await answer(moveOutcomeMessage(await decideMove(acting.platform, { actor: who.actor, id, decision: "approve" })));
  });
}

/** Deny: asks for a reason in a modal, whose submission denies (views/moves.ts). */
export function denyMoveButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, body }) => {
    // Refused before the question, so nobody writes a reason only to be told they may not.
    const move = await checkMayDecideMove(acting.platform, { actor: who.actor, id });
    await acting.bot.openModal(body.trigger_id, denyMoveView(move, JSON.stringify({ move: move.id, responseUrl: body.response_url })));
  });
}
