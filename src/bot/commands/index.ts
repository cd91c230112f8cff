import type { Command } from "./command.ts";
import { applicationCommands } from "./applications.ts";
import { auditCommands } from "./audit.ts";
import { configCommands } from "./config.ts";
import { dnsCommands } from "./dns.ts";
import { invitationCommands } from "./invitations.ts";
import { orgCommands } from "./orgs.ts";
import { tokenCommands } from "./tokens.ts";
import { helpMessage } from "../blocks/help.ts";
import { sayError } from "../message.ts";

const helpCommand: Command = {
  name: "help",
  readOnly: true,
  usage: "help [command]",
  summary: "What edgebot can do, or how to use one command",
  syntax: { positionals: [{ name: "command", optional: true, rest: true }] },
  async run(_context, args) {
    const topic = args.optionalText("command")?.toLowerCase();
    if (topic === undefined) return helpMessage(commands);
    const matching = commands.filter((command) => command.name === topic || command.name.startsWith(`${topic} `));
    if (matching.length === 0) return sayError(`there is no command ${topic.slice(0, 60)}`, "help [command]");
    return helpMessage(matching);
  },
};

/** Every command edgebot understands, in the order help lists them. */
export const commands: Command[] = [helpCommand, ...orgCommands, ...invitationCommands, ...applicationCommands, ...configCommands, ...dnsCommands, ...tokenCommands, ...auditCommands];

/** The command a line starts with: the longest name whose words match. */
export function findCommand(words: string[]): { command: Command; consumed: number } | undefined {
  const [first, second] = words.map((word) => word.toLowerCase());
  const twoWords = commands.find((command) => command.name === `${first} ${second}`);
  if (twoWords) return { command: twoWords, consumed: 2 };
  const oneWord = commands.find((command) => command.name === first);
  return oneWord && { command: oneWord, consumed: 1 };
}

/** Commands in a group such as `app`, for "did you mean". */
export function commandsInGroup(group: string): Command[] {
  return commands.filter((command) => command.name.startsWith(`${group.toLowerCase()} `));
}
