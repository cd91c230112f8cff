import type { AllMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "pino";
import type { SlackInstallations } from "../../installations.ts";

/** An uninstall (or a revoked bot token): the workspace's installation and its token are forgotten. */
export function installationGone(installations: SlackInstallations, logger: Logger, reason: string) {
  return async ({ context }: AllMiddlewareArgs): Promise<void> => {
    const query = { teamId: context.teamId, enterpriseId: context.enterpriseId, isEnterpriseInstall: context.isEnterpriseInstall === true };
    try {
      await installations.deleteInstallation(query);
      logger.info({ team: context.teamId, enterprise: context.enterpriseId, reason }, "installation removed");
    } catch (error) {
      logger.error({ err: error }, "could not remove the installation");
    }
  };
}
