import type { Command } from "../commands/command.ts";
import { MessageBuilder, type Message } from "../message.ts";

/** Usage and summary of each command; one section per group. */
export function helpMessage(commands: Command[]): Message {
  const builder = new MessageBuilder();
  if (commands.length > 1) builder.section("*edgebot* — manage client orgs, applications, environments and domains.");
  const groups = new Map<string, Command[]>();
  for (const command of commands) {
    const group = command.name.split(" ")[0]!;
    groups.set(group, [...(groups.get(group) ?? []), command]);
  }
  for (const group of groups.values()) {
    builder.section(group.map((command) => `\`${command.usage}\`\n    ${command.summary}`).join("\n"));
  }
  if (commands.length > 1) builder.context("`<app>` is `org/app`; `org/` may be left out when only one of your orgs has that application.");
  return builder.build();
}
