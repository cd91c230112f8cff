import { execFile } from "node:child_process";

/** What a run of the git client printed, and how it ended. */
export interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real git client as a person at a terminal would, with nothing of the machine's or
 * the user's git configuration (`home` is theirs) and commits made as `author`.
 */
export function runGitClient(args: string[], options: { cwd: string; home: string; author: { name: string; email: string }; env?: Record<string, string> }): Promise<GitRun> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      {
        cwd: options.cwd,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: options.home,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_TERMINAL_PROMPT: "0",
          GIT_AUTHOR_NAME: options.author.name,
          GIT_AUTHOR_EMAIL: options.author.email,
          GIT_COMMITTER_NAME: options.author.name,
          GIT_COMMITTER_EMAIL: options.author.email,
          LC_ALL: "C",
          ...options.env,
        },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
