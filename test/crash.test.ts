import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startEdgebot, useEdgebotDataDir } from "./support/edgebot-process.ts";
import { until } from "./support/until.ts";
const rounds = 20;

/** `npm start`'s entry point in shell mode, fed commands as the test goes, its replies read one by one. */
class Shell {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  private stdout = "";
  stderr = "";
  private read = 0;
  private closed = false;

  constructor(env: Record<string, string>) {
    this.child = startEdgebot(env, { keepStdinOpen: true }).child;
    this.child.stdout.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code) => {
        this.closed = true;
        resolve(code);
      }),
    );
  }

  send(lines: string[]): void {
    this.child.stdin.write(lines.map((line) => `${line}\n`).join(""));
  }

  /** Every reply printed so far (each ends with a blank line); notifications, `[#channel] …`, left out. */
  replies(): string[] {
    return this.stdout
      .split("\n\n")
      .slice(0, -1)
      .filter((reply) => !reply.startsWith("["));
  }

  /** The next reply not read yet. */
  async next(): Promise<string> {
    const reply = await until(
      () => {
        const next = this.replies()[this.read];
        if (next === undefined && this.closed) throw new Error(`edgebot exited with ${this.child.exitCode} before reply ${this.read + 1}`);
        return next;
      },
      { what: `reply ${this.read + 1}`, timeoutMs: 60_000, everyMs: 10 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; stdout: ${this.stdout.slice(-1000)}; stderr: ${this.stderr.slice(-3000)}`);
    });
    this.read += 1;
    return reply;
  }

  /** How many replies have come since the one read last. */
  unread(): number {
    return this.replies().length - this.read;
  }
}

const randomInt = (below: number) => Math.floor(Math.random() * below);

describe("SIGKILL at a random moment while applications and environments are created and deleted", { timeout: 400_000 }, () => {
  // Info: the reconciliation's log lines say what each restart put right.
  const edgebotHome = useEdgebotDataDir("crash", { LOG_LEVEL: "info" });
  let dataDir: string;
  let gitRoot: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dataDir = edgebotHome.dataDir();
    gitRoot = path.join(dataDir, "repos");
    env = edgebotHome.env();
  });

  /**
   * What a start left: every application's production configuration shows (none has lost its
   * repository), every `<id>.git` is one of theirs, and no temporary repository of an ended
   * process is left. The shell has run no change yet, so none of its own is under way either.
   */
  async function checkAfterStart(shell: Shell): Promise<string[]> {
    shell.send(["app list crash"]);
    const list = await shell.next();
    const apps = [...list.matchAll(/^• (crash\/[a-z0-9-]+) ·/gm)].map((match) => match[1]!);
    if (apps.length === 0) expect(list).toMatch(/^(! org crash not found|No applications|Applications in crash \(0\))/);
    shell.send(apps.map((app) => `config show ${app} production`));
    const missing: string[] = [];
    for (const app of apps) {
      const reply = await shell.next();
      if (reply === `! the repository of ${app} is missing; restore it from a backup`) missing.push(app);
      else expect(reply).toMatch(new RegExp(`^${app} production at \`[0-9a-f]+\` · 2 files\n`));
    }
    // The design leaves no crash point where an application loses its repository.
    expect(missing).toEqual([]);
    const entries = await readdir(gitRoot).catch(() => [] as string[]);
    // Each working `config show` is a distinct <id>.git: as many repositories as applications means none without one.
    expect(entries.filter((entry) => /^\d+\.git$/.test(entry))).toHaveLength(apps.length - missing.length);
    expect(entries.filter((entry) => entry.startsWith(".creating-") || entry.startsWith(".deleting-"))).toEqual([]);
    return apps;
  }

  it(`leaves every repository with its application and every application with its repository, ${rounds} rounds`, async () => {
    const recovered: string[] = [];
    let shell = new Shell(env);
    let apps = await checkAfterStart(shell);
    for (let round = 0; round < rounds; round += 1) {
      const created = [1, 2, 3, 4].map((n) => `c${round}-${n}`);
      const deleting = [...apps];
      const work = [
        "org create crash",
        `app create ${created[0]}.example.com --org crash --name ${created[0]}`,
        ...deleting.slice(0, 1).map((app) => `app delete ${app} --confirm ${app}`),
        `env create crash/${created[0]} staging`,
        `app create ${created[1]}.example.com --org crash --name ${created[1]}`,
        ...deleting.slice(1, 2).map((app) => `app delete ${app} --confirm ${app}`),
        `env create crash/${created[1]} staging`,
        `env delete crash/${created[0]} staging --confirm staging`,
        `app create ${created[2]}.example.com --org crash --name ${created[2]}`,
        ...deleting.slice(2).map((app) => `app delete ${app} --confirm ${app}`),
        `app create ${created[3]}.example.com --org crash --name ${created[3]}`,
      ];
      shell.send(work);
      // Killed after a random number of replies, a random moment into the next command.
      const after = randomInt(work.length);
      await until(() => (shell.unread() >= after ? true : undefined), { what: `${after} replies`, timeoutMs: 60_000, everyMs: 5 });
      await new Promise((resolve) => setTimeout(resolve, randomInt(150)));
      shell.child.kill("SIGKILL");
      await shell.exited;
      expect(shell.replies().join("\n")).not.toContain("something went wrong");

      shell = new Shell(env);
      apps = await checkAfterStart(shell);
      recovered.push(...[...shell.stderr.matchAll(/"msg":"((?:moved|put back|finished|removed)[^"]*)"/g)].map((match) => match[1]!.replace(/ of crash\/\S+|\.orphaned\/\S+/g, "…")));
    }
    shell.child.stdin.end();
    expect(await shell.exited).toBe(0);
    expect(shell.replies().join("\n")).not.toContain("something went wrong");
    // What the restarts put right, for the record (which steps the kills interrupted is chance).
    const counts = new Map<string, number>();
    for (const line of recovered) counts.set(line, (counts.get(line) ?? 0) + 1);
    console.info(`${rounds} rounds; the restarts put right: ${JSON.stringify(Object.fromEntries(counts))}`);
  });
});
