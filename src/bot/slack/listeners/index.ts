import type { App } from "@slack/bolt";
import { registerActions } from "./actions/index.ts";
import { registerCommands } from "./commands/index.ts";
import { registerEvents } from "./events/index.ts";
import { registerOptions } from "./options/index.ts";
import { registerViews } from "./views/index.ts";
import type { ListenerDependencies } from "./dependencies.ts";

/** Registers every listener on the App, grouped as Slack names them. */
export function registerListeners(app: App, dependencies: ListenerDependencies): void {
  registerCommands(app, dependencies);
  registerEvents(app, dependencies);
  registerActions(app, dependencies);
  registerOptions(app, dependencies);
  registerViews(app, dependencies);
}
