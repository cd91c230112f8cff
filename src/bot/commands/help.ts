import { z } from "zod";
import { commandHelpMessage, helpMessage } from "../blocks/help.ts";
import { sayError } from "../message.ts";
import type { Command } from "./command.ts";
import { defineCommand } from "./define.ts";
import { nearestNames } from "./did-you-mean.ts";
import { text } from "./parameters.ts";

/** `help`: it lists the other commands, so the registry hands them over (`commands` would import this module back). */
export function helpCommand(commands: () => readonly Command[]): Command {
  const help: Command = defineCommand({
    name: "help",
    summary: "What edgebot can do, or how to use one command",
    permission: "anyone",
    readOnly: true,
    arguments: { command: text({ description: "A command, like `app create`, or a group, like `app`", optional: true, rest: true, schema: z.string().max(200) }) },
    examples: ["help", "help app", "help app create"],
    async run(_context, args) {
      const all = commands();
      const topic = args.command?.toLowerCase();
      if (topic === undefined) return helpMessage(all);
      const exact = all.find((command) => command.name === topic);
      if (exact !== undefined) return commandHelpMessage(exact);
      const group = all.filter((command) => command.name.startsWith(`${topic} `));
      if (group.length > 0) return helpMessage(group);
      const near = nearestNames(topic.split(" "), all.map((command) => command.name));
      const guess = near.length === 0 ? "" : `: did you mean ${near.map((name) => `\`${name}\``).join(" or ")}?`;
      return sayError(`there is no command ${topic.slice(0, 60)}${guess}`, help.usage);
    },
  });
  return help;
}
