import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/**
 * The temporary names under which a repository is built or deleted, and who made them. A
 * repository is built as `.creating-…` and moved to `<id>.git` only once its application is
 * committed; a deleted one is moved to `.deleting-…` inside the transaction and removed after
 * the commit. The name carries the application's id and its writer (host, pid and this
 * process's own random token, since a container's restart reuses its pid), so that a process
 * starting later can tell what a process that has ended left behind from what a running one,
 * maybe on another host sharing GIT_ROOT, is working on.
 */

/** Which half-done step a temporary repository stands for. */
export type LeftoverKind = "creating" | "deleting";

/** A temporary repository in GIT_ROOT and what is known of its writer. */
export interface Leftover {
  /** Its name in GIT_ROOT. */
  name: string;
  kind: LeftoverKind;
  applicationId: number;
  host: string;
  pid: number;
  /** When the writer made it. */
  madeAt: Date;
  /**
   * `ended`: the writer was on this host and is gone, so the step will never finish by itself;
   * `running`: it is still at work; `elsewhere`: another host's, which this one cannot check.
   */
  writer: "ended" | "running" | "elsewhere";
}

/** This host as it goes in a name: hostnames hold letters, digits, dots and dashes; anything else is replaced. */
export const thisHost = hostname().replace(/[^A-Za-z0-9.-]/g, "_") || "localhost";
/** Tells this process from an earlier one that had the same pid. */
const thisProcess = randomBytes(4).toString("hex");

/** A new temporary name for application `applicationId`'s repository, made by this process. */
export function leftoverName(kind: LeftoverKind, applicationId: number): string {
  return `.${kind}-${applicationId}-${thisHost}-${process.pid}-${thisProcess}-${Date.now()}`;
}

// The host may hold dashes: the fields after it have fixed shapes, so it is what lies between.
const current = /^\.(creating|deleting)-(\d+)-(.+)-(\d+)-([0-9a-f]{8})-(\d+)$/;
// Before the host and token were added: `.deleting-<id>-<pid>-<time>`, always this host's.
const legacy = /^\.deleting-(\d+)-(\d+)-(\d+)$/;

/** Reads a name `leftoverName` made (or an older version did); undefined for any other name. */
export function parseLeftover(name: string): Leftover | undefined {
  const match = current.exec(name);
  if (match) {
    const [, kind, id, host, pid, token, time] = match as unknown as [string, LeftoverKind, string, string, string, string, string];
    return { name, kind, applicationId: Number(id), host, pid: Number(pid), madeAt: new Date(Number(time)), writer: writerOf(host, Number(pid), token) };
  }
  const old = legacy.exec(name);
  if (old) {
    const [, id, pid, time] = old as unknown as [string, string, string, string];
    return { name, kind: "deleting", applicationId: Number(id), host: thisHost, pid: Number(pid), madeAt: new Date(Number(time)), writer: writerOf(thisHost, Number(pid), undefined) };
  }
  return undefined;
}

function writerOf(host: string, pid: number, token: string | undefined): Leftover["writer"] {
  if (host !== thisHost) return "elsewhere";
  if (pid === process.pid) return token === thisProcess ? "running" : "ended";
  return isRunning(pid) ? "running" : "ended";
}

/** Whether a process of this host has this pid (signal 0 checks without sending; EPERM: it runs as another user). */
export function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
