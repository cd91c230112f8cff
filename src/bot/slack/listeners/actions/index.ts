import type { App, BlockAction, ButtonAction, OverflowAction } from "@slack/bolt";
import { openFormAction, readFormButton } from "../../../blocks/modals.ts";
import { openForm, type FormOrigin } from "../../forms.ts";
import { registerInvitationActions, type InvitationActionDependencies } from "./invitations.ts";
import { registerRoleRequestActions } from "./role-requests.ts";

export type ActionDependencies = InvitationActionDependencies;

/**
 * Registers the buttons: those that open a form (on the Home tab, or an application's menu),
 * whose submission does the work, and the Approve and Deny buttons of invitation and role requests.
 */
export function registerActions(app: App, dependencies: ActionDependencies): void {
  const { logger } = dependencies;
  registerInvitationActions(app, dependencies);
  registerRoleRequestActions(app, dependencies);
  app.action<BlockAction<ButtonAction | OverflowAction>>(new RegExp(`^${openFormAction}`), async ({ ack, body, action, client, respond }) => {
    await ack();
    const log = logger.child({ team: body.team?.id, user: body.user.id });
    const value = action.type === "overflow" ? action.selected_option.value : action.value;
    const button = readFormButton(value ?? "");
    if (button === undefined) {
      log.warn({ value: value?.slice(0, 200) }, "a button named no form");
      // On the Home tab there is nowhere to answer but the view itself.
      if (body.response_url) await respond({ response_type: "ephemeral", replace_original: false, text: "That button is out of date. Try the command instead: type `/edge help`." });
      return;
    }
    const origin: FormOrigin = body.response_url ? { from: "command", responseUrl: body.response_url } : { from: "home" };
    try {
      await openForm(client, { triggerId: body.trigger_id, form: button.form, prefill: button.prefill, origin });
    } catch (error) {
      log.error({ err: error }, "could not open the form");
    }
  });
}
