import type { App, SlackOptionsMiddlewareArgs, AllMiddlewareArgs } from "@slack/bolt";
import type { Logger } from "pino";
import { findApplicationRefs } from "../../../../core/applications.ts";
import { listOrgs } from "../../../../core/orgs.ts";
import type { Actor, Platform } from "../../../../core/platform.ts";
import { pickerActions, pickerOption } from "../../../blocks/modals.ts";
import { logFailure } from "../../../failures.ts";
import type { SlackIdentities } from "../../identities.ts";

export interface OptionDependencies {
  platform: Platform;
  identities: SlackIdentities;
  logger: Logger;
}

/** A select menu lists at most 100 options. */
const maxOptions = 100;

/** Registers the pickers' option lists: the person's orgs and applications that match what they type. */
export function registerOptions(app: App, dependencies: OptionDependencies): void {
  const { platform } = dependencies;
  app.options(
    pickerActions.org,
    pickerListener(dependencies, async (actor, query) => {
      const orgs = await listOrgs(platform, { actor });
      return orgs.map((org) => org.slug).filter((slug) => slug.includes(query.toLowerCase()));
    }),
  );
  app.options(
    pickerActions.app,
    pickerListener(dependencies, (actor, query) => findApplicationRefs(platform, { actor, query, limit: maxOptions })),
  );
}

/** Answers a picker with what `list` finds for the person; nothing when they cannot be known. */
function pickerListener(dependencies: OptionDependencies, list: (actor: Actor, query: string) => Promise<string[]>) {
  return async ({ ack, body, client }: SlackOptionsMiddlewareArgs<"block_suggestion"> & AllMiddlewareArgs): Promise<void> => {
    try {
      const identity = await dependencies.identities.resolve(client, body.team?.id ?? body.user.team_id ?? "", body.user.id);
      const found = identity.kind === "registered" ? await list(identity.actor, body.value.trim().slice(0, 100)) : [];
      await ack({ options: found.slice(0, maxOptions).map(pickerOption) });
    } catch (error) {
      logFailure(error, dependencies.logger.child({ action: body.action_id }), "could not list a picker's options");
      await ack({ options: [] });
    }
  };
}
