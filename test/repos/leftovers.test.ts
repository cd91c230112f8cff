import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { leftoverName, parseLeftover, thisHost } from "../../src/repos/leftovers.ts";

async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("temporary repository names", () => {
  it("carry the application, the host and the process that made them, read back as they were made", () => {
    const before = Date.now();
    const name = leftoverName("creating", 42);
    expect(name.startsWith(`.creating-42-${thisHost}-${process.pid}-`)).toBe(true);
    const leftover = parseLeftover(name)!;
    expect(leftover).toMatchObject({ name, kind: "creating", applicationId: 42, host: thisHost, pid: process.pid, writer: "running" });
    expect(leftover.madeAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it("tell an ended writer of this host from a running one, an earlier process with this pid from this one, and another host's", async () => {
    const dead = await endedPid();
    expect(parseLeftover(`.deleting-7-${thisHost}-${dead}-0badf00d-1700000000000`)?.writer).toBe("ended");
    expect(parseLeftover(`.deleting-7-${thisHost}-${process.pid}-0badf00d-1700000000000`)?.writer).toBe("ended");
    expect(parseLeftover(`.deleting-7-${thisHost}-${process.ppid}-0badf00d-1700000000000`)?.writer).toBe("running");
    // A host name with dashes and digits: the fields after it have fixed shapes.
    expect(parseLeftover(".creating-7-web-1-2-3-0badf00d-1700000000000")).toMatchObject({ applicationId: 7, host: "web-1-2", pid: 3, writer: "elsewhere" });
  });

  it("read the names older versions gave deletions as this host's, and nothing else", async () => {
    const dead = await endedPid();
    expect(parseLeftover(`.deleting-9-${dead}-1700000000000`)).toMatchObject({ kind: "deleting", applicationId: 9, host: thisHost, pid: dead, writer: "ended" });
    for (const other of ["9.git", ".orphaned", ".creating-9", ".deleting-x-1-2", ".creating-9-host-1-nothex!-5", "creating-9-h-1-0badf00d-5"]) expect(parseLeftover(other), other).toBeUndefined();
  });
});
