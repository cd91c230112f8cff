import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirInUse, lockDataDir } from "../../src/db/data-dir-lock.ts";
import { startEdgebot } from "../support/edgebot-process.ts";
import { until } from "../support/until.ts";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

/** The pid of a process that has ended: a child that exited at once. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("close", resolve));
  return child.pid!;
}

describe("the embedded database's directory lock", () => {
  let dataDir: string;
  const lockFile = () => path.join(dataDir, "edgebot.lock");

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-lock-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is held with this process's pid and given back on release", async () => {
    const lock = lockDataDir(dataDir);
    expect((await readFile(lockFile(), "utf8")).split(" ").slice(0, 2)).toEqual([String(process.pid), hostname()]);
    lock.release();
    await expect(readFile(lockFile())).rejects.toMatchObject({ code: "ENOENT" });
    lockDataDir(dataDir).release();
  });

  it("refuses a second holder while the first lives, naming the directory and the pid", () => {
    const lock = lockDataDir(dataDir);
    try {
      expect(() => lockDataDir(dataDir)).toThrow(DataDirInUse);
      expect(() => lockDataDir(dataDir)).toThrow(`DATA_DIR ${dataDir} is in use by edgebot (pid ${process.pid}); stop it or set another DATA_DIR`);
    } finally {
      lock.release();
    }
  });

  it("takes over the lock of a process that has ended", async () => {
    await writeFile(lockFile(), `${await deadPid()} ${hostname()}\n`);
    const lock = lockDataDir(dataDir);
    expect(await readFile(lockFile(), "utf8")).toMatch(new RegExp(`^${process.pid} `));
    lock.release();
  });

  it("takes over a lock whose pid now belongs to another program started later", async () => {
    // Our own pid, but a start time that is not ours: the holder ended and its pid was reused.
    await writeFile(lockFile(), `${process.pid} ${hostname()} 1\n`);
    lockDataDir(dataDir).release();
  });

  it("leaves a lock held on another host alone: only its operator can say it is gone", async () => {
    await writeFile(lockFile(), `4242 other-host.example 99\n`);
    expect(() => lockDataDir(dataDir)).toThrow(`DATA_DIR ${dataDir} is in use by edgebot (pid 4242 on other-host.example); stop it or set another DATA_DIR`);
    expect(await readFile(lockFile(), "utf8")).toBe("4242 other-host.example 99\n");
  });

  it("does not remove a lock that another process took over meanwhile", async () => {
    const lock = lockDataDir(dataDir);
    await writeFile(lockFile(), `${await deadPid()} ${hostname()}\n`);
    lock.release();
    expect(await readFile(lockFile(), "utf8")).not.toMatch(new RegExp(`^${process.pid} `));
  });

  it("lets exactly one of several processes racing for a stale lock have it", async () => {
    await writeFile(lockFile(), `${await deadPid()} ${hostname()}\n`);
    // Each holds what it got until every racer has said how it fared: a winner that let go
    // early would let a racer that started late (tsx starts slowly on a busy machine) win fairly.
    const script = `
      import { lockDataDir } from "./src/db/data-dir-lock.ts";
      let lock;
      try { lock = lockDataDir(process.argv[1]); console.log("held"); }
      catch (error) { console.log(error.name); }
      process.stdin.on("end", () => lock?.release()).resume();`;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, dataDir], { cwd: projectRoot }));
    const said = children.map((child) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      return () => out.trim();
    });
    const racers = children.map((child, index) => new Promise<string>((resolve) => child.on("close", () => resolve(said[index]!()))));
    await until(() => said.every((output) => output() !== "") || undefined, { what: "every racer to say how it fared", timeoutMs: 60_000 });
    for (const child of children) child.stdin.end();
    const results = await Promise.all(racers);
    expect(results.filter((result) => result === "held")).toHaveLength(1);
    expect(results.filter((result) => result === "DataDirInUse")).toHaveLength(5);
  });
});

describe("two edgebot processes on one DATA_DIR", { timeout: 120_000 }, () => {
  it("refuses the second with one line and exit 2, and the first goes on unharmed", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "edgebot-two-"));
    const env = { DATA_DIR: dataDir, GIT_HTTP_PORT: "0" };
    try {
      const first = startEdgebot(env, { keepStdinOpen: true });
      first.child.stdin.write("org create first-org\n");
      await until(
        () => {
          if (first.child.exitCode !== null) throw new Error(`the first process exited: ${first.stderr()}`);
          return first.stdout().includes("Created org first-org") || undefined;
        },
        { what: "the first process to answer", timeoutMs: 45_000 },
      );

      const second = startEdgebot(env, { input: "org create second-org\n" });
      expect(await second.exited).toBe(2);
      expect(second.stderr()).toBe(`edgebot: DATA_DIR ${dataDir} is in use by edgebot (pid ${first.child.pid}); stop it or set another DATA_DIR\n`);
      expect(second.stdout()).toBe("");

      // A stop with SIGTERM, stdin still open: the shell ends after its answer and gives the lock back.
      first.child.stdin.write("org create after-refusal\n");
      await until(() => first.stdout().includes("Created org after-refusal") || undefined, { what: "the first process's second answer", timeoutMs: 20_000 });
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
      await expect(readFile(path.join(dataDir, "edgebot.lock"))).rejects.toMatchObject({ code: "ENOENT" });

      // The lock went with the first process; a third starts and finds both orgs, and no second-org.
      const third = startEdgebot(env, { input: "org list\n" });
      expect(await third.exited).toBe(0);
      expect(third.stdout()).toMatch(/after-refusal[\s\S]*first-org|first-org[\s\S]*after-refusal/);
      expect(third.stdout()).not.toContain("second-org");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
