import type { App, BlockAction, ButtonAction, RespondFn } from "@slack/bolt";
import type { Logger } from "pino";
import { CoreError } from "../../../../core/errors.ts";
import { checkMayDecide, decideInvitation } from "../../../../core/invitations.ts";
import type { Platform } from "../../../../core/platform.ts";
import { denyInvitationView, invitationOutcomeMessage } from "../../../blocks/invitations.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { invitationActions } from "../../../blocks/notifications.ts";
import { sayError, type Message } from "../../../message.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface InvitationActionDependencies {
  platform: Platform;
  identities: SlackIdentities;
  logger: Logger;
}

/**
 * The Approve and Deny buttons of an invitation request. Core decides once, under a lock, and
 * refuses whoever may not decide; every answer goes only to the person who clicked. The
 * request message itself is edited through the outbox, in every copy.
 */
export function registerInvitationActions(app: App, dependencies: InvitationActionDependencies): void {
  const { platform, identities, logger } = dependencies;
  app.action<BlockAction<ButtonAction>>(invitationActions.approve, async ({ ack, body, action, client, respond }) => {
    await ack();
    const log = logger.child({ team: body.team?.id, user: body.user.id, invitation: action.value });
    const identity = await identities.resolve(client, teamOf(body), body.user.id);
    if (identity.kind === "no_email") return tell(respond, sayError(emailMissing));
    try {
      const outcome = await decideInvitation(identities.platformFor(client, teamOf(body)), { actor: identity.actor, id: action.value ?? "", decision: "approve" });
      await tell(respond, invitationOutcomeMessage(outcome));
    } catch (error) {
      await tell(respond, refusal(error, log));
    }
  });
  app.action<BlockAction<ButtonAction>>(invitationActions.deny, async ({ ack, body, action, client, respond }) => {
    await ack();
    const log = logger.child({ team: body.team?.id, user: body.user.id, invitation: action.value });
    const identity = await identities.resolve(client, teamOf(body), body.user.id);
    if (identity.kind === "no_email") return tell(respond, sayError(emailMissing));
    try {
      // Refused before the question, so nobody writes a reason only to be told they may not.
      const invitation = await checkMayDecide(platform, { actor: identity.actor, id: action.value ?? "" });
      await client.views.open({ trigger_id: body.trigger_id, view: denyInvitationView(invitation, JSON.stringify({ invitation: invitation.id, responseUrl: body.response_url })) });
    } catch (error) {
      await tell(respond, refusal(error, log));
    }
  });
}

function refusal(error: unknown, log: Logger): Message {
  if (error instanceof CoreError) return sayError(error.message);
  log.error({ err: error }, "invitation button failed");
  return sayError("something went wrong on our side; nothing was decided. Try again, or type invite approve <id>.");
}

/** An ephemeral answer under the message whose button was clicked; the message itself stays. */
async function tell(respond: RespondFn, message: Message): Promise<void> {
  await respond({ response_type: "ephemeral", replace_original: false, text: message.text, blocks: message.blocks });
}

function teamOf(body: BlockAction): string {
  return body.team?.id ?? body.user.team_id ?? "";
}
