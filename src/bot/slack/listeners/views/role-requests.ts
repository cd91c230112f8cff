import type { App } from "@slack/bolt";
import { z } from "zod";
import { AlreadyDone, CoreError } from "../../../../core/errors.ts";
import { onceForRequest } from "../../../../core/platform.ts";
import { decideRoleRequest } from "../../../../core/role-requests.ts";
import { emailMissing } from "../../../blocks/identity.ts";
import { denyRoleRequestCallback, roleRequestOutcomeMessage } from "../../../blocks/role-requests.ts";
import { postToResponseUrl } from "../../forms.ts";
import { publishHome } from "../../home.ts";
import type { InvitationViewDependencies } from "./invitations.ts";
import { explainFailure, logFailure } from "../../../failures.ts";

const metadataSchema = z.object({ request: z.number().int().positive(), responseUrl: z.url({ protocol: /^https?$/ }).max(500).optional() });

/** The reason modal of a role request's Deny button: its submission denies the request, once. */
export function registerRoleRequestViews(app: App, dependencies: InvitationViewDependencies): void {
  const { platform, identities, logger } = dependencies;
  app.view({ callback_id: denyRoleRequestCallback, type: "view_submission" }, async ({ ack, body, view, client }) => {
    const metadata = readMetadata(view.private_metadata);
    if (metadata === undefined) {
      await ack({ response_action: "errors", errors: { reason: "this form is out of date: close it and click Deny again" } });
      return;
    }
    const log = logger.child({ team: view.team_id, user: body.user.id, roleRequest: metadata.request });
    const identity = await identities.resolve(client, body.user.team_id ?? view.team_id, body.user.id);
    if (identity.kind === "no_email") {
      await ack({ response_action: "errors", errors: { reason: emailMissing } });
      return;
    }
    const reasonInput = view.state.values.reason?.value;
    const reason = reasonInput?.type === "plain_text_input" && typeof reasonInput.value === "string" ? reasonInput.value : undefined;
    try {
      const outcome = await decideRoleRequest(onceForRequest(platform, `slack:view:${view.id}`), { actor: identity.actor, id: metadata.request, decision: "deny", reason });
      await ack({ response_action: "clear" });
      if (metadata.responseUrl) {
        await postToResponseUrl(metadata.responseUrl, roleRequestOutcomeMessage(outcome)).catch((error: unknown) => log.warn({ err: error }, "could not confirm the denial"));
      } else {
        // Denied from the Home tab: the request leaves it.
        await publishHome(client, dependencies, { slackUserId: body.user.id, actor: identity.actor }).catch((error: unknown) => logFailure(error, log, "could not refresh the Home tab"));
      }
    } catch (error) {
      if (error instanceof AlreadyDone) return ack();
      if (error instanceof CoreError) return ack({ response_action: "errors", errors: { reason: error.message } });
      const said = explainFailure(error, log, { what: "denying a role request failed", otherwise: "something went wrong on our side; nothing was decided. Try again." });
      await ack({ response_action: "errors", errors: { reason: said } });
    }
  });
}

function readMetadata(text: string): z.infer<typeof metadataSchema> | undefined {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
