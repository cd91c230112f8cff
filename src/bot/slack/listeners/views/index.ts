import type { App, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { onceForRequest, type Actor, type Platform } from "../../../../core/platform.ts";
import type { DnsVerifier } from "../../../../dns/verify.ts";
import { formCallbackPrefix, formDoneView, readFormValues } from "../../../blocks/modals.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import { blockOf, formFor, submitForm } from "../../../commands/form-submission.ts";
import type { Message } from "../../../message.ts";
import { postToResponseUrl, readFormOrigin, type FormOrigin } from "../../forms.ts";
import { publishHome } from "../../home.ts";
import type { SlackIdentities } from "../../identities.ts";
import { registerConfigViews } from "./configs.ts";
import { registerInvitationViews } from "./invitations.ts";
import { registerRoleRequestViews } from "./role-requests.ts";

export interface ViewDependencies {
  platform: Platform;
  dns: DnsVerifier;
  slashCommand: string;
  identities: SlackIdentities;
  logger: Logger;
}

/**
 * Registers the form submissions. The form's command runs before the acknowledgement, because
 * a field error must come back in it to keep the modal open; each form's command is a quick
 * database change. A modal submitted twice changes once: the change records the view's id.
 */
export function registerViews(app: App, dependencies: ViewDependencies): void {
  const { dns, identities, logger } = dependencies;
  registerInvitationViews(app, dependencies);
  registerRoleRequestViews(app, dependencies);
  registerConfigViews(app, dependencies);
  app.view({ callback_id: new RegExp(`^${formCallbackPrefix}`), type: "view_submission" }, async ({ ack, body, view, client }) => {
    const form = formFor(view.callback_id.slice(formCallbackPrefix.length));
    // Errors are shown under a field of the modal as it is, even one that names no form of ours.
    const firstField = form ? blockOf(form.fields[0]!) : ((view.blocks.find((block) => block.type === "input")?.block_id as string | undefined) ?? "");
    if (form === undefined) {
      await ack({ response_action: "errors", errors: { [firstField]: "this form is out of date: close it and start again" } });
      return;
    }
    const teamId = body.user.team_id ?? view.team_id;
    const log = logger.child({ team: teamId, user: body.user.id, form: form.command });
    const identity = await identities.resolve(client, teamId, body.user.id).catch((error: unknown) => ({
      kind: "unknown" as const,
      why: explainFailure(error, log, { what: "could not look up who submitted a form", otherwise: "Slack could not tell us who you are just now: submit again in a moment" }),
    }));
    if (identity.kind === "unknown") {
      await ack({ response_action: "errors", errors: { [firstField]: identity.why } });
      return;
    }
    if (identity.kind === "no_email") {
      await ack({ response_action: "errors", errors: { [firstField]: emailMissing } });
      return;
    }
    const context = { platform: onceForRequest(identities.platformFor(client, teamId), `slack:view:${view.id}`), dns, actor: identity.actor, teamId, tellNow: identities.tellerFor(client, teamId) };
    const values = readFormValues(form, view.state.values);
    // A person picked may never have used edgebot: register them as a typed mention would.
    await identities.introduceMentioned(client, teamId, Object.values(values).join(" "));
    const outcome = await submitForm(context, form, values, { log });
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
        await answerAfterForm(client, dependencies, { origin, message: outcome.message, slackUserId: body.user.id, actor: identity.actor, log });
      }
    }
  });
}

/** Tells the person what the form did where they started, then refreshes their Home tab. */
async function answerAfterForm(
  client: webApi.WebClient,
  dependencies: ViewDependencies,
  input: { origin: FormOrigin; message: Message; slackUserId: string; actor: Actor; log: Logger },
): Promise<void> {
  if (input.origin.from === "command") {
    await postToResponseUrl(input.origin.responseUrl, input.message).catch((error: unknown) => {
      // The response URL lives 30 minutes; a form kept open longer answers by direct message.
      input.log.warn({ err: error }, "could not answer through the response URL; sending a direct message");
      return client.chat.postMessage({ channel: input.slackUserId, text: input.message.text, blocks: input.message.blocks }).catch((failure: unknown) =>
        input.log.error({ err: failure }, "could not tell the person what their form did"),
      );
    });
  }
  await publishHome(client, dependencies, { slackUserId: input.slackUserId, actor: input.actor }).catch((error: unknown) =>
    logFailure(error, input.log, "could not refresh the Home tab"),
  );
}
