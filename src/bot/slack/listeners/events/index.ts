import type { App } from "@slack/bolt";
import type { ListenerDependencies } from "../dependencies.ts";
import { appHomeOpened } from "./app-home-opened.ts";
import { installationGone } from "./uninstall.ts";

/**
 * Registers the event listeners: opening the Home tab publishes it for the person who opened
 * it; in multi-workspace mode, uninstalling edgebot (or revoking its bot token) forgets the
 * workspace's installation and its token. Bolt acknowledges events before listeners run.
 */
export function registerEvents(app: App, dependencies: ListenerDependencies): void {
  app.event("app_home_opened", appHomeOpened(dependencies));
  const { installations } = dependencies;
  if (installations) {
    // Bolt runs these without authorizing (the token is already gone).
    app.event("app_uninstalled", installationGone(installations, dependencies.logger, "app_uninstalled"));
    app.event("tokens_revoked", async (args) => {
      // Only the bot token matters: edgebot holds no user tokens.
      if ((args.event.tokens.bot ?? []).length === 0) return;
      await installationGone(installations, dependencies.logger, "tokens_revoked")(args);
    });
  }
}
