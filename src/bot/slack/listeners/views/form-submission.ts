import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { Logger } from "pino";
import type { Actor } from "../../../../core/platform.ts";
import { formCallbackPrefix, formDoneView, readFormValues } from "../../../blocks/modals.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { formFor, submitForm } from "../../../commands/command-forms.ts";
import type { Message } from "../../../message.ts";
import { actingIn, type Acting } from "../../acting.ts";
import { readFormOrigin, type FormOrigin } from "../../form-modals.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/**
 * A form submitted: its command runs, then the modal closes (or, opened from the Home tab,
 * shows the answer), and the answer goes where the form was opened. A field error keeps the
 * modal open with the error under its field.
 */
export function formSubmitted(dependencies: ListenerDependencies) {
  return async ({ ack, body, view, context }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const form = formFor(view.callback_id.slice(formCallbackPrefix.length));
    // Errors are shown under the modal's first field as it is, even one that names no form of ours.
    const firstField = (view.blocks.find((block) => block.type === "input")?.block_id as string | undefined) ?? "";
    if (form === undefined) {
      await ack({ response_action: "errors", errors: { [firstField]: "this form is out of date: close it and start again" } });
      return;
    }
    const acting = actingIn(context);
    const log = acting.log.child({ form: form.command });
    const who = await acting.who();
    if (who.kind === "unavailable") {
      const why = explainFailure(who.error, log, { what: "could not look up who submitted a form", otherwise: "Slack could not tell us who you are just now: submit again in a moment" });
      await ack({ response_action: "errors", errors: { [firstField]: why } });
      return;
    }
    if (who.kind === "no_email") {
      await ack({ response_action: "errors", errors: { [firstField]: emailMissing } });
      return;
    }
    const values = readFormValues(form, view.state.values);
    // A person picked may never have used edgebot: register them as a typed mention would.
    await acting.introduceMentioned(Object.values(values).join(" "));
    const outcome = await submitForm(who.command, form, values, { log });
    switch (outcome.kind) {
      case "field_errors":
        await ack({ response_action: "errors", errors: outcome.errors });
        return;
      case "failed":
        await ack({ response_action: "errors", errors: { [firstField]: outcome.message.text } });
        return;
      case "already_done":
        // The first submission answers; this one closes the modal quietly.
        await ack();
        return;
      case "done": {
        const origin = readFormOrigin(view.private_metadata);
        await (origin.from === "home" ? ack({ response_action: "update", view: formDoneView(form, outcome.message) }) : ack({ response_action: "clear" }));
        await answerAfterForm(dependencies, acting, { origin, message: outcome.message, slackUserId: body.user.id, actor: who.actor, log });
      }
    }
  };
}

/** Tells the person what the form did where they started, then refreshes their Home tab. */
async function answerAfterForm(
  dependencies: ListenerDependencies,
  acting: Acting,
  input: { origin: FormOrigin; message: Message; slackUserId: string; actor: Actor; log: Logger },
): Promise<void> {
  if (input.origin.from === "command") {
    await dependencies.speaker.answer(input.origin.responseUrl, input.message).catch((error: unknown) => {
      // The response URL lives 30 minutes; a form kept open longer answers by direct message.
      input.log.warn({ err: error }, "could not answer through the response URL; sending a direct message");
      return acting.bot.tell(input.slackUserId, input.message).catch((failure: unknown) => input.log.error({ err: failure }, "could not tell the person what their form did"));
    });
  }
  await publishHome(acting.bot, dependencies, { slackUserId: input.slackUserId, actor: input.actor }).catch((error: unknown) => logFailure(error, input.log, "could not refresh the Home tab"));
}
