import { createInterface } from "node:readline";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { deliverDueNotifications } from "../core/notifications.ts";
import type { Platform } from "../core/platform.ts";
import type { Database } from "../db/schema.ts";
import type { DnsVerifier } from "../dns/verify.ts";
import { notificationMessage } from "./blocks/notifications.ts";
import { registerUser } from "../core/users.ts";
import { isDatabaseUnreachable } from "../core/outages.ts";
import { runCommandLine } from "./dispatch.ts";
import { cloneUrl } from "../core/clone-urls.ts";
import type { Message } from "./message.ts";

/** The shell's workspace: local users are chat identities in team `local`. */
export const localTeam = "local";

/**
 * The local shell: reads commands from `input` one per line, acts as the local user,
 * writes each reply as text, and resolves at end of input.
 */
export async function runShell(options: {
  platform: Platform;
  dns: DnsVerifier;
  user: string;
  slashCommand: string;
  logger: Logger;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  interactive: boolean;
  /** Where git clients reach the shell's git over HTTP, when it is on. */
  gitBaseUrl?: string;
  /** Ends the input early (a stop was asked for): the command being run is answered first. */
  signal?: AbortSignal;
}): Promise<void> {
  const user = await registerUser(options.platform, { teamId: localTeam, chatUserId: options.user, email: `${options.user}@localhost`, displayName: options.user });
  const context = { platform: options.platform, actor: { userId: user.id }, teamId: localTeam, dns: options.dns, ...(options.gitBaseUrl ? { gitBaseUrl: options.gitBaseUrl } : {}) };
  const lines = createInterface({ input: options.input, terminal: false, ...(options.signal ? { signal: options.signal } : {}) });
  const prompt = () => options.interactive && options.output.write("edge> ");
  if (options.interactive) {
    options.output.write(`edgebot shell, acting as ${user.displayName} <${user.email}>. Type help, or end input (Ctrl-D) to quit.\n`);
    if (options.gitBaseUrl) options.output.write(`Git over HTTP: git clone ${cloneUrl(options.gitBaseUrl, "<org>/<app>")} (password: a token from \`token create\`)\n`);
  }
  prompt();
  for await (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      prompt();
      continue;
    }
    const outcome = await runCommandLine(context, trimmed, { slashCommand: options.slashCommand, logger: options.logger });
    options.output.write(`${plainText(outcome.message)}\n\n`);
    await printNotifications(options.platform.db, options.output).catch((error: unknown) => {
      // The command has said the database is away; its notifications wait in the outbox for a later command.
      if (!isDatabaseUnreachable(error)) throw error;
    });
    prompt();
  }
}

/**
 * The shell's notification sink: the terminal stands in for every channel, so due outbox
 * messages are printed, prefixed with their channel, and marked delivered like a Slack post.
 */
export async function printNotifications(db: Kysely<Database>, output: NodeJS.WritableStream): Promise<number> {
  return deliverDueNotifications(
    db,
    async (notification) => {
      const message = notificationMessage(notification);
      output.write(`${plainText({ ...message, text: `[<#${notification.channelId}>] ${message.text}` })}\n\n`);
      return { delivered: true, messageTs: null };
    },
    { maxAttempts: 1 },
  );
}

/** A message as a terminal shows it: Slack's markup turned into plain text. */
export function plainText(message: Message): string {
  return message.text
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, "$1")
    .replace(/<#([A-Z0-9]+)(?:\|([^>]*))?>/g, (_match, id: string, name?: string) => `#${name ?? id}`)
    .replace(/<@([A-Z0-9]+)(?:\|([^>]*))?>/g, (_match, id: string, name?: string) => `@${name ?? id}`)
    .replace(/:warning: /g, "! ")
    .replace(/:white_check_mark: /g, "✓ ")
    .replace(/:wastebasket: /g, "✓ ")
    // Any other emoji code, like :rocket: or :scissors:, says nothing in a terminal.
    .replace(/(^|\s):[a-z][a-z0-9_+-]*: /gm, "$1")
    .replace(/\*([^*\n]+)\*/g, "$1")
    .replace(/(^|\s)_([^_\n]+)_(?=\s|$)/g, "$1$2")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
