import { execFile } from "node:child_process";
import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makePrivateDirectory, removeDirectoriesOfEndedProcesses } from "../../src/repos/private-directories.ts";

const prefix = "edgebot-test-private-";

/** The pid of a process that has ended. */
const endedPid = () =>
  new Promise<number>((resolve) => {
    const child = execFile("true");
    child.on("exit", () => resolve(child.pid!));
  });

const ours = async () => (await readdir(tmpdir())).filter((name) => name.startsWith(prefix)).sort();

describe("a process's private directories", () => {
  afterEach(async () => {
    for (const name of await ours()) await rm(path.join(tmpdir(), name), { recursive: true, force: true });
  });

  it("are made for this process only, named after it", async () => {
    const directory = await makePrivateDirectory(prefix);
    expect(path.basename(directory)).toMatch(new RegExp(`^${prefix}${process.pid}-[A-Za-z0-9]{6}$`));
    const info = await stat(directory);
    expect(info.mode & 0o777).toBe(0o700);
    expect(info.uid).toBe(process.getuid!());
  });

  it("are removed once their process has ended, never while it runs, and never another prefix's", async () => {
    const ended = await endedPid();
    const left = `${prefix}${ended}-AbC123`;
    const leftEmpty = `${prefix}${ended}-DeF456`;
    const running = `${prefix}${process.ppid}-XyZ789`;
    const other = `edgebot-test-other-${ended}-AbC123`;
    await mkdir(path.join(tmpdir(), left, "hooks"), { recursive: true });
    await writeFile(path.join(tmpdir(), left, "hooks", "pre-receive"), "#!/bin/sh\n");
    for (const name of [leftEmpty, running, other]) await mkdir(path.join(tmpdir(), name));
    const own = path.basename(await makePrivateDirectory(prefix));
    try {
      removeDirectoriesOfEndedProcesses(prefix, { onlyEmpty: true });
      expect(await ours()).toEqual([left, running, own].sort());
      removeDirectoriesOfEndedProcesses(prefix, { onlyEmpty: false });
      expect(await ours()).toEqual([running, own].sort());
      expect(await readdir(tmpdir())).toContain(other);
    } finally {
      await rm(path.join(tmpdir(), other), { recursive: true, force: true });
    }
  });
});
