import { commands, findCommand } from "./index.ts";
import { kebab } from "./parameters.ts";

/**
 * Tab completion for the shell, in Node readline's completer shape: the candidates for the
 * word being typed, and that word. It completes command words (`ap` → `app`, `app c` →
 * `channel`, `create`), then the command's `--options` not given yet, from the declarations.
 * A leading slash command (`/edge`) is skipped.
 */
export function completeCommandLine(line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  if (words[0]?.startsWith("/") && words.length > 1) words.shift();
  const typing = words.pop() ?? "";
  const done = words.map((word) => word.toLowerCase());

  const found = done.length > 0 ? findCommand(done) : undefined;
  if (found === undefined) {
    // Still in the command's words: the next word of every command name that starts with the ones typed.
    if (done.length >= 2) return [[], typing];
    const next = new Set<string>();
    for (const command of commands) {
      const name = command.name.split(" ");
      if (name.length > done.length && done.every((word, index) => name[index] === word) && name[done.length]!.startsWith(typing.toLowerCase())) next.add(name[done.length]!);
    }
    return [[...next].sort(), typing];
  }

  const { command, consumed } = found;
  const given = done.slice(consumed);
  // The word after an option is its value, not another option.
  if (given.at(-1)?.startsWith("--") && !given.at(-1)!.includes("=")) return [[], typing];
  if (typing !== "" && !typing.startsWith("-")) return [[], typing];
  const options = command.parameters.filter((parameter) => parameter.position === "option");
  const flagOf = (name: string) => `--${kebab(name)}`;
  const used = new Set(given.filter((word) => word.startsWith("--")).map((word) => word.split("=")[0]!));
  const open = options.filter((option) => {
    if (used.has(flagOf(option.name))) return false;
    // Of two options that exclude each other, the second is not offered once the first is given.
    const partner = options.find((other) => other.name === option.exclusiveWith || other.exclusiveWith === option.name);
    return partner === undefined || !used.has(flagOf(partner.name));
  });
  return [open.map((option) => flagOf(option.name)).filter((flag) => flag.startsWith(typing)), typing];
}
