import type { AllMiddlewareArgs, BlockAction, ButtonAction, OverflowAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import { readFormButton } from "../../../blocks/modals.ts";
import { actingIn } from "../../acting.ts";
import { openForm, type FormOrigin } from "../../form-modals.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** A button (or menu entry) that opens a form; the form's submission does the work. */
export function openFormButton({ speaker }: ListenerDependencies) {
  return async ({ ack, body, action, context }: SlackActionMiddlewareArgs<BlockAction<ButtonAction | OverflowAction>> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const { bot, log } = actingIn(context);
    const value = action.type === "overflow" ? action.selected_option.value : action.value;
    const button = readFormButton(value ?? "");
    if (button === undefined) {
      log.warn({ value: value?.slice(0, 200) }, "a button named no form");
      // On the Home tab there is nowhere to answer but the view itself.
      if (body.response_url) await speaker.answer(body.response_url, { replaceOriginal: false, text: "That button is out of date. Try the command instead: type `/edge help`." });
      return;
    }
    const origin: FormOrigin = body.response_url ? { from: "command", responseUrl: body.response_url } : { from: "home" };
    try {
      await openForm(bot, { triggerId: body.trigger_id, form: button.form, prefill: button.prefill, origin });
    } catch (error) {
      log.error({ err: error }, "could not open the form");
    }
  };
}
