import { describe, expect, it } from "vitest";
import { holdsFirstPacket, lsRefsAnswer, parseLsRefsRequest, requestCommand } from "../../src/git-http/ls-refs.ts";

/** pkt-lines as a git client writes them: "0000" flush, "0001" delimiter, anything else a line. */
function packets(...lines: string[]): Buffer {
  return Buffer.from(lines.map((line) => (line === "0000" || line === "0001" ? line : `${(Buffer.byteLength(line) + 4).toString(16).padStart(4, "0")}${line}`)).join(""));
}

const production = "a".repeat(40);
const staging = "b".repeat(40);
const refs = {
  head: { target: "refs/heads/production", commit: production },
  branches: new Map([
    ["refs/heads/production", production],
    ["refs/heads/staging", staging],
  ]),
};

describe("ls-refs answered without git", () => {
  // What git 2.39 sends for `git clone`.
  const cloneRequest = packets("command=ls-refs\n", "agent=git/2.39.5\n", "object-format=sha1\n", "0001", "peel\n", "symrefs\n", "unborn\n", "ref-prefix HEAD\n", "ref-prefix refs/heads/\n", "ref-prefix refs/tags/\n", "0000");

  it("reads the command from the first packet, once it has arrived whole", () => {
    expect(holdsFirstPacket(cloneRequest.subarray(0, 3))).toBe(false);
    expect(holdsFirstPacket(cloneRequest.subarray(0, 10))).toBe(false);
    expect(holdsFirstPacket(cloneRequest.subarray(0, 20))).toBe(true);
    expect(requestCommand(cloneRequest)).toBe("ls-refs");
    expect(requestCommand(packets("command=fetch\n", "0000"))).toBe("fetch");
    expect(requestCommand(Buffer.from("zzzz"))).toBeUndefined();
  });

  it("answers a clone's request: HEAD with its branch, then every branch", () => {
    const request = parseLsRefsRequest(cloneRequest);
    expect(request).toEqual({ symrefs: true, unborn: true, prefixes: ["HEAD", "refs/heads/", "refs/tags/"] });
    expect(lsRefsAnswer(request!, refs)).toEqual(packets(`${production} HEAD symref-target:refs/heads/production\n`, `${production} refs/heads/production\n`, `${staging} refs/heads/staging\n`, "0000"));
  });

  it("lists only what the prefixes name, and says HEAD is unborn only when asked", () => {
    const heads = parseLsRefsRequest(packets("command=ls-refs\n", "0001", "ref-prefix refs/heads/st\n", "0000"))!;
    expect(lsRefsAnswer(heads, refs)).toEqual(packets(`${staging} refs/heads/staging\n`, "0000"));
    const unbornHead = { head: { target: "refs/heads/production", commit: undefined }, branches: new Map() };
    expect(lsRefsAnswer({ symrefs: true, unborn: true, prefixes: [] }, unbornHead)).toEqual(packets("unborn HEAD symref-target:refs/heads/production\n", "0000"));
    expect(lsRefsAnswer({ symrefs: true, unborn: false, prefixes: [] }, unbornHead)).toEqual(packets("0000"));
  });

  it("leaves to git any request it does not fully understand", () => {
    for (const request of [
      packets("command=ls-refs\n", "object-format=sha256\n", "0001", "0000"),
      packets("command=ls-refs\n", "server-option=x\n", "0001", "0000"),
      packets("command=ls-refs\n", "0001", "some-future-argument\n", "0000"),
      packets("command=ls-refs\n", "0001", "ref-prefix \n", "0000"),
      packets("command=fetch\n", "0001", "done\n", "0000"),
      packets("command=ls-refs\n", "0001", "symrefs\n"),
      packets("command=ls-refs\n", "0001", "0000", "symrefs\n"),
      Buffer.from("0014command=ls-refs\n00ff"),
      Buffer.from("command=ls-refs\n"),
    ]) {
      expect(parseLsRefsRequest(request)).toBeUndefined();
    }
  });
});
