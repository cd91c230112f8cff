import type { Leftover } from "../repos/leftovers.ts";
import { applicationIds, applicationRefs } from "./applications.ts";
import type { Platform } from "./platform.ts";

/** Where reconciliation says what it did and what it found; a pino logger is one. */
export interface ReconciliationLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** What a reconciliation did, entry by entry (names relative to GIT_ROOT). */
export interface ReconciliationReport {
  /** Creations that committed before their process ended, moved into place. */
  installed: string[];
  /** Deletions that never committed, put back. */
  restored: string[];
  /** Deletions that committed, finished. */
  deleted: string[];
  /** Repositories no application owns, and where under `.orphaned` they went. */
  orphaned: Array<{ from: string; to: string }>;
  /** Temporary repositories of processes still running here, or of other hosts. */
  leftAlone: string[];
  /** `org/app` of the applications whose repository is not on disk. */
  missing: string[];
  /** Lock files writers that crashed left in repositories, removed (`<id>.git/<path>`). */
  staleLocks: string[];
}

// A leftover of another host this old is no longer a step in progress: someone should look.
const oldLeftoverMs = 60 * 60 * 1000;

/**
 * Brings GIT_ROOT and the database back in step after processes that ended mid-change, at
 * start. Their creations and deletions (see src/repos/leftovers.ts) stopped at some moment;
 * the database says which way each went:
 * - a deletion (`.deleting-<id>-…`) whose application still exists never committed: put back;
 *   one whose application is gone did: finished;
 * - a creation (`.creating-<id>-…`) whose application exists without a repository committed:
 *   moved into place; any other never did: moved to `.orphaned`, as is
 * - a repository `<id>.git` without an application. Nothing is deleted but committed deletions.
 * Only what processes that have ended left is touched: others on this host or on other hosts
 * may share GIT_ROOT and be at work. Applications without a repository are reported (their
 * commands say so), and lock files older than a minute in repositories are removed.
 */
export async function reconcileRepositories(platform: Platform, log: ReconciliationLog): Promise<ReconciliationReport> {
  const report: ReconciliationReport = { installed: [], restored: [], deleted: [], orphaned: [], leftAlone: [], missing: [], staleLocks: [] };
  const { repositories } = platform;
  // The disk first, then the database: see `Repositories.survey`.
  const survey = await repositories.survey();
  const ended: Leftover[] = [];
  for (const leftover of survey.leftovers) {
    if (leftover.writer === "ended") {
      ended.push(leftover);
      continue;
    }
    report.leftAlone.push(leftover.name);
    const details = { name: leftover.name, application: leftover.applicationId, host: leftover.host, pid: leftover.pid, madeAt: leftover.madeAt };
    if (leftover.writer === "running") log.info(details, "left alone: a repository a running process is working on");
    else if (Date.now() - leftover.madeAt.getTime() > oldLeftoverMs) log.warn(details, "left alone: another host's unfinished repository step, over an hour old; it is removed when that host's edgebot starts");
    else log.info(details, "left alone: another host's repository step in progress");
  }

  const refs = await applicationRefs(platform, [...new Set([...survey.repositories, ...ended.map((leftover) => leftover.applicationId)])]);
  const inPlace = new Set(survey.repositories);
  // One entry that cannot be put right (a permission, a full disk) is logged and the others go on.
  const step = (name: string, change: () => Promise<void>) =>
    change().catch((error: unknown) => log.warn({ name, err: error }, `could not put ${name} right; it is left as it is`));
  const orphan = async (name: string, details: object, why: string) => {
    const to = await repositories.orphan(name);
    if (to === undefined) return;
    report.orphaned.push({ from: name, to });
    log.warn({ ...details, name, movedTo: to }, `moved to ${to}: ${why}`);
  };

  // Deletions first: a deleting copy of an application that exists holds its history, and wins
  // over a creation of the same id (which only an id the database handed out twice can give).
  // Newest first: only the last of several can be the one that counts.
  const newestFirst = (a: Leftover, b: Leftover) => b.madeAt.getTime() - a.madeAt.getTime();
  for (const leftover of ended.filter((entry) => entry.kind === "deleting").sort(newestFirst)) {
    const { name, applicationId: id } = leftover;
    const ref = refs.get(id);
    await step(name, async () => {
      if (ref === undefined) {
        await repositories.removeLeftover(name);
        report.deleted.push(name);
        log.info({ name, application: id }, "finished deleting the repository of a deleted application");
      } else if (!inPlace.has(id)) {
        await repositories.moveIntoPlace(name, id);
        inPlace.add(id);
        report.restored.push(name);
        log.info({ name, application: id, app: ref }, `put back the repository of ${ref}: its deletion did not commit`);
      } else {
        await orphan(name, { application: id, app: ref }, `a deletion that did not commit, of ${ref}, which has its repository`);
      }
    });
  }
  for (const leftover of ended.filter((entry) => entry.kind === "creating").sort(newestFirst)) {
    const { name, applicationId: id } = leftover;
    const ref = refs.get(id);
    await step(name, async () => {
      if (ref !== undefined && !inPlace.has(id)) {
        await repositories.moveIntoPlace(name, id);
        inPlace.add(id);
        report.installed.push(name);
        log.info({ name, application: id, app: ref }, `moved the new repository of ${ref} into place: its creation had committed`);
      } else {
        await orphan(name, { application: id }, "a creation that did not commit");
      }
    });
  }
  for (const id of survey.repositories) {
    if (refs.has(id)) continue;
    await step(`${id}.git`, async () => {
      await orphan(`${id}.git`, { application: id }, "a repository without an application");
      inPlace.delete(id);
    });
  }

  // Applications without a repository: those not seen on disk, looked at again (another
  // process may have created one since).
  const absent: number[] = [];
  for (let afterId = 0; ; ) {
    const page = await applicationIds(platform, { afterId, limit: 1000 });
    if (page.length === 0) break;
    for (const id of page) if (!inPlace.has(id) && !(await repositories.exists(id))) absent.push(id);
    afterId = page.at(-1)!;
  }
  for (const [id, ref] of await applicationRefs(platform, absent)) {
    report.missing.push(ref);
    log.warn({ application: id, app: ref, path: repositories.pathOf(id) }, `the repository of ${ref} is missing; restore it from a backup`);
  }

  for (const id of [...inPlace].sort((a, b) => a - b)) {
    for (const lock of await repositories.removeStaleLocks(id).catch(() => [] as string[])) {
      const name = `${id}.git/${lock}`;
      report.staleLocks.push(name);
      log.info({ application: id, app: refs.get(id), lock: name }, "removed a stale lock a crashed writer left");
    }
  }
  report.missing.sort();
  return report;
}
