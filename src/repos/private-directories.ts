import { mkdtempSync, readdirSync, rmdirSync, rmSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { isRunning } from "./leftovers.ts";

/**
 * Directories of the temporary directory that one process makes for itself (git's HOME, the
 * push hooks and their socket), mode 0700 so that nobody else on the machine can plant or read
 * anything there. Each is named `<prefix><pid>-<six characters>` after the process that made
 * it, so that a later process can remove what one that crashed left behind, and leave alone
 * what edgebot processes still running (sharing the machine) are using.
 */

/** Makes a new private directory for this process, named after it. */
export async function makePrivateDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), `${prefix}${process.pid}-`));
  await chmod(directory, 0o700);
  return directory;
}

/** `makePrivateDirectory` for callers that cannot wait (git's environment is built synchronously). */
export function makePrivateDirectorySync(prefix: string): string {
  // mkdtemp makes it 0700 already.
  return mkdtempSync(path.join(tmpdir(), `${prefix}${process.pid}-`));
}

/**
 * Removes the directories named with `prefix` that processes of this host which have ended left
 * behind; never this process's own, nor those of a process still running. With `onlyEmpty`
 * (for directories that stay empty, like git's HOME) one that holds something is left alone.
 */
export function removeDirectoriesOfEndedProcesses(prefix: string, options: { onlyEmpty: boolean }): void {
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\d+)-[A-Za-z0-9]{6}$`);
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    const directory = path.join(tmpdir(), name);
    try {
      if (options.onlyEmpty) rmdirSync(directory);
      else rmSync(directory, { recursive: true, force: true });
    } catch {
      // Not empty, not ours, or gone already: left alone.
    }
  }
}
