import { describe, expect, it } from "vitest";
import { asText, controlCharacterProblem, treeModeProblem, treePathProblem } from "../../src/repos/tree-rules.ts";

describe("what a repository may hold", () => {
  it("refuses .git in every spelling git's verify_path knows for NTFS and HFS+", () => {
    const spellings = [".git", ".GIT", ".Git", "git~1", "GIT~1", ".git.", ".git ", ".git. . ", ".git::$INDEX_ALLOCATION", ".git:stream", ".g\u200cit", ".g\u200dit", "\u200e.git", ".gi\u200ft", ".git\u202a", ".g\u202eit", ".g\u206ait", ".gi\u206ft", "\ufeff.git"];
    for (const name of spellings) {
      expect(treePathProblem(name), name).toMatch(/git's own directory/);
      expect(treePathProblem(`${name}/config`), name).toMatch(/git's own directory/);
      expect(treePathProblem(`varnish/${name}/hooks/pre-commit`), name).toMatch(/git's own directory/);
    }
    // A backslash separates on Windows.
    expect(treePathProblem("varnish\\.git\\config")).toMatch(/git's own directory/);
  });

  it("refuses .gitmodules in every spelling, and keeps names that only look alike", () => {
    for (const name of [".gitmodules", ".GITMODULES", ".gitmodules.", ".gitmodules ::$DATA", "gitmod~1", "GITMOD~4", "gi7eba~1", "gi7eb~12", ".gitm\u200codules"]) {
      expect(treePathProblem(name), name).toMatch(/submodules are not kept here/);
    }
    for (const name of [".gitignore", ".github", "git", ".gitx", "my.git", "git~2", "gitmod~5", ".git-hooks", "varnish/default.vcl", "section.config.json"]) {
      expect(treePathProblem(name), name).toBeUndefined();
    }
  });

  it("refuses empty, . and .. segments and control characters in names", () => {
    for (const name of ["a//b", "./a", "a/..", "a\nb", "a\u001bb"]) expect(treePathProblem(name), name).toBeDefined();
  });

  it("keeps files, executables and directories, and refuses links and submodules", () => {
    expect(treeModeProblem("100644")).toBeUndefined();
    expect(treeModeProblem("100755")).toBeUndefined();
    expect(treeModeProblem("40000")).toBeUndefined();
    expect(treeModeProblem("120000")).toMatch(/symbolic link/);
    expect(treeModeProblem("160000")).toMatch(/submodule/);
    expect(treeModeProblem("100664")).toMatch(/mode 100664/);
  });

  it("finds control characters in text but tab, newline and carriage return, and tells binary from text", () => {
    expect(controlCharacterProblem("a\tb\r\nc\n")).toBeUndefined();
    expect(controlCharacterProblem("ok\nstill ok\n\u001b[31m")).toBe("line 3 holds the control character U+001B (only tab and newline are allowed)");
    expect(controlCharacterProblem("\u0085")).toMatch(/U\+0085/);
    expect(controlCharacterProblem("\u007f")).toMatch(/U\+007F/);
    expect(asText(Buffer.from("héllo\n"))).toBe("héllo\n");
    expect(asText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBeUndefined();
    expect(asText(Buffer.from("a\0b"))).toBeUndefined();
  });
});
