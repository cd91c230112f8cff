import { decideMove } from "../../../../core/moves.ts";
import { moveOutcomeMessage } from "../../../blocks/moves.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { denyWithReason } from "./deny-reason.ts";

/** The reason modal of a move request's Deny button: its submission denies the move, once. */
export function moveDenied(dependencies: ListenerDependencies) {
  return denyWithReason(dependencies, {
    idKey: "move",
    what: "an application move",
    deny: (platform, { actor, id, reason }) => decideMove(platform, { actor, id, decision: "deny", reason }),
    outcomeMessage: moveOutcomeMessage,
  });
}
