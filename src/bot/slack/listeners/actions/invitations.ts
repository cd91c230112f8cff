import { checkMayDecide } from "../../../../core/invitations.ts";
import { denyInvitationView } from "../../../blocks/invitations.ts";
import { approveInvitation } from "../../../commands/invite/approve.ts";
import { logFailure } from "../../../failures.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { decisionButton } from "./decision-button.ts";

// An invitation request's buttons. Core decides once, under a lock, and refuses whoever may not
// decide; every answer goes only to the person who clicked. The request message itself is
// edited through the outbox, in every copy.

/** Approve: decides at once. */
export function approveInvitationButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, body, answer, log }) => {
    await answer(await approveInvitation(who.command, id));
    // From the Home tab, the request leaves it.
    if (!body.response_url) await publishHome(acting.bot, dependencies, { slackUserId: body.user.id, actor: who.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
  });
}

/** Deny: asks for a reason in a modal, whose submission denies (views/invitations.ts). */
export function denyInvitationButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, body }) => {
    // Refused before the question, so nobody writes a reason only to be told they may not.
    const invitation = await checkMayDecide(acting.platform, { actor: who.actor, id });
    await acting.bot.openModal(body.trigger_id, denyInvitationView(invitation, JSON.stringify({ invitation: invitation.id, responseUrl: body.response_url })));
  });
}
