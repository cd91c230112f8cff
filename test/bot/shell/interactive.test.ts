import { EventEmitter } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShell } from "../../../src/bot/shell.ts";
import { notify } from "../../../src/core/notifications.ts";
import { until } from "../../support/until.ts";
import { unique, useWorld } from "../../support/world.ts";

const world = useWorld();

/** Two streams standing in for a terminal: keys go in, the screen's bytes come out. */
class FakeTerminal {
  readonly input = Object.assign(new PassThrough(), { isTTY: true });
  readonly output = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40 });
  screen = "";

  constructor() {
    this.output.on("data", (chunk: Buffer) => (this.screen += chunk.toString()));
  }

  /** Waits until the screen shows `text` after `from`; returns what it showed since. */
  async shows(text: string, from = 0): Promise<string> {
    await until(() => this.screen.slice(from).includes(text), { what: `the terminal to show ${JSON.stringify(text)}`, timeoutMs: 20_000, everyMs: 10 });
    return this.screen.slice(from);
  }

  /** Types keys and waits for `text` to show after them. */
  async type(keys: string, text: string): Promise<string> {
    const from = this.screen.length;
    this.input.write(keys);
    return this.shows(text, from);
  }
}

describe("the shell at a terminal", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "edgebot-interactive-"));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers in plain words and symbols, prints a push's notification above the half-typed line, and says goodbye on quit", { timeout: 60_000 }, async () => {
    const terminal = new FakeTerminal();
    const notifications = new EventEmitter();
    const user = unique("ana");
    const org = unique("acme");
    const historyFile = path.join(dir, "shell-history");
    const shell = runShell({
      platform: world.platform,
      user,
      slashCommand: "/edge",
      logger: pino({ level: "silent" }),
      input: terminal.input,
      output: terminal.output,
      interactive: true,
      historyFile,
      notifications,
    });
    await terminal.shows(`acting as ${user} <${user}@localhost>`);
    await terminal.shows("edge> ");

    const created = await terminal.type(`org create ${org} --name "Acme Corp"\r`, "\n\n");
    expect(created).toContain(`✓ Created org ${org} (Acme Corp). You are its owner. Next: app create <hostname> --org ${org}\n\n`);
    expect(await terminal.type(`org channel ${org} C0ACME\r`, "\n\n")).toContain(`✓ Notifications for ${org} go to #C0ACME.\n\n`);
    expect(await terminal.type("frobnicate\r", "\n\n")).toContain("⚠ frobnicate is not a command\nUsage: help\n\n");

    await terminal.type("app li", "app li");
    const { id } = await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
    await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id }, actor: null, kind: "domain.added", payload: { app: `${org}/www`, env: "production", hostname: "www.acme.example" } }));
    const from = terminal.screen.length;
    notifications.emit("due");
    const announced = await terminal.shows("edge> app li", from);
    expect(announced).toMatch(new RegExp(`^\\u001b\\[1G\\u001b\\[0J\\[#C0ACME\\] 🌐 www\\.acme\\.example was added to ${org}/www production\\.[^\\u001b]*\\n\\n\\u001b\\[1G\\u001b\\[0Jedge> app li`));

    expect(await terminal.type(`st ${org}\r`, "\n\n")).toContain(`No applications in ${org}`);
    await terminal.type("quit\r", "Bye.\n");
    await shell;
    expect(await readFile(historyFile, "utf8")).toBe(`org create ${org} --name "Acme Corp"\norg channel ${org} C0ACME\nfrobnicate\napp list ${org}\nquit\n`);
  });
});
