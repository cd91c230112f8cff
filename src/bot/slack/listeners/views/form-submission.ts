import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import type { Logger } from "pino";
import type { Actor } from "../../../../core/platform.ts";
import { noteCommand } from "../../../../core/request-ids.ts";
import { formCallbackPrefix, formConfirmationCallbackPrefix, formConfirmationView, formDoneView, formRefusedView, readFormValues } from "../../../blocks/modals.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { formFor, submitForm } from "../../../commands/command-forms.ts";
import type { Message } from "../../../message.ts";
import { actingIn, type Acting } from "../../acting.ts";
import { readFormOrigin, readPendingForm, type FormOrigin, type PendingForm } from "../../form-modals.ts";
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
    noteCommand(form.command, outcome.kind === "done" ? (outcome.message.error ? "refused" : "ok") : outcome.kind === "field_errors" ? "refused" : outcome.kind === "confirm" ? "form" : "ok");
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
      case "confirm": {
        // A command that destroys: the form becomes its confirmation, which carries what was given.
        const pending: PendingForm = { origin: readFormOrigin(view.private_metadata), values: outcome.values };
        await ack({ response_action: "update", view: formConfirmationView(form, outcome.values, JSON.stringify(pending)) });
        return;
      }
      case "done": {
        const origin = readFormOrigin(view.private_metadata);
        await (origin.from === "home" ? ack({ response_action: "update", view: formDoneView(form, outcome.message) }) : ack({ response_action: "clear" }));
        await answerAfterForm(dependencies, acting, { origin, message: outcome.message, slackUserId: body.user.id, actor: who.actor, log });
      }
    }
  };
}

/**
 * A destructive form's confirmation submitted: its command runs as the form would have, with
 * the name it asks for given (core checks it still). The view is the form's, so the change takes
 * effect once however often it is submitted. A refusal replaces the view with why; Cancel sends
 * nothing and changes nothing.
 */
export function formConfirmed(dependencies: ListenerDependencies) {
  return async ({ ack, body, view, context }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const form = formFor(view.callback_id.slice(formConfirmationCallbackPrefix.length));
    const pending = readPendingForm(view.private_metadata);
    if (form === undefined || form.confirm === undefined || pending === undefined) {
      await ack({ response_action: "update", view: formRefusedView(form ?? { command: "", title: "edgebot", submit: "", intro: "", fields: [] }, "This confirmation is out of date: close it and start again.") });
      return;
    }
    const acting = actingIn(context);
    const log = acting.log.child({ form: form.command, confirmed: true });
    const who = await acting.who();
    if (who.kind !== "known") {
      const why = who.kind === "no_email" ? emailMissing : explainFailure(who.error, log, { what: "could not look up who confirmed a form", otherwise: "Slack could not tell us who you are just now: try again in a moment." });
      await ack({ response_action: "update", view: formRefusedView(form, why) });
      return;
    }
    const outcome = await submitForm(who.command, form, pending.values, { log, confirmed: true });
    switch (outcome.kind) {
      case "field_errors":
        await ack({ response_action: "update", view: formRefusedView(form, Object.values(outcome.errors).join(". ")) });
        return;
      case "failed":
      case "confirm":
        await ack({ response_action: "update", view: formRefusedView(form, outcome.kind === "failed" ? outcome.message.text.replace(/^:warning: /, "") : "This confirmation is out of date.") });
        return;
      case "already_done":
        await ack();
        return;
      case "done":
        await (pending.origin.from === "home" ? ack({ response_action: "update", view: formDoneView(form, outcome.message) }) : ack({ response_action: "clear" }));
        await answerAfterForm(dependencies, acting, { origin: pending.origin, message: outcome.message, slackUserId: body.user.id, actor: who.actor, log });
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
