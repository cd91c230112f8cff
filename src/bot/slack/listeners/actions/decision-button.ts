import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "pino";
import { CoreError } from "../../../../core/errors.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure } from "../../../failures.ts";
import { sayError, type Message } from "../../../message.ts";
import { actingIn, type Acting, type Identity } from "../../acting.ts";
import type { SlackSpeaker } from "../../speaker.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** What a click on an Approve or Deny button comes with, once acknowledged and its person known. */
export interface DecisionClick {
  who: Extract<Identity, { kind: "known" }>;
  acting: Acting;
  /** The button's value: the invitation's or request's id, as core will read (and check) it. */
  id: string;
  body: BlockAction<ButtonAction>;
  /** Answers the person who clicked, and only them. */
  answer: (message: Message) => Promise<void>;
  log: Logger;
}

/**
 * An Approve or Deny button: acknowledges the click, runs `handle` for the person who made it,
 * and answers any refusal to the clicker alone.
 */
export function decisionButton(dependencies: ListenerDependencies, handle: (click: DecisionClick) => Promise<void>) {
  return async ({ ack, body, action, context }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const acting = actingIn(context);
    const answer = answerTo(body, acting, dependencies.speaker);
    const log = acting.log.child({ action: action.action_id, request: action.value });
    try {
      const who = await acting.who();
      if (who.kind === "unavailable") throw who.error;
      if (who.kind === "no_email") {
        await answer(sayError(emailMissing));
        return;
      }
      await handle({ who, acting, id: action.value ?? "", body, answer, log });
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
function answerTo(body: BlockAction, acting: Acting, speaker: SlackSpeaker): (message: Message) => Promise<void> {
  const responseUrl = body.response_url;
  if (responseUrl) return (message) => speaker.answer(responseUrl, { replaceOriginal: false, text: message.text, blocks: message.blocks });
  return (message) => acting.bot.tell(body.user.id, message);
}
