import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

/** How many lines the history keeps, in memory and on disk. */
export const historySize = 500;

/**
 * Whether a line must not be kept: a one-time code (`join <code>`, `link <code>`, with or
 * without the slash command) or anything holding a personal token. Such lines are run, never
 * written down, and not recalled with ↑ either.
 */
export function holdsSecret(line: string): boolean {
  const words = line.trim().split(/\s+/);
  const [command, code] = words[0]?.startsWith("/") ? words.slice(1) : words;
  if ((command?.toLowerCase() === "join" || command?.toLowerCase() === "link") && code !== undefined) return true;
  return /edgebot_pat_/i.test(line);
}

/**
 * The shell's command history in a file (`DATA_DIR/shell-history`): one line per command, oldest
 * first, at most `historySize` lines, readable only by its owner. Each change is written at once,
 * so a shell that is killed keeps what was typed before.
 */
export class HistoryFile {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** The lines kept, newest first (readline's order); none when the file does not exist yet. */
  async load(): Promise<string[]> {
    const text = await readFile(this.file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    return text
      .split("\n")
      .filter((line) => line.trim() !== "" && !holdsSecret(line))
      .slice(-historySize)
      .reverse();
  }

  /** Replaces the file with `history` (newest first); writes run one after another, in order. */
  save(history: readonly string[]): Promise<void> {
    const lines = history.filter((line) => !holdsSecret(line)).slice(0, historySize).reverse();
    // A write that failed does not stop the next one.
    this.writing = this.writing.catch(() => undefined).then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(this.file, lines.map((line) => `${line}\n`).join(""), { mode: 0o600 });
    });
    return this.writing;
  }

  /** Resolves when every write asked for so far has ended, written or not. */
  async settled(): Promise<void> {
    await this.writing.catch(() => undefined);
  }
}
