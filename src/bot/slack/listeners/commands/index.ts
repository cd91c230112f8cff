import type { App } from "@slack/bolt";
import type { ListenerDependencies } from "../dependencies.ts";
import { slashCommand } from "./slash-command.ts";

/** Registers the slash command listener on the App. */
export function registerCommands(app: App, dependencies: ListenerDependencies): void {
  app.command(dependencies.slashCommand, slashCommand(dependencies));
}
