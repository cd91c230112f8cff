import { EventEmitter } from "node:events";
import path from "node:path";
import { runShell } from "./bot/shell.ts";
import type { Platform } from "./core/platform.ts";
import { GitHttp } from "./git-http/git-http.ts";
import { serveGitHttp } from "./git-http/standalone-server.ts";
import type { Serving } from "./serving.ts";

/**
 * The local shell, with git over HTTP on 127.0.0.1 so a newcomer can clone and push locally, and
 * the job queue, so DNS re-checks, expiries and maintenance run while it is open. What a push or a
 * job announces is printed as soon as it is recorded, above the prompt. A port already taken
 * leaves the shell without git. On a terminal, its history is kept in DATA_DIR/shell-history.
 */
export async function serveShell({ platform, config, logger, stop, jobs: startingJobs }: Serving): Promise<void> {
  const notifications = new EventEmitter();
  const announce = () => notifications.emit("due");
  const jobs = await startingJobs;
  jobs.onJobsDone(announce);
  const withJobs: Platform = { ...platform, rechecks: jobs.rechecks, maintenance: jobs.maintenance };
  const git = new GitHttp({
    platform: withJobs,
    logger: logger.child({ component: "git" }),
    maxPushBytes: config.gitMaxPushBytes,
    onPushed: announce,
  });
  const host = "127.0.0.1";
  const served = await serveGitHttp(git, { port: config.gitHttpPort, host }).catch((error: unknown) => {
    logger.warn({ err: error, port: config.gitHttpPort }, "git over HTTP is off: its port is not free (set GIT_HTTP_PORT)");
    return undefined;
  });
  try {
    await runShell({
      platform: withJobs,
      user: config.localUser,
      slashCommand: config.slashCommand,
      logger,
      input: process.stdin,
      output: process.stdout,
      interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
      historyFile: path.join(config.dataDir, "shell-history"),
      notifications,
      // A stop ends the input: the command being run finishes and is answered, and the shell returns.
      signal: stop.signal,
      ...(served ? { gitBaseUrl: `http://${host}:${served.port}` } : {}),
    });
  } finally {
    await served?.close();
    await git.close();
  }
}
