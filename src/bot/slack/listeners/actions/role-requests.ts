import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { checkMayDecideRoleRequest, decideRoleRequest } from "../../../../core/role-requests.ts";
import { roleRequestActions } from "../../../blocks/notifications.ts";
import { denyRoleRequestView, roleRequestOutcomeMessage } from "../../../blocks/role-requests.ts";
import { publishHome } from "../../home.ts";
import { decisionButton, teamOf, type InvitationActionDependencies } from "./invitations.ts";
import { logFailure } from "../../../failures.ts";

/**
 * The Approve and Deny buttons of a request to make a member admin or owner. Core counts each
 * approver once, under a lock, and refuses whoever may not decide; every answer goes only to the
 * person who clicked, and the request message is edited through the outbox, in every copy.
 */
export function registerRoleRequestActions(app: App, dependencies: InvitationActionDependencies): void {
  const { platform, identities } = dependencies;
  app.action<BlockAction<ButtonAction>>(
    roleRequestActions.approve,
    decisionButton(dependencies, async ({ actor, id, body, client, answer, log }) => {
      await answer(roleRequestOutcomeMessage(await decideRoleRequest(identities.platformFor(client, teamOf(body)), { actor, id, decision: "approve" })));
      // From the Home tab, the request leaves it.
      if (!body.response_url) await publishHome(client, dependencies, { slackUserId: body.user.id, actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
    }),
  );
  app.action<BlockAction<ButtonAction>>(
    roleRequestActions.deny,
    decisionButton(dependencies, async ({ actor, id, body, client }) => {
      // Refused before the question, so nobody writes a reason only to be told they may not.
      const request = await checkMayDecideRoleRequest(platform, { actor, id });
      await client.views.open({ trigger_id: body.trigger_id, view: denyRoleRequestView(request, JSON.stringify({ request: request.id, responseUrl: body.response_url })) });
    }),
  );
}
