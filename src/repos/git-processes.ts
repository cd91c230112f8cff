import { execFileSync, spawn } from "node:child_process";
import { lstatSync, rmSync } from "node:fs";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { makePrivateDirectorySync, removeDirectoriesOfEndedProcesses } from "./private-directories.ts";

/**
 * Every git process edgebot starts outside simple-git: the repositories' own runs (fast-import,
 * a bounded diff, cat-file) and git over HTTP's (upload-pack, http-backend), all with the same
 * isolated environment, their output streamed as it comes.
 */

/** Which program to start: `git` with a command, or one of git's own programs from its exec path. */
export type GitProgram = "git" | "git-upload-pack" | "git-http-backend";

export interface StartGitOptions {
  /** `git` (the default, with the command first in `args`), or one of git's programs started directly: the `git` wrapper is one process more. */
  program?: GitProgram;
  /** The directory git runs in. */
  cwd?: string;
  /** Set on top of `isolatedGitEnvironment()`; only values edgebot chose (configuration, CGI variables), never a request's text as it came. */
  env?: Record<string, string>;
}

/** How a git process ended: its exit code (null when it was stopped) and the end of what it wrote to stderr. */
export interface GitExit {
  code: number | null;
  stderr: string;
}

/** A running git process. Nothing is buffered here: what git writes is read from `stdout` as it comes. */
export interface GitProcess {
  /** git's standard input; end it when all is written. A write git did not read (it ended first) is not an error: its exit says why. */
  readonly stdin: Writable;
  /** git's standard output, to pipe on or read. */
  readonly stdout: Readable;
  /** Stops git (its reader went away, or has read enough). */
  kill(): void;
  /** Settles once git has ended and its output is closed; rejects when git could not be started. */
  readonly ended: Promise<GitExit>;
}

/** How much of git's stderr is kept for the error or the log. */
const stderrKept = 4000;

/** Starts git in edgebot's isolated environment (see `isolatedGitEnvironment`). */
export function startGit(args: readonly string[], options: StartGitOptions = {}): GitProcess {
  const child = spawn(programPath(options.program ?? "git"), args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...isolatedGitEnvironment(), ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-stderrKept)));
  // git may end before reading all its input (a refusal); its exit code says why, not the broken pipe.
  child.stdin.on("error", () => undefined);
  const ended = new Promise<GitExit>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
  // A caller that stops listening (a client gone) must not turn a failed start into an unhandled rejection.
  ended.catch(() => undefined);
  return { stdin: child.stdin, stdout: child.stdout, kill: () => child.kill(), ended };
}

let gitExecPath: string | undefined;

function programPath(program: GitProgram): string {
  if (program === "git") return "git";
  gitExecPath ??= execFileSync("git", ["--exec-path"], { encoding: "utf8", env: isolatedGitEnvironment() }).trim();
  return path.join(gitExecPath, program);
}

/**
 * The environment of every git edgebot runs: none of the machine's or the user's git
 * configuration or attributes (so nothing outside the repository changes a merge), and never a prompt.
 */
export function isolatedGitEnvironment(): Record<string, string> {
  const home = gitHome();
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
  };
}

let privateHome: string | undefined;
const gitHomePrefix = "edgebot-git-home-";

/**
 * A directory only this process uses as git's HOME and XDG_CONFIG_HOME: empty, mode 0700, made
 * on first use and removed at exit. A shared one (the temporary directory) would let anyone on
 * the machine plant a `.gitconfig` or `.config/git/attributes` that changes what git does. It
 * is looked at again before each use (a stat): one a temporary-files cleaner removed, which
 * someone else could then make again, is replaced by a new one. A process that did not exit
 * normally left its empty HOME behind: those are removed when a new one is made.
 */
function gitHome(): string {
  if (privateHome !== undefined && !isPrivateDirectory(privateHome)) privateHome = undefined;
  if (privateHome === undefined) {
    removeDirectoriesOfEndedProcesses(gitHomePrefix, { onlyEmpty: true });
    const home = makePrivateDirectorySync(gitHomePrefix);
    process.once("exit", () => rmSync(home, { recursive: true, force: true }));
    privateHome = home;
  }
  return privateHome;
}

/** Whether a directory is still this process's user's own: a directory (not a link), mode 0700. */
function isPrivateDirectory(directory: string): boolean {
  try {
    const info = lstatSync(directory);
    return info.isDirectory() && (info.mode & 0o077) === 0 && (process.getuid === undefined || info.uid === process.getuid());
  } catch {
    return false;
  }
}
