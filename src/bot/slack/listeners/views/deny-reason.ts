import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { z } from "zod";
import { AlreadyDone, CoreError } from "../../../../core/errors.ts";
import type { Actor, Platform } from "../../../../core/platform.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import type { Message } from "../../../message.ts";
import { actingIn } from "../../acting.ts";
import { publishHome } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** One kind of request a Deny button's reason modal decides: invitations, role requests. */
export interface DenyWithReason<Outcome> {
  /** The private metadata's key holding the request's id (`invitation`, `request`). */
  idKey: string;
  /** Names the request in logs and messages ("an invitation"). */
  what: string;
  deny(platform: Platform, input: { actor: Actor; id: number; reason: string | undefined }): Promise<Outcome>;
  outcomeMessage(outcome: Outcome): Message;
}

/**
 * The reason modal of a Deny button: its submission denies the request, once (the view id is
 * the request key), answers in the conversation the button was in, or refreshes the Home tab
 * when the button was there. Bad metadata, an unknown person and refusals stay in the modal.
 */
export function denyWithReason<Outcome>(dependencies: ListenerDependencies, kind: DenyWithReason<Outcome>) {
  const metadataSchema = z.object({ [kind.idKey]: z.number().int().positive(), responseUrl: z.url({ protocol: /^https?$/ }).max(500).optional() });
  return async ({ ack, body, view, context }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const metadata = readMetadata(metadataSchema, view.private_metadata);
    if (metadata === undefined) {
      await ack({ response_action: "errors", errors: { reason: "this form is out of date: close it and click Deny again" } });
      return;
    }
    const id = metadata[kind.idKey] as number;
    const responseUrl = metadata.responseUrl as string | undefined;
    const acting = actingIn(context);
    const log = acting.log.child({ [kind.idKey]: id });
    const who = await acting.who();
    if (who.kind === "unavailable") {
      const why = explainFailure(who.error, log, { what: `could not look up who denied ${kind.what}`, otherwise: "Slack could not tell us who you are just now: submit again in a moment" });
      await ack({ response_action: "errors", errors: { reason: why } });
      return;
    }
    if (who.kind === "no_email") {
      await ack({ response_action: "errors", errors: { reason: emailMissing } });
      return;
    }
    const reasonInput = view.state.values.reason?.value;
    const reason = reasonInput?.type === "plain_text_input" && typeof reasonInput.value === "string" ? reasonInput.value : undefined;
    try {
      const outcome = await kind.deny(acting.platform, { actor: who.actor, id, reason });
      await ack({ response_action: "clear" });
      if (responseUrl) {
        await dependencies.speaker.answer(responseUrl, kind.outcomeMessage(outcome)).catch((error: unknown) => log.warn({ err: error }, "could not confirm the denial"));
      } else {
        // Denied from the Home tab: the request leaves it.
        await publishHome(acting.bot, dependencies, { slackUserId: body.user.id, actor: who.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
      }
    } catch (error) {
      if (error instanceof AlreadyDone) return ack();
      if (error instanceof CoreError) return ack({ response_action: "errors", errors: { reason: error.message } });
      const said = explainFailure(error, log, { what: `denying ${kind.what} failed`, otherwise: "something went wrong on our side; nothing was decided. Try again." });
      await ack({ response_action: "errors", errors: { reason: said } });
    }
  };
}

function readMetadata(schema: z.ZodType<Record<string, unknown>>, text: string): Record<string, unknown> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
