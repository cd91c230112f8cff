import type { Command, Permission } from "../commands/command.ts";
import { shownParameter } from "../commands/parameters.ts";
import { MessageBuilder, type Message } from "../message.ts";

/** Usage and summary of each command; one section per group. */
export function helpMessage(commands: readonly Command[]): Message {
  const builder = new MessageBuilder();
  if (commands.length > 1) builder.section("*edgebot* — manage client orgs, applications, environments and domains.");
  const groups = new Map<string, Command[]>();
  for (const command of commands) {
    const group = command.name.split(" ")[0]!;
    groups.set(group, [...(groups.get(group) ?? []), command]);
  }
  for (const group of groups.values()) {
    builder.section(group.map((command) => `\`${command.usage}\`\n    ${command.summary}${whoMay(command.permission)}`).join("\n"));
  }
  if (commands.length > 1) builder.context("`<app>` is `org/app`; `org/` may be left out when only one of your orgs has that application.");
  return builder.build();
}

/** One command in full: usage, what it does and who may, each argument and option, examples. */
export function commandHelpMessage(command: Command): Message {
  const builder = new MessageBuilder().section(`\`${command.usage}\`\n${command.summary}${whoMay(command.permission)}`);
  const described = (position: "argument" | "option") =>
    command.parameters.filter((parameter) => parameter.position === position).map((parameter) => `\`${shownParameter(parameter)}\` — ${parameter.description}`);
  const argumentLines = described("argument");
  const optionLines = described("option");
  if (argumentLines.length > 0) builder.section(`*Arguments*\n${argumentLines.map((line) => `• ${line}`).join("\n")}`);
  if (optionLines.length > 0) builder.section(`*Options*\n${optionLines.map((line) => `• ${line}`).join("\n")}`);
  builder.section(`*Examples*\n${command.examples.map((example) => `• \`${example}\``).join("\n")}`);
  builder.context(`Who may run it: ${mayRun[command.permission]}.`);
  return builder.build();
}

const who: Record<Permission, string> = {
  anyone: "",
  member: "",
  developer: " (developers and up)",
  admin: " (owners, admins)",
  owner: " (owners)",
};

// In one command's help, who may run it in full.
const mayRun: Record<Permission, string> = {
  anyone: "anyone",
  member: "any member of the org it concerns",
  developer: "developers, admins and owners of the org it concerns",
  admin: "admins and owners of the org it concerns",
  owner: "owners of the org it concerns",
};

/** Who may run it, after the summary; core decides, help only tells. */
function whoMay(permission: Permission): string {
  return who[permission];
}
