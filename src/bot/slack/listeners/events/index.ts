import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import type { Platform } from "../../../../core/platform.ts";
import { publishHome, publishHomeWithoutEmail } from "../../home.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface EventDependencies {
  platform: Platform;
  slashCommand: string;
  identities: SlackIdentities;
  logger: Logger;
}

/** Registers the event listeners: opening the Home tab publishes it for the person who opened it. */
export function registerEvents(app: App, dependencies: EventDependencies): void {
  const { identities, logger } = dependencies;
  // Bolt acknowledges events before listeners run.
  app.event("app_home_opened", async ({ event, body, context, client }) => {
    if (event.tab !== "home") return;
    const teamId = context.teamId ?? body.team_id;
    const log = logger.child({ team: teamId, user: event.user });
    try {
      const identity = await identities.resolve(client, teamId, event.user);
      if (identity.kind === "no_email") {
        await publishHomeWithoutEmail(client, event.user, dependencies.slashCommand);
        return;
      }
      await publishHome(client, dependencies, { slackUserId: event.user, actor: identity.actor });
    } catch (error) {
      log.error({ err: error }, "could not publish the Home tab");
    }
  });
}
