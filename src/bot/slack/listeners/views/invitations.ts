import type { App } from "@slack/bolt";
import { decideInvitation } from "../../../../core/invitations.ts";
import { denyInvitationCallback, invitationOutcomeMessage } from "../../../blocks/invitations.ts";
import { registerDenyWithReason, type DenyViewDependencies } from "./deny-reason.ts";

/** The reason modal of an invitation's Deny button: its submission denies the invitation, once. */
export function registerInvitationViews(app: App, dependencies: DenyViewDependencies): void {
  registerDenyWithReason(app, dependencies, {
    callbackId: denyInvitationCallback,
    idKey: "invitation",
    what: "an invitation",
    deny: (platform, { actor, id, reason }) => decideInvitation(platform, { actor, id, decision: "deny", reason }),
    outcomeMessage: invitationOutcomeMessage,
  });
}
