import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { editConfigFile } from "../../../../core/configs.ts";
import { AlreadyDone, Conflict, CoreError, Invalid } from "../../../../core/errors.ts";
import { configEditorAction, configEditorFields, shortCommit } from "../../../blocks/configs.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure } from "../../../failures.ts";
import { escapeText, say } from "../../../message.ts";
import { actingIn } from "../../acting.ts";
import { readConfigEditorMetadata } from "../../config-editor.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/**
 * The config editor's submission commits the file. It runs before the acknowledgement: a
 * validation error or a refused edit must come back on the field to keep the modal open, and
 * the commit is a few quick git steps. A modal submitted twice commits once.
 */
export function configEditorSubmitted({ speaker }: ListenerDependencies) {
  return async ({ ack, view, context }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const onContent = (message: string) => ack({ response_action: "errors", errors: { [configEditorFields.content]: message } });
    const metadata = readConfigEditorMetadata(view.private_metadata);
    if (metadata === undefined) return onContent("this form is out of date: close it and run config edit again");
    const acting = actingIn(context);
    const log = acting.log.child({ app: metadata.app, env: metadata.env });
    const who = await acting.who();
    if (who.kind === "unavailable") {
      return onContent(explainFailure(who.error, log, { what: "could not look up who submitted an edit", otherwise: "Slack could not tell us who you are just now: submit again in a moment" }));
    }
    if (who.kind === "no_email") return onContent(emailMissing);

    const content = typedValue(view.state.values, configEditorFields.content) ?? "";
    const message = typedValue(view.state.values, configEditorFields.message);
    try {
      const edit = await editConfigFile(acting.platform, { actor: who.actor, app: metadata.app, env: metadata.env, path: metadata.path, base: metadata.base, content, message });
      await ack({ response_action: "clear" });
      if (metadata.responseUrl !== undefined) {
        const answer = say(`:white_check_mark: Committed *${escapeText(edit.path)}* to *${edit.ref} ${edit.env}* as \`${shortCommit(edit.commit)}\`.`);
        await speaker.answer(metadata.responseUrl, answer).catch((error: unknown) => log.warn({ err: error }, "could not confirm the edit"));
      }
    } catch (error) {
      if (error instanceof AlreadyDone) return ack();
      if ((error instanceof Invalid || error instanceof Conflict) && error.field === configEditorFields.message) {
        return ack({ response_action: "errors", errors: { [configEditorFields.message]: error.message } });
      }
      if (error instanceof CoreError) return onContent(error.message);
      return onContent(explainFailure(error, log, { what: "committing an edit failed", otherwise: "something went wrong on our side; nothing was committed. Try again." }));
    }
  };
}

/** A typed input's value from a submitted view; null or absent when left empty or not shaped as ours. */
function typedValue(state: Record<string, Record<string, { type: string; value?: string | null }> | undefined>, block: string): string | undefined {
  const input = state[block]?.[configEditorAction];
  return input?.type === "plain_text_input" && typeof input.value === "string" ? input.value : undefined;
}
