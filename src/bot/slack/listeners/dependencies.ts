import type { Logger } from "pino";
import type { Platform } from "../../../core/platform.ts";
import type { SlackInstallations } from "../installations.ts";
import type { SlackSpeaker } from "../speaker.ts";

/** What every listener works with; who is acting comes on each request's context (`actingIn`). */
export interface ListenerDependencies {
  platform: Platform;
  slashCommand: string;
  speaker: SlackSpeaker;
  /** Multi-workspace mode: the installations an uninstall removes. */
  installations: SlackInstallations | undefined;
  logger: Logger;
  /** How long a config editor's submission waits for its commit before acknowledging without it (`defaultEditWaitMs`). */
  editWaitMs: number;
}
