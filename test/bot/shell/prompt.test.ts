import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HistoryFile, holdsSecret, historySize } from "../../../src/bot/shell/history.ts";
import { completeShellLine, ShellPrompt } from "../../../src/bot/shell/prompt.ts";
import { until } from "../../support/until.ts";

/** A terminal made of two streams: keys go in, the screen's bytes come out. */
class FakeTerminal {
  readonly input = Object.assign(new PassThrough(), { isTTY: true });
  readonly output = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 24 });
  screen = "";

  constructor() {
    this.output.on("data", (chunk: Buffer) => (this.screen += chunk.toString()));
  }

  /** Sends keys, then waits until the screen shows `echo` after what it showed before. */
  async type(keys: string, echo: string): Promise<void> {
    const from = this.screen.length;
    this.input.write(keys);
    await until(() => this.screen.slice(from).includes(echo), { what: `the terminal to show ${JSON.stringify(echo)}`, timeoutMs: 20_000, everyMs: 5 });
  }
}

const up = "\u001b[A";
const clearLine = "\u001b[0J"; // readline's clearScreenDown after moving to column 0

async function openPrompt(terminal: FakeTerminal, history?: HistoryFile): Promise<ShellPrompt> {
  return ShellPrompt.open({ input: terminal.input, output: terminal.output, interactive: true, ...(history ? { history } : {}) });
}

describe("the shell's prompt on a terminal", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "edgebot-prompt-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints a notification that arrives while a line is half typed above the prompt, and gives the line back", async () => {
    const terminal = new FakeTerminal();
    const prompt = await openPrompt(terminal);
    try {
      prompt.ask();
      await terminal.type("app li", "app li");
      const before = terminal.screen.length;
      prompt.print("[#C0ACME] 1 commit pushed to acme/www staging with git\n\n");
      const redrawn = terminal.screen.slice(before);
      // The half-typed line is wiped from column 0, the text printed, then the prompt and the line drawn again.
      expect(redrawn.startsWith(`\u001b[1G${clearLine}[#C0ACME] 1 commit pushed`)).toBe(true);
      expect(redrawn).toMatch(/edge> app li(\u001b\[\d+G)?$/);
      expect(redrawn.indexOf("edge> app li")).toBeGreaterThan(redrawn.indexOf("with git\n\n"));

      await terminal.type("st\r", "st");
      expect(await prompt.nextLine()).toBe("app list");
      // An answer while no prompt waits is printed as it is.
      const answered = terminal.screen.length;
      prompt.print("Applications in acme (1)\n\n");
      expect(terminal.screen.slice(answered)).toBe("Applications in acme (1)\n\n");
    } finally {
      await prompt.close();
    }
  });

  it("completes a command's words with Tab from the commands' declarations, and the words that leave", async () => {
    const terminal = new FakeTerminal();
    const prompt = await openPrompt(terminal);
    try {
      prompt.ask();
      await terminal.type("org cr\t", "eate");
      await terminal.type(" acme\r", "acme");
      // Whether the completion ends with a space is the completer's choice.
      expect((await prompt.nextLine())?.replace(/\s+/g, " ")).toBe("org create acme");
      prompt.ask();
      await terminal.type("qu\t", "it");
      await terminal.type("\r", "\n");
      expect(await prompt.nextLine()).toBe("quit");
    } finally {
      await prompt.close();
    }
    expect(completeShellLine("ex")).toEqual([["exit"], "ex"]);
  });

  it("keeps the history across a restart, without the lines that hold a one-time code or a token", async () => {
    const file = path.join(dir, "history-restart", "shell-history");
    const first = new FakeTerminal();
    const before = await openPrompt(first, new HistoryFile(file));
    for (const line of ["org list", "join 7K3Q-PX9M", "/edge link ABCD-1234", "app list acme", "token revoke edgebot_pat_0123456789"]) {
      before.ask();
      await first.type(`${line}\r`, line);
      expect(await before.nextLine()).toBe(line);
    }
    // The code is not recalled in this session either: ↑ goes from `app list acme` to `org list`.
    before.ask();
    await first.type(up, "app list acme");
    await first.type(up, "org list");
    await before.close();
    await until(async () => (await readFile(file, "utf8").catch(() => "")) === "org list\napp list acme\n", { what: "the history file to be written", timeoutMs: 20_000, everyMs: 20 });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = new FakeTerminal();
    const after = await openPrompt(second, new HistoryFile(file));
    try {
      after.ask();
      await second.type(up, "app list acme");
      await second.type(up, "org list");
      await second.type("\r", "\n");
      expect(await after.nextLine()).toBe("org list");
    } finally {
      await after.close();
    }
  });

  it("ends on Ctrl-D at an empty prompt with a goodbye", async () => {
    const terminal = new FakeTerminal();
    const prompt = await openPrompt(terminal);
    prompt.ask();
    const ended = prompt.nextLine();
    terminal.input.write("\u0004");
    expect(await ended).toBeUndefined();
    await prompt.close();
    expect(terminal.screen).toMatch(/edge> (\u001b\[\d+G)?\nBye\.\n$/);
  });

  it("drops a half-typed line on Ctrl-C and ends on Ctrl-C at an empty prompt", async () => {
    const terminal = new FakeTerminal();
    const prompt = await openPrompt(terminal);
    prompt.ask();
    await terminal.type("org delete acme", "acme");
    await terminal.type("\u0003", "^C\n");
    await terminal.type("org list\r", "org list");
    expect(await prompt.nextLine()).toBe("org list");
    prompt.ask();
    const ended = prompt.nextLine();
    terminal.input.write("\u0003");
    expect(await ended).toBeUndefined();
    expect(terminal.screen.endsWith("Bye.\n")).toBe(true);
  });
});

describe("the shell's history file", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "edgebot-history-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the newest lines up to its size", async () => {
    const history = new HistoryFile(path.join(dir, "shell-history"));
    expect(await history.load()).toEqual([]);
    const lines = Array.from({ length: historySize + 20 }, (_, index) => `app show acme/www-${index}`);
    await history.save([...lines].reverse());
    const kept = await history.load();
    expect(kept).toHaveLength(historySize);
    expect(kept[0]).toBe(`app show acme/www-${historySize + 19}`);
    expect(kept.at(-1)).toBe("app show acme/www-20");
  });

  it("counts one-time codes and tokens as secrets, and nothing else", () => {
    expect(["join abc", "JOIN abc", "/edge join abc", "link XY-12", "  link   XY-12", "config show a b edgebot_pat_x"].every(holdsSecret)).toBe(true);
    expect(["link", "join", "org list", "help join", "member invite acme ana@acme.example", "token create"].some(holdsSecret)).toBe(false);
  });
});
