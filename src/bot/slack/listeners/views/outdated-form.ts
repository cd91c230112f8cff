import type { AllMiddlewareArgs } from "@slack/bolt";
import { outdatedFormView } from "../../../blocks/modals.ts";
import { actingIn } from "../../acting.ts";
import type { FormArgs } from "../routes.ts";

/**
 * A submitted modal no route takes: one an earlier edgebot opened, whose form this one no longer
 * has, or one edgebot never made. The modal says so, and nothing is changed.
 */
export async function outdatedForm({ ack, view, context }: FormArgs & AllMiddlewareArgs): Promise<void> {
  actingIn(context).log.warn({ callbackId: view.callback_id.slice(0, 100) }, "a form no listener takes: answered as out of date");
  await ack({ response_action: "update", view: outdatedFormView("help") });
}
