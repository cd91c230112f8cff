import type { App } from "@slack/bolt";
import { slashCommandListener, type SlashCommandDependencies } from "./slash-command.ts";

/** Registers the slash command listener on the App. */
export function registerCommands(app: App, dependencies: SlashCommandDependencies): void {
  app.command(dependencies.slashCommand, slashCommandListener(dependencies));
}
