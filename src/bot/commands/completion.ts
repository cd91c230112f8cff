import { commands } from "./index.ts";

/**
 * Completes a command line the way readline's completer answers: the words that may follow,
 * and the part of the line they replace. Only command names are completed here.
 */
export function completeCommandLine(line: string): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const partial = words.pop() ?? "";
  const typed = words.map((word) => word.toLowerCase());
  const next = new Set<string>();
  for (const command of commands) {
    const name = command.name.split(" ");
    if (name.length <= typed.length || typed.some((word, index) => name[index] !== word)) continue;
    const word = name[typed.length]!;
    if (word.startsWith(partial.toLowerCase())) next.add(name.length > typed.length + 1 ? word : `${word} `);
  }
  return [[...next].sort(), partial];
}
