import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { logFailure } from "../../../failures.ts";
import { actingIn } from "../../acting.ts";
import { publishHome, publishHomeWithoutEmail } from "../../home.ts";
import type { ListenerDependencies } from "../dependencies.ts";

/** Opening the Home tab publishes it as it is now; someone edgebot cannot know sees why. */
export function appHomeOpened(dependencies: ListenerDependencies) {
  return async ({ event, context }: SlackEventMiddlewareArgs<"app_home_opened"> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== "home") return;
    const acting = actingIn(context);
    try {
      const who = await acting.who();
      if (who.kind === "unavailable") throw who.error;
      if (who.kind === "no_email") {
        await publishHomeWithoutEmail(acting.bot, event.user, dependencies.slashCommand);
        return;
      }
      await publishHome(acting.bot, dependencies, { slackUserId: event.user, actor: who.actor });
    } catch (error) {
      // Nowhere to answer: the tab keeps what it showed last.
      logFailure(error, acting.log, "could not publish the Home tab");
    }
  };
}
