import type { AllMiddlewareArgs } from "@slack/bolt";
import { unreadableButtonMessage } from "../../../blocks/buttons.ts";
import { actingIn } from "../../acting.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import type { ButtonArgs } from "../routes.ts";
import { answerTo } from "./once-button.ts";

/**
 * A click on a button no route takes: one on a message an earlier edgebot posted, whose button
 * this one no longer has, or one edgebot never made. The clicker is answered at once, as for a
 * value edgebot did not write, and nothing is done.
 */
export function outdatedButton(dependencies: ListenerDependencies) {
  return async ({ ack, body, action, context }: ButtonArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const acting = actingIn(context);
    const log = acting.log.child({ action: action.action_id.slice(0, 100) });
    log.warn("a button no listener takes: answered as out of date");
    await answerTo(body, acting, dependencies)(unreadableButtonMessage("help")).catch((error: unknown) => log.error({ err: error }, "could not answer a click"));
  };
}
