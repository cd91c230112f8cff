import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "pino";
import { noteCommand, type RequestOutcome } from "../../../../core/request-ids.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { runCommandLine, type CommandOutcome } from "../../../dispatch.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { formFor, formPrefill } from "../../../commands/command-forms.ts";
import { sayError, type Message } from "../../../message.ts";
import { actingIn, type Acting } from "../../acting.ts";
import { openForm } from "../../form-modals.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** The slash command: acknowledge at once, then run the line and answer through the response URL. */
export function slashCommand(dependencies: ListenerDependencies) {
  const { speaker, slashCommand } = dependencies;
  return async ({ command, ack, context }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const acting = actingIn(context);
    const { log } = acting;
    // We acknowledge before any work, so a retry means Slack lost our ack, not that the work failed.
    if (context.retryNum !== undefined && context.retryNum > 0) {
      log.info({ retryNum: context.retryNum, retryReason: context.retryReason }, "slash command retried by Slack; already handled");
      return;
    }
    // An answer is only for the person who typed the command, unless it is meant for the conversation.
    const answer = (message: Message) => speaker.answer(command.response_url, { visibility: message.inChannel ? "in_channel" : "ephemeral", text: message.text, blocks: message.blocks });
    try {
      const who = await acting.who();
      if (who.kind === "unavailable") throw who.error;
      if (who.kind === "no_email") {
        await answer(sayError(`${emailMissing} Then try again.`));
        return;
      }
      await acting.introduceMentioned(command.text);
      const outcome = await runCommandLine(who.command, command.text, { slashCommand, logger: log });
      noteCommand(outcome.command?.name ?? "(not a command)", accessOutcome(outcome));
      if (outcome.kind === "incomplete") {
        await openFormOrAnswer(outcome, { acting, triggerId: command.trigger_id, responseUrl: command.response_url, answer, log });
        return;
      }
      await answer(outcome.message);
      if (changedSomething(outcome)) {
        // The answer is already on its way; a Home tab that fails to refresh must not change it.
        await publishHome(acting.bot, dependencies, { slackUserId: command.user_id, actor: who.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
      }
    } catch (error) {
      const said = explainFailure(error, log, { what: "slash command failed", otherwise: "something went wrong on our side. Try again, and tell your edgebot admins if it keeps happening." });
      await answer(sayError(said)).catch((failure: unknown) => log.error({ err: failure }, "could not answer through the response URL"));
    }
  };
}

/** How a command came out, for the request's access log line (a failure nobody foresaw notes itself). */
function accessOutcome(outcome: CommandOutcome): RequestOutcome {
  if (outcome.kind === "incomplete") return formFor(outcome.command.name) === undefined ? "usage" : "form";
  if (outcome.command === undefined) return outcome.message.error ? "unknown_command" : "ok";
  return outcome.message.error ? "refused" : "ok";
}

/** A command that succeeded and may have changed what the person's Home tab shows. */
function changedSomething(outcome: CommandOutcome): boolean {
  return outcome.kind === "answered" && !outcome.message.error && outcome.command !== undefined && !outcome.command.readOnly;
}

/**
 * A command missing required arguments opens its form, filled in with what was typed; a
 * command without a form, or a form Slack would not open, answers with the usage.
 */
async function openFormOrAnswer(
  outcome: Extract<CommandOutcome, { kind: "incomplete" }>,
  request: { acting: Acting; triggerId: string; responseUrl: string; answer: (message: Message) => Promise<void>; log: Logger },
): Promise<void> {
  const form = formFor(outcome.command.name);
  if (form !== undefined) {
    try {
      await openForm(request.acting.bot, { triggerId: request.triggerId, form, prefill: formPrefill(form, outcome.given), origin: { from: "command", responseUrl: request.responseUrl } });
      return;
    } catch (error) {
      request.log.warn({ err: error }, "could not open the form; answering with the usage");
    }
  }
  await request.answer(outcome.message);
}
