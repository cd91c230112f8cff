import type { App } from "@slack/bolt";
import type { Logger } from "pino";
import type { Platform } from "../../../core/platform.ts";
import type { SlackInstallations } from "../installations.ts";
import type { SlackSpeaker } from "../speaker.ts";
import { registerActions } from "./actions/index.ts";
import { registerCommands } from "./commands/index.ts";
import { registerEvents } from "./events/index.ts";
import { registerOptions } from "./options/index.ts";
import { registerViews } from "./views/index.ts";

/** What every listener works with; who is acting comes on each request's context (`actingIn`). */
export interface ListenerDependencies {
  platform: Platform;
  slashCommand: string;
  speaker: SlackSpeaker;
  /** Multi-workspace mode: the installations an uninstall removes. */
  installations: SlackInstallations | undefined;
  logger: Logger;
}

/** Registers every listener on the App, grouped as Slack names them. */
export function registerListeners(app: App, dependencies: ListenerDependencies): void {
  registerCommands(app, dependencies);
  registerEvents(app, dependencies);
  registerActions(app, dependencies);
  registerOptions(app, dependencies);
  registerViews(app, dependencies);
}
