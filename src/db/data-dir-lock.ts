import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { ConfigError } from "../config.ts";

/** Another live process holds the embedded database's directory: a setting to change, like a bad value. */
export class DataDirInUse extends ConfigError {
  override name = "DataDirInUse";
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
    super(`DATA_DIR ${dataDir} is in use by edgebot (${where}); stop it or set another DATA_DIR`);
  }
}

/** Who holds a lock, as its lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the process started, in the kernel's clock ticks since boot (Linux), so a reused pid is not mistaken for the holder. */
  startedAt: string | undefined;
}

/** A held lock on a directory; `release` gives it up (once). */
export interface DataDirLock {
  readonly file: string;
  release(): void;
}

const lockFileName = "edgebot.lock";

/**
 * Takes the exclusive lock on `dataDir` for this process: PGlite is a single-process database,
 * and two processes writing one directory lose each other's writes. The lock is a file holding
 * the holder's pid, created with O_EXCL so two processes starting together cannot both win. A
 * lock whose process has ended (a crash, a SIGKILL) is taken over; the takeover itself is
 * exclusive too, through a second O_EXCL file, so of two processes finding the same stale lock
 * only one replaces it. Throws `DataDirInUse` while a live process holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, lockFileName);
  const me = currentHolder();
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (createExclusively(file, me)) return heldLock(file, me);
    const holder = readHolder(file);
    if (holder === undefined) continue; // released between our create and our read: try again
    if (isAlive(holder)) throw new DataDirInUse(dataDir, holder);
    if (takeOver(file, holder, me)) return heldLock(file, me);
  }
  throw new Error(`could not take the lock ${file}: it keeps changing hands`);
}

function heldLock(file: string, me: LockHolder): DataDirLock {
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Only our own lock is removed: one taken over from us (we were thought dead) is not ours.
      const holder = readHolder(file);
      if (holder && sameHolder(holder, me)) unlinkSafely(file);
    },
  };
}

/**
 * Puts a file holding `holder` at `file` unless one is there; false when it is. The content is
 * written under a name of our own first and then linked into place, so nobody ever reads a lock
 * without its holder (link, like O_EXCL, fails when the name exists).
 */
function createExclusively(file: string, holder: LockHolder): boolean {
  const draft = `${file}.${holder.pid}.${process.hrtime.bigint()}`;
  const descriptor = openSync(draft, "wx", 0o644);
  try {
    writeSync(descriptor, serialize(holder));
  } finally {
    closeSync(descriptor);
  }
  try {
    linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSafely(draft);
  }
}

/**
 * Replaces a stale lock. The guard file makes the replacement exclusive: without it, two
 * processes could each remove the stale lock and the second would remove the first's new one.
 * A guard left by a process that died mid-takeover is itself stale and removed.
 */
function takeOver(file: string, stale: LockHolder, me: LockHolder): boolean {
  const guard = `${file}.takeover`;
  if (!createExclusively(guard, me)) {
    const guardHolder = readHolder(guard);
    if (guardHolder && !isAlive(guardHolder)) unlinkSafely(guard);
    return false;
  }
  try {
    const holder = readHolder(file);
    // Someone else took it over (and may have released it) since we looked: start again.
    if (holder === undefined || !sameHolder(holder, stale)) return false;
    const fresh = `${file}.${me.pid}.fresh`;
    const descriptor = openSync(fresh, "w", 0o644);
    try {
      writeSync(descriptor, serialize(me));
    } finally {
      closeSync(descriptor);
    }
    try {
      renameSync(fresh, file);
    } catch (error) {
      unlinkSafely(fresh);
      throw error;
    }
    return true;
  } finally {
    unlinkSafely(guard);
  }
}

function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const [pid, host, startedAt] = text.trim().split(/\s+/);
  // A lock file that holds no pid (written by hand, or emptied) holds nobody alive.
  return { pid: Number(pid) || 0, host: host ?? "", startedAt: startedAt || undefined };
}

function serialize(holder: LockHolder): string {
  return `${holder.pid} ${holder.host}${holder.startedAt ? ` ${holder.startedAt}` : ""}\n`;
}

function currentHolder(): LockHolder {
  return { pid: process.pid, host: hostname(), startedAt: processStartTime(process.pid) };
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.host === b.host && a.startedAt === b.startedAt;
}

/**
 * Whether the holder still runs. A holder on another host cannot be checked from here and
 * counts as alive: only its operator can say it is gone (by removing the lock file).
 */
function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return holder.host !== "";
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the pid runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid runs; after a reboot or a long time it may be another program's.
  return holder.startedAt === undefined || processStartTime(holder.pid) === holder.startedAt;
}

/** Field 22 of /proc/<pid>/stat; undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function unlinkSafely(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

