import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { cloneUrl } from "../core/clone-urls.ts";
import { deliverDueNotifications } from "../core/notifications.ts";
import { isDatabaseUnreachable } from "../core/outages.ts";
import type { Platform } from "../core/platform.ts";
import { registerUser } from "../core/users.ts";
import { notificationMessage } from "./blocks/notifications.ts";
import type { CommandContext } from "./commands/command.ts";
import { runCommandLine } from "./dispatch.ts";
import { HistoryFile } from "./shell/history.ts";
import { leaveWords, ShellPrompt } from "./shell/prompt.ts";
import { personStyle, scriptStyle, terminalText, type TerminalStyle } from "./shell/render.ts";

// Every surface's tests read messages as the shell's piped output shows them.
export { plainText } from "./shell/render.ts";

/** The shell's workspace: local users are chat identities in team `local`. */
export const localTeam = "local";

/** The shell's one conversation, where results go when no channel is set: printed like any channel. */
export const shellConversation = "shell";

/**
 * The local shell: reads commands from `input` one per line, acts as the local user,
 * writes each reply as text, and resolves at end of input or when `exit` or `quit` is typed.
 * Interactive (a terminal), it is a line editor with history, completion and rendered messages;
 * piped, it prints one answer per line and nothing else.
 */
export async function runShell(options: {
  platform: Platform;
  user: string;
  slashCommand: string;
  logger: Logger;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
  /** Where the interactive shell keeps its history (like `DATA_DIR/shell-history`); absent: none is kept. */
  historyFile?: string;
  /** Where git clients reach the shell's git over HTTP, when it is on. */
  gitBaseUrl?: string;
  /** Emits `due` when notifications may be waiting outside a command (a git push): they are printed at once, above the prompt. */
  notifications?: EventEmitter;
  /** Ends the input early (a stop was asked for): the command being run is answered first. */
  signal?: AbortSignal;
}): Promise<void> {
  const user = await registerUser(options.platform, { teamId: localTeam, chatUserId: options.user, email: `${options.user}@localhost`, displayName: options.user });
  const context: CommandContext = {
    platform: options.platform,
    actor: { userId: user.id },
    teamId: localTeam,
    conversation: { channelId: shellConversation },
    ...(options.gitBaseUrl ? { gitBaseUrl: options.gitBaseUrl } : {}),
  };
  const style = options.interactive ? personStyle() : scriptStyle;
  const prompt = await ShellPrompt.open({
    input: options.input,
    output: options.output,
    interactive: options.interactive,
    ...(options.historyFile ? { history: new HistoryFile(options.historyFile) } : {}),
    onHistoryError: (error) => options.logger.warn({ err: error, file: options.historyFile }, "the shell's history could not be written"),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const terminal = { write: (text: string) => prompt.print(text) };
  const printDue = () =>
    printNotifications(options.platform, terminal, style).catch((error: unknown) => {
      // The command has said the database is away; its notifications wait in the outbox for a later command.
      if (!isDatabaseUnreachable(error)) throw error;
      return 0;
    });
  const onDue = () => void printDue().catch((error: unknown) => options.logger.error({ err: error }, "notifications could not be printed"));
  options.notifications?.on("due", onDue);
  try {
    if (options.interactive) {
      options.output.write(`edgebot shell, acting as ${user.displayName} <${user.email}>. Type help; Tab completes, ↑ recalls; exit, quit or Ctrl-D leaves.\n`);
      if (options.gitBaseUrl) options.output.write(`Git over HTTP: git clone ${cloneUrl(options.gitBaseUrl, "<org>/<app>")} (password: a token from token create)\n`);
    }
    prompt.ask();
    for (let line = await prompt.nextLine(); line !== undefined; line = await prompt.nextLine()) {
      const trimmed = line.trim();
      if (leaveWords.includes(trimmed.toLowerCase())) break;
      if (trimmed !== "" && !trimmed.startsWith("#")) {
        const outcome = await runCommandLine(context, trimmed, { slashCommand: options.slashCommand, logger: options.logger });
        prompt.print(`${terminalText(outcome.message.text, style)}\n\n`);
        await printDue();
      }
      prompt.ask();
    }
  } finally {
    options.notifications?.off("due", onDue);
    await prompt.close();
  }
}

/**
 * The shell's notification sink: the terminal stands in for every channel, so due outbox
 * messages are printed, prefixed with their channel, and marked delivered like a Slack post.
 */
export async function printNotifications(platform: Platform, output: { write(text: string): unknown }, style: TerminalStyle = scriptStyle): Promise<number> {
  return deliverDueNotifications(
    platform.db,
    async (notification) => {
      const message = notificationMessage(notification);
      output.write(`${terminalText(`[<#${notification.channelId}>] ${message.text}`, style)}\n\n`);
      return { delivered: true, messageTs: null };
    },
    { maxAttempts: 1 },
  );
}
