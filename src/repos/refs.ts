import { randomBytes } from "node:crypto";
import { readFileSync, readdirSync, type Dirent } from "node:fs";
import { link, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";

/**
 * Reads a bare repository's branches straight from git's "files" ref storage, without starting
 * git: on these machines a process costs 10–20 ms, and a branch head is read by most commands
 * and by every clone. Only what edgebot's repositories hold is read: branches (`refs/heads/`)
 * and the symbolic `HEAD`. The files are read synchronously: each holds one line, and on these
 * machines a trip through libuv's thread pool costs ten times the read.
 *
 * A branch is a loose file `refs/heads/<name>` holding its commit id, or else a line of
 * `packed-refs` (git's maintenance packs loose refs there). A loose ref wins over a packed one.
 * Git moves a ref into `packed-refs` before deleting the loose file and takes it out of
 * `packed-refs` before deleting the loose file too, so reading the loose ref first and then
 * `packed-refs` sees each branch as it was at some instant.
 *
 * A branch is moved here too (`writeBranchHead`), by git's own locking protocol, so that a
 * compare-and-swap inside a database transaction costs a few file operations, not a process.
 */

const objectId = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A branch's commit, or undefined when there is no such branch. `branch` must already be a checked name. */
export function readBranchHead(repository: string, branch: string): string | undefined {
  const ref = `refs/heads/${branch}`;
  return readLooseRef(repository, ref) ?? readPackedRefs(repository).get(ref);
}

/** Every branch and its commit, by full ref name (`refs/heads/…`), in git's (byte) order. */
export function readBranchHeads(repository: string): Map<string, string> {
  const heads = readLooseRefs(repository, "refs/heads");
  const packed = readPackedRefs(repository);
  for (const [ref, commit] of packed) if (ref.startsWith("refs/heads/") && !heads.has(ref)) heads.set(ref, commit);
  return new Map([...heads].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The ref `HEAD` names (`refs/heads/production`), or undefined when HEAD is not symbolic. */
export function readHeadTarget(repository: string): string | undefined {
  const content = readFileSync(path.join(repository, "HEAD"), "utf8");
  const match = /^ref: (refs\/heads\/\S+)\n?$/.exec(content);
  return match?.[1];
}

/** Another writer holds the branch's lock (`<ref>.lock`): git's "cannot lock ref". */
export class BranchLocked extends Error {
  constructor(readonly ref: string) {
    super(`${ref} is locked by another update`);
    this.name = "BranchLocked";
  }
}

/**
 * Points a branch at `commit` as `git update-ref` does: it creates `<ref>.lock` exclusively
 * (so git and edgebot writers exclude each other), checks the branch is still at `expected`
 * when one is given (answering false, with nothing changed, when it is not), writes the lock
 * and renames it over the loose ref, which then wins over any packed one. No reflog is kept, as
 * git keeps none in a bare repository, and like git by default it does not fsync the ref.
 * `commit` must name a commit the repository holds: this does not look.
 */
export async function writeBranchHead(repository: string, branch: string, commit: string, expected?: string): Promise<boolean> {
  if (!objectId.test(commit) || (expected !== undefined && !objectId.test(expected))) throw new Error("invalid commit id");
  const ref = path.join(repository, "refs", "heads", branch);
  const lock = `${ref}.lock`;
  let handle: FileHandle;
  try {
    handle = await open(lock, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // A lock its writer left when it crashed would refuse every change to the branch for ever.
    if (!(await removeStaleLock(lock))) throw new BranchLocked(`refs/heads/${branch}`);
    handle = await open(lock, "wx", 0o644).catch((again: unknown) => {
      throw (again as NodeJS.ErrnoException).code === "EEXIST" ? new BranchLocked(`refs/heads/${branch}`) : again;
    });
  }
  let renamed = false;
  try {
    if (expected !== undefined && readBranchHead(repository, branch) !== expected) return false;
    await handle.writeFile(`${commit}\n`);
    await handle.close();
    await rename(lock, ref);
    renamed = true;
    return true;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await rm(lock, { force: true });
    }
  }
}

/** A lock this old was left by a writer that crashed: git holds a ref's lock for milliseconds. */
export const staleLockMs = 60_000;

/**
 * Removes a lock file older than `staleLockMs`, answering whether it did. It is first renamed to
 * a name of its own, so of two processes that find it stale only one removes it; should a
 * fresh lock have taken its place meanwhile, that one is put back. The new name still ends in
 * `.lock`, so readers and git skip it like any lock until it is gone.
 */
export async function removeStaleLock(lock: string): Promise<boolean> {
  const seen = await stat(lock).catch(() => undefined);
  if (seen === undefined || Date.now() - seen.mtimeMs < staleLockMs) return false;
  const claimed = `${lock.slice(0, -".lock".length)}.stale-${randomBytes(4).toString("hex")}.lock`;
  try {
    await rename(lock, claimed);
  } catch {
    return false;
  }
  const taken = await stat(claimed);
  if (taken.ino !== seen.ino) {
    await link(claimed, lock).catch(() => undefined);
    await rm(claimed, { force: true });
    return false;
  }
  await rm(claimed, { force: true });
  return true;
}

/**
 * The lock files git's writers take in a repository: each ref's (`refs/…/<name>.lock`), and
 * those of `packed-refs`, `HEAD` and `config`. Paths are relative to the repository.
 */
export function lockFiles(repository: string): string[] {
  let top: string[];
  try {
    top = readdirSync(repository);
  } catch {
    return [];
  }
  const locks = ["packed-refs.lock", "HEAD.lock", "config.lock"].filter((name) => top.includes(name));
  const walk = (directory: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(repository, directory), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const name = `${directory}/${entry.name}`;
      if (entry.isDirectory()) walk(name);
      else if (entry.name.endsWith(".lock")) locks.push(name);
    }
  };
  walk("refs");
  return locks;
}

function readLooseRef(repository: string, ref: string): string | undefined {
  let content: string;
  try {
    content = readFileSync(path.join(repository, ref), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOTDIR: a path under a file; EISDIR: a directory of branches, not a branch.
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw error;
  }
  return commitIn(content, ref);
}

function readLooseRefs(repository: string, directory: string): Map<string, string> {
  const refs = new Map<string, string>();
  let entries: Dirent[];
  try {
    entries = readdirSync(path.join(repository, directory), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return refs;
    throw error;
  }
  for (const entry of entries) {
    const ref = `${directory}/${entry.name}`;
    if (entry.isDirectory()) for (const [name, commit] of readLooseRefs(repository, ref)) refs.set(name, commit);
    // A ref being written is `<ref>.lock` until git renames it into place.
    else if (entry.isFile() && !entry.name.endsWith(".lock")) {
      const commit = readLooseRef(repository, ref);
      if (commit !== undefined) refs.set(ref, commit);
    }
  }
  return refs;
}

/** `packed-refs`: a header comment, then `<id> <ref>` lines, each tag's followed by `^<peeled id>`. */
function readPackedRefs(repository: string): Map<string, string> {
  const refs = new Map<string, string>();
  let content: string;
  try {
    content = readFileSync(path.join(repository, "packed-refs"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return refs;
    throw error;
  }
  for (const line of content.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith("^")) continue;
    const space = line.indexOf(" ");
    const ref = line.slice(space + 1);
    refs.set(ref, commitIn(line.slice(0, space), ref));
  }
  return refs;
}

function commitIn(content: string, ref: string): string {
  const commit = content.trim();
  // A symbolic branch, or anything else git would not write there: refuse rather than guess.
  if (!objectId.test(commit)) throw new Error(`unexpected content in ${ref}: ${JSON.stringify(commit.slice(0, 60))}`);
  return commit;
}
