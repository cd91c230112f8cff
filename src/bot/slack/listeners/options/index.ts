import type { App } from "@slack/bolt";
import { findApplicationRefs } from "../../../../core/applications.ts";
import { listOrgs } from "../../../../core/orgs.ts";
import { pickerActions } from "../../../blocks/modals.ts";
import type { ListenerDependencies } from "../dependencies.ts";
import { listenToPickers } from "../routes.ts";
import { maxOptions, noOptions, picker } from "./pickers.ts";

/** Registers the pickers' option lists: the person's orgs and applications that match what they type; any other picker has none. */
export function registerOptions(app: App, dependencies: ListenerDependencies): void {
  const { platform } = dependencies;
  listenToPickers(app, [
    {
      id: pickerActions.org,
      listener: picker(dependencies, async (actor, query) => {
        const orgs = await listOrgs(platform, { actor });
        return orgs.map((org) => org.slug).filter((slug) => slug.includes(query.toLowerCase()));
      }),
    },
    { id: pickerActions.app, listener: picker(dependencies, (actor, query) => findApplicationRefs(platform, { actor, query, limit: maxOptions })) },
  ], noOptions);
}
