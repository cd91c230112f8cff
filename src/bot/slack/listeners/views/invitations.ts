import { decideInvitation } from "../../../../core/invitations.ts";
import { invitationOutcomeMessage } from "../../../blocks/invitations.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { denyWithReason } from "./deny-reason.ts";

/** The reason modal of an invitation's Deny button: its submission denies the invitation, once. */
export function invitationDenied(dependencies: ListenerDependencies) {
  return denyWithReason(dependencies, {
    idKey: "invitation",
    what: "an invitation",
    deny: (platform, { actor, id, reason }) => decideInvitation(platform, { actor, id, decision: "deny", reason }),
    outcomeMessage: invitationOutcomeMessage,
  });
}
