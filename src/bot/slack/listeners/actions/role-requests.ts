import { checkMayDecideRoleRequest, decideRoleRequest } from "../../../../core/role-requests.ts";
import { denyRoleRequestView, roleRequestOutcomeMessage } from "../../../blocks/role-requests.ts";
import { logFailure } from "../../../failures.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { decisionButton } from "./decision-button.ts";

// A request to make a member admin or owner: its buttons. Core counts each approver once, under
// a lock, and refuses whoever may not decide; every answer goes only to the person who clicked,
// and the request message is edited through the outbox, in every copy.

/** Approve: counts this approval, and changes the role once enough have. */
export function approveRoleRequestButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, body, answer, log }) => {
    await answer(roleRequestOutcomeMessage(await decideRoleRequest(acting.platform, { actor: who.actor, id, decision: "approve" })));
    // From the Home tab, the request leaves it.
    if (!body.response_url) await publishHome(acting.bot, dependencies, { slackUserId: body.user.id, actor: who.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
  });
}

/** Deny: asks for a reason in a modal, whose submission denies (views/role-requests.ts). */
export function denyRoleRequestButton(dependencies: ListenerDependencies) {
  return decisionButton(dependencies, async ({ who, acting, id, body }) => {
    // Refused before the question, so nobody writes a reason only to be told they may not.
    const request = await checkMayDecideRoleRequest(acting.platform, { actor: who.actor, id });
    await acting.bot.openModal(body.trigger_id, denyRoleRequestView(request, JSON.stringify({ request: request.id, responseUrl: body.response_url })));
  });
}
