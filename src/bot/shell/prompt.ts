import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from "node:readline";
import { completeCommandLine } from "../commands/completion.ts";
import { holdsSecret, historySize, type HistoryFile } from "./history.ts";

/** What is typed to leave the shell (besides Ctrl-D). */
export const leaveWords = ["exit", "quit"];

/** The prompt a person at a terminal sees. */
export const promptText = "edge> ";

/**
 * The shell's input and output. On a terminal it is readline's line editor: a prompt, history
 * (↑) kept in a file, Tab completion, and text that arrives while the prompt waits
 * printed above it. Piped input is read line by line with no prompt and nothing kept.
 */
export class ShellPrompt {
  private readonly lines: AsyncIterator<string>;
  /** True while the prompt is shown and no line has been entered since. */
  private waiting = false;
  private closed = false;
  private left = false;

  private constructor(
    private readonly readline: Interface,
    private readonly output: NodeJS.WritableStream,
    readonly interactive: boolean,
    private readonly history?: HistoryFile,
  ) {
    // Taken at once: lines typed before the first read wait here instead of being lost.
    this.lines = readline[Symbol.asyncIterator]();
    readline.on("line", () => (this.waiting = false));
    readline.on("close", () => (this.closed = true));
  }

  static async open(options: {
    input: NodeJS.ReadableStream;
    output: NodeJS.WritableStream;
    /** A person at a terminal: the line editor, the prompt and the history. */
    interactive: boolean;
    /** Where the history is kept (interactive only); absent: nothing is kept after the shell ends. */
    history?: HistoryFile;
    /** Called when the history file cannot be written; the shell goes on without it. */
    onHistoryError?: (error: unknown) => void;
    /** Ends the input: the line being run is answered first. */
    signal?: AbortSignal;
  }): Promise<ShellPrompt> {
    const signal = options.signal ? { signal: options.signal } : {};
    if (!options.interactive) {
      return new ShellPrompt(createInterface({ input: options.input, terminal: false, ...signal }), options.output, false);
    }
    const history = (await options.history?.load()) ?? [];
    const readline = createInterface({
      input: options.input,
      output: options.output,
      terminal: true,
      prompt: promptText,
      history,
      historySize,
      removeHistoryDuplicates: true,
      completer: completeShellLine,
      ...signal,
    });
    readline.on("history", (lines: string[]) => {
      // readline lets this listener take back the line it just added: a one-time code is not recalled.
      if (lines[0] !== undefined && holdsSecret(lines[0])) lines.shift();
      options.history?.save(lines).catch((error: unknown) => options.onHistoryError?.(error));
    });
    const prompt = new ShellPrompt(readline, options.output, true, options.history);
    readline.on("SIGINT", () => prompt.interrupt());
    return prompt;
  }

  /** The next line entered, or undefined at end of input (Ctrl-D, `exit` aside, a stop). */
  async nextLine(): Promise<string | undefined> {
    const next = await this.lines.next();
    return next.done ? undefined : next.value;
  }

  /** Shows the prompt and waits for a line (interactive only). */
  ask(): void {
    if (!this.interactive || this.closed) return;
    this.waiting = true;
    this.readline.prompt();
  }

  /**
   * Prints `text`. While the prompt waits, the half-typed line is cleared first and the prompt is
   * redrawn below the text with what was typed, the cursor where it was.
   */
  print(text: string): void {
    if (!this.waiting || this.closed) {
      this.output.write(text);
      return;
    }
    const { rows } = this.readline.getCursorPos();
    cursorTo(this.output, 0);
    if (rows > 0) moveCursor(this.output, 0, -rows);
    clearScreenDown(this.output);
    // readline redraws from as many rows above as the cursor was down the line: leave them blank.
    this.output.write(text + "\n".repeat(rows));
    this.readline.prompt(true);
  }

  /** Stops reading; on a terminal, says goodbye on a line of its own. Resolves once the history is written. */
  async close(): Promise<void> {
    this.leave();
    await this.history?.settled();
  }

  private leave(): void {
    if (this.left) return;
    this.left = true;
    if (this.interactive) this.output.write(`${this.waiting ? "\n" : ""}Bye.\n`);
    this.waiting = false;
    this.readline.close();
  }

  /** Ctrl-C: a half-typed line is dropped; at an empty prompt the shell ends; during a command the process is asked to stop. */
  private interrupt(): void {
    if (!this.waiting) {
      // As Ctrl-C did before the line editor took the terminal: the command is answered, then edgebot stops.
      process.kill(process.pid, "SIGINT");
      return;
    }
    if (this.readline.line === "") {
      this.leave();
      return;
    }
    this.readline.write(null, { ctrl: true, name: "e" });
    this.output.write("^C\n");
    this.readline.write(null, { ctrl: true, name: "u" });
  }
}

/** Tab completion: command names from the commands' declarations, and the words that leave. */
export function completeShellLine(line: string): [string[], string] {
  const [completions, partial] = completeCommandLine(line);
  const leaving = line.trim() === partial ? leaveWords.filter((word) => partial !== "" && word.startsWith(partial.toLowerCase())) : [];
  return [[...completions, ...leaving], partial];
}
