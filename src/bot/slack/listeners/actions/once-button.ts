import { createHash } from "node:crypto";
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "pino";
import type { z } from "zod";
import { AlreadyDone, CoreError } from "../../../../core/errors.ts";
import { inTransaction, onceForRequest } from "../../../../core/platform.ts";
import { noteCommand } from "../../../../core/request-ids.ts";
import { alreadyClickedMessage, readButtonValue, unreadableButtonMessage } from "../../../blocks/buttons.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import type { CommandContext } from "../../../commands/command.ts";
import { findCommand } from "../../../commands/index.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { Arguments } from "../../../grammar.ts";
import { sayError, type Message } from "../../../message.ts";
import { actingIn, type Acting, type Identity } from "../../acting.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** A click on a button that acts at once, acknowledged, its value read and its person known. */
export interface ButtonClick<V> {
  who: Extract<Identity, { kind: "known" }>;
  acting: Acting;
  /** The button's value, checked against its schema. */
  value: V;
  /** What a command run for this click works with: the clicker, and a platform whose change takes effect once for this button. */
  command: CommandContext;
  /** True for a button on the Home tab, which has no conversation to answer in. */
  fromHome: boolean;
  /** Answers the clicker: under the message whose button it was (the whole conversation sees it when `inChannel`), or, from the Home tab, directly. */
  answer: (message: Message) => Promise<void>;
  log: Logger;
}

/**
 * A button that acts at once. It acknowledges, checks the value against `schema` (a bad one is
 * answered and does nothing), and runs `handle` as the person who clicked, whose authority core
 * checks now. The change records a key made of the message (or Home publication) the button was
 * on, the button and its value: a double click, a retry, or a second person clicking the same
 * button at the same moment, takes effect once and the others are told so.
 */
export function onceButton<V>(
  dependencies: ListenerDependencies,
  spec: {
    schema: z.ZodType<V>;
    /** The command that does the same, for the answers that suggest typing it. */
    typed: (value: V | undefined) => string;
  },
  handle: (click: ButtonClick<V>) => Promise<void>,
) {
  return async ({ ack, body, action, context }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const acting = actingIn(context);
    const fromHome = body.response_url === undefined;
    const answer = answerTo(body, acting, dependencies);
    const log = acting.log.child({ action: action.action_id });
    const value = readButtonValue(spec.schema, action.value);
    try {
      if (value === undefined) {
        log.warn({ value: action.value?.slice(0, 200) }, "a button's value is not one edgebot wrote");
        await answer(unreadableButtonMessage(spec.typed(undefined)));
        return;
      }
      const who = await acting.who();
      if (who.kind === "unavailable") throw who.error;
      if (who.kind === "no_email") {
        await answer(sayError(emailMissing));
        return;
      }
      const command = { ...who.command, platform: onceForRequest(who.command.platform, clickKey(body, action)) };
      try {
        await handle({ who, acting, value, command, fromHome, answer, log });
      } catch (error) {
        if (error instanceof AlreadyDone) {
          await answer(alreadyClickedMessage(spec.typed(value)));
          return;
        }
        throw error;
      }
      // What the click changed shows on the Home tab, whose next buttons act anew.
      if (fromHome) await publishHome(acting.bot, dependencies, { slackUserId: body.user.id, actor: who.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
    } catch (error) {
      await answer(refusal(error, log, spec.typed(value))).catch((failure: unknown) => log.error({ err: failure }, "could not answer a click"));
    }
  };
}

/**
 * Records the click's key for a button whose work writes nothing (a DNS check answered): a
 * second click of the same button is refused with `AlreadyDone` here, before anything is answered.
 */
export async function takeEffectOnce(command: CommandContext): Promise<void> {
  await inTransaction(command.platform, async () => undefined);
}

/** Runs a declared command with values given by name, as a form does: every rule and answer is the typed command's. */
export async function runCommand(context: CommandContext, name: string, values: Record<string, string>): Promise<Message> {
  const found = findCommand(name.split(" "));
  if (found === undefined) throw new Error(`no command ${name}`);
  try {
    const message = await found.command.run(context, Arguments.fromValues(values));
    noteCommand(name, message.error ? "refused" : "ok");
    return message;
  } catch (error) {
    if (error instanceof CoreError) noteCommand(name, "refused");
    throw error;
  }
}

/**
 * The key of one button where it was shown: the workspace, the message (channel and time stamp)
 * or view, the button and its value. Slack signs the payload, so the place is Slack's word; the
 * value is the button's own. Hashed, so a long value makes a short key.
 */
function clickKey(body: BlockAction<ButtonAction>, action: ButtonAction): string {
  const container = body.container as { type?: string; channel_id?: string; message_ts?: string; view_id?: string } | undefined;
  const where =
    container?.type === "message"
      ? ["message", container.channel_id ?? body.channel?.id ?? "", container.message_ts ?? ""]
      : container?.type === "view"
        ? ["view", container.view_id ?? body.view?.id ?? ""]
        : ["action", action.action_ts];
  const digest = createHash("sha256").update(JSON.stringify([body.team?.id ?? body.user.team_id ?? "", ...where, action.action_id, action.value ?? ""])).digest("hex");
  return `slack:button:${digest}`;
}

/** Answers the person who clicked: under the message whose button it was, or, from the Home tab, directly. */
export function answerTo(body: BlockAction, acting: Acting, dependencies: ListenerDependencies): (message: Message) => Promise<void> {
  const responseUrl = body.response_url;
  if (responseUrl) {
    return (message) => dependencies.speaker.answer(responseUrl, { replaceOriginal: false, visibility: message.inChannel ? "in_channel" : "ephemeral", text: message.text, blocks: message.blocks });
  }
  return (message) => acting.bot.tell(body.user.id, message);
}

function refusal(error: unknown, log: Logger, typed: string): Message {
  if (error instanceof CoreError) return sayError(error.message);
  return sayError(explainFailure(error, log, { what: "button failed", otherwise: `something went wrong on our side; nothing was done. Try again, or type ${typed}.` }));
}
