import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { Logger } from "pino";
import { editConfigFile } from "../../../../core/configs.ts";
import { AlreadyDone, Conflict, CoreError, Invalid } from "../../../../core/errors.ts";
import { configEditorAction, configEditorFields, editCommittedMessage, editNotCommittedMessage, editStillCommittingView } from "../../../blocks/configs.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure } from "../../../failures.ts";
import type { Message } from "../../../message.ts";
import { actingIn, type Acting } from "../../acting.ts";
import { readConfigEditorMetadata, type ConfigEditorMetadata } from "../../config-editor.ts";
import { resultWithin } from "../../within.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/**
 * How long a submission waits for its commit before acknowledging without it. Slack shows the
 * person an error when a submission is not acknowledged within 3 s, and a commit waits for the
 * application's repository lock, which a push holds for all of its receive-pack.
 */
export const defaultEditWaitMs = 2000;

type EditorField = (typeof configEditorFields)[keyof typeof configEditorFields];

/** How a submitted edit ended: said in the form when it ends in time, posted where `config edit` was typed when not. */
type EditOutcome =
  | { kind: "committed"; edit: Awaited<ReturnType<typeof editConfigFile>> }
  /** The same form was submitted before: that submission committed it and answers for it. */
  | { kind: "already_done" }
  /** Not committed: refused (bad input, changed since the editor opened), or failed; the reason belongs to `field`. */
  | { kind: "refused"; field: EditorField; reason: string };

/**
 * The config editor's submission commits the file. What comes of it within `editWaitMs` is
 * the acknowledgement: a refusal comes back on its field and keeps the modal open; a commit
 * closes it and is confirmed where `config edit` was typed. A commit that takes longer goes
 * on: the modal says so, and the outcome is posted there once known, a refusal with the text
 * submitted, which the closed modal no longer holds. A modal submitted twice commits once.
 */
export function configEditorSubmitted({ speaker, editWaitMs }: ListenerDependencies) {
  return async ({ ack, view, context }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const onField = (field: EditorField, message: string) => ack({ response_action: "errors", errors: { [field]: message } });
    const metadata = readConfigEditorMetadata(view.private_metadata);
    if (metadata === undefined) return onField(configEditorFields.content, "this form is out of date: close it and run config edit again");
    const acting = actingIn(context);
    const log = acting.log.child({ app: metadata.app, env: metadata.env });
    const content = typedValue(view.state.values, configEditorFields.content) ?? "";
    const message = typedValue(view.state.values, configEditorFields.message);
    const answer = async (reply: Message) => {
      if (metadata.responseUrl === undefined) log.warn("an edit's form carries no response URL: its outcome is not told");
      else await speaker.answer(metadata.responseUrl, reply).catch((error: unknown) => log.warn({ err: error }, "could not tell the outcome of an edit"));
    };

    // Never rejects: whether it ends in time or not, its outcome is awaited below.
    const edit = submittedEdit(acting, metadata, log, { content, message });
    const inTime = await resultWithin(edit, editWaitMs);
    if (inTime !== undefined) {
      switch (inTime.kind) {
        case "committed":
          await ack({ response_action: "clear" });
          return answer(editCommittedMessage(inTime.edit));
        case "already_done":
          return ack();
        case "refused":
          return onField(inTime.field, inTime.reason);
      }
    }

    await ack({ response_action: "update", view: editStillCommittingView(metadata) });
    log.warn({ waitedMs: editWaitMs }, "an edit was not committed in time to answer in its form: its outcome will be posted");
    const outcome = await edit;
    switch (outcome.kind) {
      case "committed":
        return answer(editCommittedMessage(outcome.edit));
      case "already_done":
        // The submission that committed it answers.
        return;
      case "refused":
        return answer(editNotCommittedMessage(metadata, outcome.reason, content));
    }
  };
}

/** Commits the submitted text as the person submitting it; every way that can end, as an outcome. */
async function submittedEdit(acting: Acting, metadata: ConfigEditorMetadata, log: Logger, typed: { content: string; message: string | undefined }): Promise<EditOutcome> {
  const refused = (field: EditorField, reason: string): EditOutcome => ({ kind: "refused", field, reason });
  try {
    const who = await acting.who();
    if (who.kind === "unavailable") {
      return refused(configEditorFields.content, explainFailure(who.error, log, { what: "could not look up who submitted an edit", otherwise: "Slack could not tell us who you are just now: submit again in a moment" }));
    }
    if (who.kind === "no_email") return refused(configEditorFields.content, emailMissing);
    const edit = await editConfigFile(acting.platform, { actor: who.actor, app: metadata.app, env: metadata.env, path: metadata.path, base: metadata.base, ...typed });
    return { kind: "committed", edit };
  } catch (error) {
    if (error instanceof AlreadyDone) return { kind: "already_done" };
    if ((error instanceof Invalid || error instanceof Conflict) && error.field === configEditorFields.message) return refused(configEditorFields.message, error.message);
    if (error instanceof CoreError) return refused(configEditorFields.content, error.message);
    return refused(configEditorFields.content, explainFailure(error, log, { what: "committing an edit failed", otherwise: "something went wrong on our side; nothing was committed. Try again." }));
  }
}

/** A typed input's value from a submitted view; null or absent when left empty or not shaped as ours. */
function typedValue(state: Record<string, Record<string, { type: string; value?: string | null }> | undefined>, block: string): string | undefined {
  const input = state[block]?.[configEditorAction];
  return input?.type === "plain_text_input" && typeof input.value === "string" ? input.value : undefined;
}
