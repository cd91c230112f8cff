import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { Platform } from "../../../../core/platform.ts";
import type { DnsVerifier } from "../../../../dns/verify.ts";
import { runCommandLine, type CommandOutcome } from "../../../dispatch.ts";
import { formFor, formPrefill } from "../../../commands/form-submission.ts";
import { openForm } from "../../forms.ts";
import { openConfigEditor } from "../../config-editor.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { sayError, type Message } from "../../../message.ts";
import { publishHome } from "../../home.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface SlashCommandDependencies {
  platform: Platform;
  dns: DnsVerifier;
  slashCommand: string;
  identities: SlackIdentities;
  logger: Logger;
}

/** The slash command: acknowledge at once, then run the line and answer through the response URL. */
export function slashCommandListener(dependencies: SlashCommandDependencies) {
  const { platform, dns, slashCommand, identities, logger } = dependencies;
  return async ({ command, ack, respond, context, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const log = logger.child({ team: command.team_id, user: command.user_id });
    // We acknowledge before any work, so a retry means Slack lost our ack, not that the work failed.
    if (context.retryNum !== undefined && context.retryNum > 0) {
      log.info({ retryNum: context.retryNum, retryReason: context.retryReason }, "slash command retried by Slack; already handled");
      return;
    }
    try {
      const identity = await identities.resolve(client, command.team_id, command.user_id);
      if (identity.kind === "no_email") {
        await answer(respond, sayError(`${emailMissing} Then try again.`));
        return;
      }
      await identities.introduceMentioned(client, command.team_id, command.text);
      const outcome = await runCommandLine(
        {
          platform: identities.platformFor(client, command.team_id),
          dns,
          actor: identity.actor,
          teamId: command.team_id,
          tellNow: identities.tellerFor(client, command.team_id),
          openEditor: (file) => openConfigEditor(client, { triggerId: command.trigger_id, file, responseUrl: command.response_url }),
        },
        command.text,
        { slashCommand, logger: log },
      );
      if (outcome.kind === "incomplete") {
        await answerIncomplete(outcome, { respond, client, triggerId: command.trigger_id, responseUrl: command.response_url, log });
        return;
      }
      await answer(respond, outcome.message);
      if (changedSomething(outcome)) {
        // The answer is already on its way; a Home tab that fails to refresh must not change it.
        await publishHome(client, { platform, slashCommand }, { slackUserId: command.user_id, actor: identity.actor }).catch((error: unknown) =>
          logFailure(error, log, "could not refresh the Home tab"),
        );
      }
    } catch (error) {
      const said = explainFailure(error, log, { what: "slash command failed", otherwise: "something went wrong on our side. Try again, and tell your edgebot admins if it keeps happening." });
      await answer(respond, sayError(said)).catch((failure: unknown) =>
        log.error({ err: failure }, "could not answer through the response URL"),
      );
    }
  };
}

/** A command that succeeded and may have changed what the person's Home tab shows. */
function changedSomething(outcome: CommandOutcome): boolean {
  return outcome.kind === "answered" && !outcome.message.error && outcome.command !== undefined && !outcome.command.readOnly;
}

/**
 * A command missing required arguments opens its form, filled in with what was typed; a
 * command without a form, or a form Slack would not open, answers with the usage.
 */
async function answerIncomplete(
  outcome: Extract<CommandOutcome, { kind: "incomplete" }>,
  slack: { respond: RespondFn; client: webApi.WebClient; triggerId: string; responseUrl: string; log: Logger },
): Promise<void> {
  const form = formFor(outcome.command.name);
  if (form !== undefined) {
    try {
      await openForm(slack.client, { triggerId: slack.triggerId, form, prefill: formPrefill(form, outcome.given), origin: { from: "command", responseUrl: slack.responseUrl } });
      return;
    } catch (error) {
      slack.log.warn({ err: error }, "could not open the form; answering with the usage");
    }
  }
  await answer(slack.respond, outcome.message);
}

/** An answer to a slash command is ephemeral, only for the person who typed it, unless it is meant for the conversation. */
async function answer(respond: RespondFn, message: Message): Promise<void> {
  await respond({ response_type: message.inChannel ? "in_channel" : "ephemeral", text: message.text, blocks: message.blocks });
}
