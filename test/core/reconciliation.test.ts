import { spawn } from "node:child_process";
import { readdir, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deleteApplication } from "../../src/core/applications.ts";
import { editConfigFile, listConfigFiles, startConfigEdit } from "../../src/core/configs.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { reconcileRepositories, type ReconciliationLog } from "../../src/core/reconciliation.ts";
import { thisHost } from "../../src/repos/leftovers.ts";
import { applicationId, buildApplication, buildOrg, buildUser, useWorld } from "../support/world.ts";

const world = useWorld();

interface LogLine {
  level: "info" | "warn";
  details: Record<string, unknown>;
  message: string;
}

/** Runs the reconciliation a start runs, keeping its log lines. */
async function reconcile() {
  const lines: LogLine[] = [];
  const log: ReconciliationLog = {
    info: (details, message) => lines.push({ level: "info", details: details as Record<string, unknown>, message }),
    warn: (details, message) => lines.push({ level: "warn", details: details as Record<string, unknown>, message }),
  };
  const report = await reconcileRepositories(world.platform, log);
  return { report, lines };
}

/** The pid of a process of this host that has ended. */
async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

const sleepers: Array<ReturnType<typeof spawn>> = [];
afterAll(() => {
  for (const child of sleepers) child.kill();
});

/** The pid of a process of this host that is running (until the file ends). */
function runningPid(): number {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"]);
  sleepers.push(child);
  return child.pid!;
}

/** A temporary name as the process `pid` of `host` would have made it. */
function leftoverName(kind: "creating" | "deleting", id: number, pid: number, host = thisHost): string {
  return `.${kind}-${id}-${host}-${pid}-0badf00d-${Date.now()}`;
}

/** An application with its repository, its owner and its id. */
async function buildApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org);
  return { owner, org, ref, id: await applicationId(world.platform, ref) };
}

/** Moves an application's repository to a temporary name, as a process interrupted there left it. */
async function interrupt(id: number, name: string): Promise<void> {
  await rename(world.platform.repositories.pathOf(id), path.join(world.gitRoot, name));
}

const entries = async () => (await readdir(world.gitRoot)).filter((entry) => entry !== ".orphaned");
const orphaned = async () => readdir(path.join(world.gitRoot, ".orphaned")).catch(() => [] as string[]);

describe("reconciling GIT_ROOT with the database at start", () => {
  it("moves a new repository into place when its process ended after the application was committed", async () => {
    const { owner, ref, id } = await buildApp();
    const name = leftoverName("creating", id, await endedPid());
    await interrupt(id, name);

    const { report, lines } = await reconcile();
    expect(report.installed).toEqual([name]);
    expect(await entries()).not.toContain(name);
    expect((await listConfigFiles(world.platform, { actor: owner, app: ref, env: "production" })).files.map((file) => file.path)).toEqual(["section.config.json", "varnish/default.vcl"]);
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", message: `moved the new repository of ${ref} into place: its creation had committed` }));
  });

  it("counts an earlier process with this very pid (a restarted container) as ended", async () => {
    const { owner, ref, id } = await buildApp();
    const name = leftoverName("creating", id, process.pid);
    await interrupt(id, name);

    expect((await reconcile()).report.installed).toEqual([name]);
    await listConfigFiles(world.platform, { actor: owner, app: ref, env: "production" });
  });

  it("moves a repository whose creation never committed to .orphaned", async () => {
    await world.platform.repositories.prepare(900_001, { branch: "production", files: { "a.json": "{}\n" }, message: "Create", author: { name: "Ana", email: "ana@example.com" } });
    const [building] = (await entries()).filter((entry) => entry.startsWith(".creating-900001-"));
    const name = leftoverName("creating", 900_001, await endedPid());
    await rename(path.join(world.gitRoot, building!), path.join(world.gitRoot, name));

    const { report, lines } = await reconcile();
    expect(report.orphaned).toEqual([{ from: name, to: expect.stringMatching(new RegExp(`^\\.orphaned/${name.slice(1)}-`)) }]);
    expect(await entries()).not.toContain(name);
    expect(await orphaned()).toContain(path.basename(report.orphaned[0]!.to));
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", message: `moved to ${report.orphaned[0]!.to}: a creation that did not commit` }));
  });

  it("puts back a repository whose deletion never committed", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const name = leftoverName("deleting", id, await endedPid());
    await interrupt(id, name);

    const { report } = await reconcile();
    expect(report.restored).toEqual([name]);
    expect(await world.platform.repositories.branches(id)).toEqual(["production", "staging"]);
  });

  it("finishes a deletion that committed, saying so", async () => {
    const { owner, ref, id } = await buildApp();
    // As if the process had ended between the commit and removing the repository.
    const name = leftoverName("deleting", id, await endedPid());
    const kept = path.join(world.gitRoot, "kept");
    await rename(world.platform.repositories.pathOf(id), kept);
    await deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref });
    await rename(kept, path.join(world.gitRoot, name));

    const { report, lines } = await reconcile();
    expect(report.deleted).toEqual([name]);
    expect(await entries()).not.toContain(name);
    expect(lines).toContainEqual({ level: "info", details: { name, application: id }, message: "finished deleting the repository of a deleted application" });
  });

  it("moves a repository without an application to .orphaned/<name>-<time>, and warns", async () => {
    await world.platform.repositories.create(900_002, { branch: "production", files: { "a.json": "{}\n" }, message: "Create", author: { name: "Ana", email: "ana@example.com" } });

    const { report, lines } = await reconcile();
    const [moved] = report.orphaned;
    expect(report.orphaned).toEqual([{ from: "900002.git", to: expect.stringMatching(/^\.orphaned\/900002\.git-\d{4}-\d\d-\d\dT[\d-]+Z$/) }]);
    expect(await world.platform.repositories.exists(900_002)).toBe(false);
    expect((await stat(path.join(world.gitRoot, moved!.to, "HEAD"))).isFile()).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", message: `moved to ${moved!.to}: a repository without an application` }));
  });

  it("warns of an application without a repository, and its commands say so", async () => {
    const { owner, ref, id } = await buildApp();
    await rm(world.platform.repositories.pathOf(id), { recursive: true });

    const { report, lines } = await reconcile();
    expect(report.missing).toContain(ref);
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", message: `the repository of ${ref} is missing; restore it from a backup` }));
    await expect(listConfigFiles(world.platform, { actor: owner, app: ref, env: "production" })).rejects.toThrow(`the repository of ${ref} is missing; restore it from a backup`);
    await deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref });
  });

  it("leaves alone what a running process of this host is working on", async () => {
    const { owner, ref, id } = await buildApp();
    const creating = leftoverName("creating", id, runningPid());
    await interrupt(id, creating);
    const deleting = leftoverName("deleting", 900_003, runningPid());
    await world.platform.repositories.create(900_003, { branch: "production", files: { "a.json": "{}\n" }, message: "Create", author: { name: "Ana", email: "ana@example.com" } });
    await interrupt(900_003, deleting);

    const { report } = await reconcile();
    expect(report.leftAlone).toEqual(expect.arrayContaining([creating, deleting]));
    expect(await entries()).toEqual(expect.arrayContaining([creating, deleting]));
    expect(report.missing).toContain(ref);
    await rm(path.join(world.gitRoot, deleting), { recursive: true });
    await rename(path.join(world.gitRoot, creating), world.platform.repositories.pathOf(id));
    await listConfigFiles(world.platform, { actor: owner, app: ref, env: "production" });
  });

  it("leaves another host's leftovers alone, and says so", async () => {
    const { owner, ref, id } = await buildApp();
    // A pid that has ended here means nothing for another host.
    const name = leftoverName("deleting", id, await endedPid(), "other-host.example");
    await interrupt(id, name);

    const { report, lines } = await reconcile();
    expect(report.leftAlone).toContain(name);
    expect(await entries()).toContain(name);
    expect(lines).toContainEqual(expect.objectContaining({ level: "info", message: "left alone: another host's repository step in progress", details: expect.objectContaining({ name, host: "other-host.example" }) }));
    await rename(path.join(world.gitRoot, name), world.platform.repositories.pathOf(id));
    await listConfigFiles(world.platform, { actor: owner, app: ref, env: "production" });
  });

  it("removes a stale ref lock with a log line, after which the next edit works; a fresh lock stays", async () => {
    const { owner, ref, id } = await buildApp();
    const repository = world.platform.repositories.pathOf(id);
    const { base } = await startConfigEdit(world.platform, { actor: owner, app: ref, env: "production", path: "a.json" });
    const stale = path.join(repository, "refs", "heads", "production.lock");
    const packed = path.join(repository, "packed-refs.lock");
    await writeFile(stale, "");
    await writeFile(packed, "");
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(stale, twoMinutesAgo, twoMinutesAgo);
    const fresh = path.join(repository, "HEAD.lock");
    await writeFile(fresh, "");
    await utimes(packed, twoMinutesAgo, twoMinutesAgo);

    const { report, lines } = await reconcile();
    expect(report.staleLocks).toEqual([`${id}.git/packed-refs.lock`, `${id}.git/refs/heads/production.lock`]);
    expect(lines).toContainEqual({ level: "info", details: { application: id, app: ref, lock: `${id}.git/refs/heads/production.lock` }, message: "removed a stale lock a crashed writer left" });
    expect((await readdir(path.join(repository, "refs", "heads"))).sort()).toEqual(["production"]);
    expect(await readdir(repository)).toContain("HEAD.lock");
    await rm(fresh);

    await editConfigFile(world.platform, { actor: owner, app: ref, env: "production", path: "a.json", content: "{}\n", base });
  });
});
