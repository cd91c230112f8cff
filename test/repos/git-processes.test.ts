import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedGitEnvironment, startGit, type GitProcess } from "../../src/repos/git-processes.ts";

/** Everything git writes to stdout, once it has ended. */
async function outputOf(git: GitProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const chunks: Buffer[] = [];
  git.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  const { code, stderr } = await git.ended;
  return { code, stdout: Buffer.concat(chunks).toString(), stderr };
}

describe("git processes", () => {
  let repository: string;
  let blob: string;

  beforeAll(async () => {
    repository = await mkdtemp(path.join(tmpdir(), "edgebot-git-processes-"));
    const git = (args: string[]) => promisify(execFile)("git", args, { cwd: repository }).then(({ stdout }) => stdout.trim());
    await git(["init", "--quiet", "--bare", "--initial-branch=main"]);
    await writeFile(path.join(repository, "empty-file"), "");
    blob = await git(["hash-object", "-w", "empty-file"]);
    // git knows the empty tree without it being written.
    const commit = await promisify(execFile)("git", ["commit-tree", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "-m", "First"], {
      cwd: repository,
      env: { ...process.env, GIT_AUTHOR_NAME: "Ana", GIT_AUTHOR_EMAIL: "ana@example.com", GIT_COMMITTER_NAME: "Ana", GIT_COMMITTER_EMAIL: "ana@example.com" },
    }).then(({ stdout }) => stdout.trim());
    await git(["update-ref", "refs/heads/main", commit]);
  });
  afterAll(() => rm(repository, { recursive: true, force: true }));

  it("streams both ways: git answers each request while its input is still open", async () => {
    const git = startGit(["cat-file", "--batch-command"], { cwd: repository });
    const firstLine = new Promise<string>((resolve) => git.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString())));
    git.stdin.write(`info ${blob}\n`);
    expect(await firstLine).toBe(`${blob} blob 0\n`);
    const rest = outputOf(git);
    git.stdin.end(`info ${"0".repeat(40)}\n`);
    expect(await rest).toEqual({ code: 0, stdout: `${"0".repeat(40)} missing\n`, stderr: "" });
  });

  it("starts git's own programs from its exec path, as http-backend would", async () => {
    const advertised = await outputOf(startGit(["--stateless-rpc", "--http-backend-info-refs", "."], { program: "git-upload-pack", cwd: repository }));
    expect(advertised.code).toBe(0);
    expect(advertised.stdout).toMatch(/refs\/heads\/main/);
  });

  it("tells how git ended: its exit code and the end of its stderr, null when stopped; a git that cannot start rejects", async () => {
    const failed = await outputOf(startGit(["rev-parse", "--verify", "--quiet", "refs/heads/none"], { cwd: repository }));
    expect(failed).toMatchObject({ code: 1, stdout: "" });
    const refused = await outputOf(startGit(["cat-file", "-p", "no-such-object"], { cwd: repository }));
    expect(refused.code).toBe(128);
    expect(refused.stderr).toMatch(/no-such-object/);
    const stopped = startGit(["cat-file", "--batch-command"], { cwd: repository });
    stopped.kill();
    expect((await stopped.ended).code).toBeNull();
    await expect(startGit(["status"], { cwd: path.join(repository, "not-there") }).ended).rejects.toThrow(/ENOENT/);
  });

  it("gives git nothing of edgebot's own environment, only what the caller sets on top", async () => {
    const leaked = process.env.GIT_CONFIG_PARAMETERS;
    process.env.GIT_CONFIG_PARAMETERS = "'user.name'='Leaked'";
    try {
      expect(await outputOf(startGit(["config", "user.name"], { cwd: repository }))).toMatchObject({ code: 1, stdout: "" });
      const given = await outputOf(startGit(["config", "user.name"], { cwd: repository, env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "user.name", GIT_CONFIG_VALUE_0: "Given" } }));
      expect(given).toMatchObject({ code: 0, stdout: "Given\n" });
    } finally {
      if (leaked === undefined) delete process.env.GIT_CONFIG_PARAMETERS;
      else process.env.GIT_CONFIG_PARAMETERS = leaked;
    }
  });

  it("runs git with a private empty HOME and XDG_CONFIG_HOME, no system configuration and no attributes file", async () => {
    const environment = isolatedGitEnvironment();
    expect(environment.HOME).not.toBe(tmpdir());
    expect(environment.XDG_CONFIG_HOME).toBe(environment.HOME);
    expect(environment).toMatchObject({ GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_ATTR_NOSYSTEM: "1" });
    const home = await stat(environment.HOME!);
    expect(home.isDirectory()).toBe(true);
    expect(home.mode & 0o777).toBe(0o700);
    expect(home.uid).toBe(process.getuid!());
    expect(await readdir(environment.HOME!)).toEqual([]);
    // Made once per process.
    expect(isolatedGitEnvironment().HOME).toBe(environment.HOME);
    // Removed behind edgebot's back (a temporary-files cleaner), it is not trusted again: a new one is made,
    // and the empty ones processes that have ended left behind are removed then.
    const ended = await new Promise<number>((resolve) => {
      const child = execFile("true");
      child.on("exit", () => resolve(child.pid!));
    });
    const leftover = path.join(tmpdir(), `edgebot-git-home-${ended}-AbC123`);
    const notEmpty = path.join(tmpdir(), `edgebot-git-home-${ended}-DeF456`);
    const running = path.join(tmpdir(), `edgebot-git-home-${process.ppid}-XyZ789`);
    await mkdir(leftover);
    await mkdir(path.join(notEmpty, "inside"), { recursive: true });
    await mkdir(running);
    await rm(environment.HOME!, { recursive: true });
    const renewed = isolatedGitEnvironment().HOME!;
    const remaining = await readdir(tmpdir());
    expect(remaining).not.toContain(path.basename(leftover));
    expect(remaining).toContain(path.basename(notEmpty));
    expect(remaining).toContain(path.basename(running));
    await rm(notEmpty, { recursive: true });
    await rm(running, { recursive: true });
    expect(renewed).not.toBe(environment.HOME);
    expect((await stat(renewed)).mode & 0o777).toBe(0o700);
  });
});
