import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import { z } from "zod";
import { AlreadyDone, CoreError } from "../../../../core/errors.ts";
import { onceForRequest, type Actor, type Platform } from "../../../../core/platform.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { explainFailure, logFailure } from "../../../failures.ts";
import type { Message } from "../../../message.ts";
import { postToResponseUrl } from "../../forms.ts";
import { publishHome } from "../../home.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface DenyViewDependencies {
  platform: Platform;
  slashCommand: string;
  identities: SlackIdentities;
  logger: Logger;
}

/** One kind of request a Deny button's reason modal decides: invitations, role requests. */
export interface DenyWithReason<Outcome> {
  callbackId: string;
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
export function registerDenyWithReason<Outcome>(app: App, dependencies: DenyViewDependencies, kind: DenyWithReason<Outcome>): void {
  const { platform, identities, logger } = dependencies;
  const metadataSchema = z.object({ [kind.idKey]: z.number().int().positive(), responseUrl: z.url({ protocol: /^https?$/ }).max(500).optional() });
  app.view({ callback_id: kind.callbackId, type: "view_submission" }, async ({ ack, body, view, client }) => {
    const metadata = readMetadata(metadataSchema, view.private_metadata);
    if (metadata === undefined) {
      await ack({ response_action: "errors", errors: { reason: "this form is out of date: close it and click Deny again" } });
      return;
    }
    const id = metadata[kind.idKey] as number;
    const responseUrl = metadata.responseUrl as string | undefined;
    const log = logger.child({ team: view.team_id, user: body.user.id, [kind.idKey]: id });
    const identity = await identities.resolve(client, body.user.team_id ?? view.team_id, body.user.id).catch((error: unknown) => ({
      kind: "unknown" as const,
      why: explainFailure(error, log, { what: `could not look up who denied ${kind.what}`, otherwise: "Slack could not tell us who you are just now: submit again in a moment" }),
    }));
    if (identity.kind === "unknown") {
      await ack({ response_action: "errors", errors: { reason: identity.why } });
      return;
    }
    if (identity.kind === "no_email") {
      await ack({ response_action: "errors", errors: { reason: emailMissing } });
      return;
    }
    const reasonInput = view.state.values.reason?.value;
    const reason = reasonInput?.type === "plain_text_input" && typeof reasonInput.value === "string" ? reasonInput.value : undefined;
    try {
      const outcome = await kind.deny(onceForRequest(platform, `slack:view:${view.id}`), { actor: identity.actor, id, reason });
      await ack({ response_action: "clear" });
      if (responseUrl) {
        await postToResponseUrl(responseUrl, kind.outcomeMessage(outcome)).catch((error: unknown) => log.warn({ err: error }, "could not confirm the denial"));
      } else {
        // Denied from the Home tab: the request leaves it.
        await publishHome(client, dependencies, { slackUserId: body.user.id, actor: identity.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
      }
    } catch (error) {
      if (error instanceof AlreadyDone) return ack();
      if (error instanceof CoreError) return ack({ response_action: "errors", errors: { reason: error.message } });
      const said = explainFailure(error, log, { what: `denying ${kind.what} failed`, otherwise: "something went wrong on our side; nothing was decided. Try again." });
      await ack({ response_action: "errors", errors: { reason: said } });
    }
  });
}

function readMetadata(schema: z.ZodType<Record<string, unknown>>, text: string): Record<string, unknown> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
