import type { Logger } from "pino";
import { CoreError, Invalid } from "../core/errors.ts";
import { commandsInGroup, findCommand, nearestCommands } from "./commands/index.ts";
import type { Command, CommandContext } from "./commands/command.ts";
import { missingArgument } from "./commands/parameters.ts";
import { explainFailure } from "./failures.ts";
import { GrammarError, readArguments, tokenize } from "./grammar.ts";
import { sayError, type Message } from "./message.ts";

/** What running a command line produced. */
export type CommandOutcome =
  /** `command` is the command that ran, when one did (not for help on an empty line or an unknown command). */
  | { kind: "answered"; message: Message; command?: Command }
  /**
   * Required arguments are missing: Slack opens the command's form, the shell prints usage.
   * `given` is what was typed, to fill the form in with.
   */
  | { kind: "incomplete"; command: Command; missing: string; given: Record<string, string>; message: Message };

/**
 * Runs one command line, as typed after the slash command, for every surface. Every
 * failure becomes a short answer; nothing is thrown.
 */
export async function runCommandLine(context: CommandContext, line: string, options: { slashCommand: string; logger: Logger }): Promise<CommandOutcome> {
  let command: Command | undefined;
  try {
    const tokens = tokenize(stripSlashCommand(line, options.slashCommand));
    const words = tokens.map((token) => token.text);
    if (words.length === 0) {
      command = findCommand(["help"])!.command;
      return answered(await runHelp(context), command);
    }
    const found = findCommand(words);
    if (!found) return answered(unknownCommand(words));
    command = found.command;
    const read = readArguments(tokens.slice(found.consumed), command.syntax);
    if (!read.ok) {
      return { kind: "incomplete", command, missing: read.missing, given: read.given.values(), message: sayError(`${missingArgument(command, read.missing)} is missing`, command.usage) };
    }
    return answered(await command.run(context, read.args), command);
  } catch (error) {
    if (error instanceof GrammarError) return answered(sayError(error.message, command?.usage), command);
    if (error instanceof Invalid) return answered(sayError(error.message, command?.usage), command);
    if (error instanceof CoreError) return answered(sayError(error.message), command);
    const log = options.logger.child({ command: command?.name });
    return answered(sayError(explainFailure(error, log, { what: "command failed", otherwise: "something went wrong on our side; nothing was changed. Try again, and tell your edgebot admins if it keeps happening." })), command);
  }
}

function answered(message: Message, command?: Command): CommandOutcome {
  return command === undefined ? { kind: "answered", message } : { kind: "answered", message, command };
}

async function runHelp(context: CommandContext): Promise<Message> {
  const help = findCommand(["help"])!.command;
  const read = readArguments([], help.syntax);
  if (!read.ok) throw new Error("help takes no required argument");
  return help.run(context, read.args);
}

function stripSlashCommand(line: string, slashCommand: string): string {
  const trimmed = line.trim();
  if (trimmed === slashCommand || trimmed.startsWith(`${slashCommand} `)) return trimmed.slice(slashCommand.length);
  return trimmed;
}

/** An unknown command: the nearest command names when it looks like a slip, else the group's commands, else help. */
function unknownCommand(words: string[]): Message {
  const group = commandsInGroup(words[0]!);
  const said = words.slice(0, 2).join(" ").slice(0, 60);
  const near = words.length === 1 && group.length > 0 ? [] : nearestCommands(words);
  const hint = group.length > 0 ? `help ${words[0]}` : "help";
  if (near.length > 0) return sayError(`${said} is not a command: did you mean ${near.map((name) => `\`${name}\``).join(" or ")}?`, hint);
  if (group.length > 0) {
    return sayError(`${said} is not a command. ${words[0]} commands: ${group.map((command) => command.name).join(", ")}`, hint);
  }
  return sayError(`${said} is not a command`, hint);
}
