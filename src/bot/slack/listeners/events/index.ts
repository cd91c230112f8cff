import type { App, Context } from "@slack/bolt";
import type { Logger } from "pino";
import type { Platform } from "../../../../core/platform.ts";
import { logFailure } from "../../../failures.ts";
import { publishHome, publishHomeWithoutEmail } from "../../home.ts";
import type { SlackIdentities } from "../../identities.ts";
import type { SlackInstallations } from "../../installations.ts";

export interface EventDependencies {
  platform: Platform;
  slashCommand: string;
  identities: SlackIdentities;
  /** Multi-workspace mode: the installations an uninstall removes. */
  installations: SlackInstallations | undefined;
  logger: Logger;
}

/**
 * Registers the event listeners: opening the Home tab publishes it for the person who opened
 * it; in multi-workspace mode, uninstalling edgebot (or revoking its bot token) forgets the
 * workspace's installation and its token.
 */
export function registerEvents(app: App, dependencies: EventDependencies): void {
  if (dependencies.installations) registerUninstallEvents(app, dependencies.installations, dependencies.logger);
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
      // Nowhere to answer: the tab keeps what it showed last.
      logFailure(error, log, "could not publish the Home tab");
    }
  });
}

function registerUninstallEvents(app: App, installations: SlackInstallations, logger: Logger): void {
  const forget = async (context: Context, reason: string) => {
    const query = { teamId: context.teamId, enterpriseId: context.enterpriseId, isEnterpriseInstall: context.isEnterpriseInstall === true };
    await installations.deleteInstallation(query);
    logger.info({ team: context.teamId, enterprise: context.enterpriseId, reason }, "installation removed");
  };
  // Bolt runs these without authorizing (the token is already gone) and acknowledges first.
  app.event("app_uninstalled", async ({ context }) => {
    await forget(context, "app_uninstalled").catch((error: unknown) => logger.error({ err: error }, "could not remove the installation"));
  });
  app.event("tokens_revoked", async ({ event, context }) => {
    // Only the bot token matters: edgebot holds no user tokens.
    if ((event.tokens.bot ?? []).length === 0) return;
    await forget(context, "tokens_revoked").catch((error: unknown) => logger.error({ err: error }, "could not remove the installation"));
  });
}
