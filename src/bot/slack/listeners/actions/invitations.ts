import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, RespondFn, SlackActionMiddlewareArgs, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { CoreError } from "../../../../core/errors.ts";
import { checkMayDecide } from "../../../../core/invitations.ts";
import type { DnsVerifier } from "../../../../dns/verify.ts";
import type { Actor, Platform } from "../../../../core/platform.ts";
import { denyInvitationView } from "../../../blocks/invitations.ts";
import { approveInvitation } from "../../../commands/invite/approve.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { invitationActions } from "../../../blocks/notifications.ts";
import { sayError, type Message } from "../../../message.ts";
import { publishHome } from "../../home.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface InvitationActionDependencies {
  platform: Platform;
  dns: DnsVerifier;
  slashCommand: string;
  identities: SlackIdentities;
  logger: Logger;
}

/**
 * The Approve and Deny buttons of an invitation request. Core decides once, under a lock, and
 * refuses whoever may not decide; every answer goes only to the person who clicked. The
 * request message itself is edited through the outbox, in every copy.
 */
export function registerInvitationActions(app: App, dependencies: InvitationActionDependencies): void {
  const { platform, identities } = dependencies;
  app.action<BlockAction<ButtonAction>>(
    invitationActions.approve,
    decisionButton(dependencies, async ({ actor, id, body, client, answer, log }) => {
      const teamId = teamOf(body);
      await answer(await approveInvitation({ platform: identities.platformFor(client, teamId), dns: dependencies.dns, actor, teamId, tellNow: identities.tellerFor(client, teamId) }, id));
      // From the Home tab, the request leaves it.
      if (!body.response_url) await publishHome(client, dependencies, { slackUserId: body.user.id, actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
    }),
  );
  app.action<BlockAction<ButtonAction>>(
    invitationActions.deny,
    decisionButton(dependencies, async ({ actor, id, body, client }) => {
      // Refused before the question, so nobody writes a reason only to be told they may not.
      const invitation = await checkMayDecide(platform, { actor, id });
      await client.views.open({ trigger_id: body.trigger_id, view: denyInvitationView(invitation, JSON.stringify({ invitation: invitation.id, responseUrl: body.response_url })) });
    }),
  );
}

/** What a click on an Approve or Deny button comes with, once acknowledged and its person known. */
export interface DecisionClick {
  actor: Actor;
  /** The button's value: the invitation's or request's id, as core will read (and check) it. */
  id: string;
  body: BlockAction<ButtonAction>;
  client: webApi.WebClient;
  answer: (message: Message) => Promise<unknown>;
  log: Logger;
}

/** Acknowledges a click, knows who made it, runs `handle`, and answers any refusal to the clicker alone. */
export function decisionButton(dependencies: InvitationActionDependencies, handle: (click: DecisionClick) => Promise<void>) {
  return async ({ ack, body, action, client, respond }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const answer = answerTo(body, respond, client);
    const log = dependencies.logger.child({ team: body.team?.id, user: body.user.id, action: action.action_id, request: action.value });
    try {
      const identity = await dependencies.identities.resolve(client, teamOf(body), body.user.id);
      if (identity.kind === "no_email") {
        await answer(sayError(emailMissing));
        return;
      }
      await handle({ actor: identity.actor, id: action.value ?? "", body, client, answer, log });
    } catch (error) {
      await answer(refusal(error, log)).catch((failure: unknown) => log.error({ err: failure }, "could not answer a click"));
    }
  };
}

function refusal(error: unknown, log: Logger): Message {
  if (error instanceof CoreError) return sayError(error.message);
  return sayError(explainFailure(error, log, { what: "approval button failed", otherwise: "something went wrong on our side; nothing was decided. Try again, or type invite approve <id> (member approve <id> for a role change)." }));
}

/**
 * How to answer the person who clicked: ephemerally under the message whose button it was (the
 * message itself stays), or, for a button on the Home tab, which has no such place, directly.
 */
function answerTo(body: BlockAction, respond: RespondFn, client: webApi.WebClient): (message: Message) => Promise<unknown> {
  if (body.response_url) return (message) => respond({ response_type: "ephemeral", replace_original: false, text: message.text, blocks: message.blocks });
  return (message) => client.chat.postMessage({ channel: body.user.id, text: message.text, blocks: message.blocks });
}

export function teamOf(body: BlockAction): string {
  return body.team?.id ?? body.user.team_id ?? "";
}
