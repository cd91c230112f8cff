import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BranchMoved, Repositories } from "../../src/repos/repositories.ts";

describe("application repositories", () => {
  let root: string;
  let repositories: Repositories;
  const initial = { branch: "production", files: { "section.config.json": "{}\n", "varnish/default.vcl": "vcl 4.1;\n" }, message: "Create", author: { name: "Ana", email: "ana@example.com" } };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "edgebot-repositories-"));
    repositories = new Repositories(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  /** git itself in the first application's repository, committing as Ana. */
  const git = (args: string[]) =>
    promisify(execFile)("git", args, { cwd: repositories.pathOf(1), env: { ...process.env, GIT_AUTHOR_NAME: "Ana", GIT_AUTHOR_EMAIL: "ana@example.com", GIT_COMMITTER_NAME: "Ana", GIT_COMMITTER_EMAIL: "ana@example.com" } }).then(({ stdout }) => stdout.trim());

  it("refuses branch names and paths that git could read as options or that leave the tree", async () => {
    await repositories.create(1, initial);
    for (const branch of ["--upload-pack=x", "-b", "../x", "a b", "Prod", "x".repeat(40)]) {
      await expect(repositories.createBranch(1, branch, "production")).rejects.toThrow(/refusing branch name/);
    }
    for (const file of ["../x", "/etc/passwd", "a/../../b", "--output=x", "a b"]) {
      await expect(repositories.readFile(1, "production", file)).rejects.toThrow(/refusing path/);
    }
    expect(await repositories.branches(1)).toEqual(["production"]);
  });

  it("reads branch heads from loose and packed refs alike, a loose ref winning", async () => {
    await repositories.create(1, initial);
    await repositories.createBranch(1, "staging", "production");
    const production = await repositories.head(1, "production");
    await git(["pack-refs", "--all", "--prune"]);
    expect(await readdir(path.join(repositories.pathOf(1), "refs", "heads"))).toEqual([]);
    expect(await repositories.head(1, "staging")).toBe(production);
    expect(await repositories.findHead(1, "qa")).toBeUndefined();
    const empty = await git(["commit-tree", "-m", "Empty", `${production}^{tree}`]);
    await git(["update-ref", "refs/heads/staging", empty]);
    expect(await repositories.head(1, "staging")).toBe(empty);
    expect(await repositories.branches(1)).toEqual(["production", "staging"]);
    expect(await repositories.advertisedRefs(1)).toEqual({
      head: { target: "refs/heads/production", commit: production },
      branches: new Map([["refs/heads/production", production], ["refs/heads/staging", empty]]),
    });
    expect(await git(["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"])).toBe(`${production} refs/heads/production\n${empty} refs/heads/staging`);
  });

  it("moves a branch only from where the change expected it, by git's lock, leaving no lock behind", async () => {
    await repositories.create(1, initial);
    await repositories.createBranch(1, "staging", "production");
    const production = await repositories.head(1, "production");
    const next = await git(["commit-tree", "-p", production, "-m", "Next", `${production}^{tree}`]);
    const other = await git(["commit-tree", "-p", production, "-m", "Other", `${production}^{tree}`]);
    const heads = path.join(repositories.pathOf(1), "refs", "heads");

    await repositories.moveBranch(1, "staging", next, production);
    expect(await git(["rev-parse", "refs/heads/staging"])).toBe(next);
    // The second of two changes made from the same head finds the branch moved.
    await expect(repositories.moveBranch(1, "staging", other, production)).rejects.toBeInstanceOf(BranchMoved);
    expect(await git(["rev-parse", "refs/heads/staging"])).toBe(next);
    // Someone else (git itself, say) holds the branch's lock this instant: refused, their lock kept.
    await writeFile(path.join(heads, "staging.lock"), "");
    await expect(repositories.moveBranch(1, "staging", other, next)).rejects.toBeInstanceOf(BranchMoved);
    expect(await readdir(heads)).toEqual(["production", "staging", "staging.lock"]);
    await rm(path.join(heads, "staging.lock"));
    await repositories.moveBranch(1, "staging", other, next);
    expect(await git(["rev-parse", "refs/heads/staging"])).toBe(other);
    expect(await readdir(heads)).toEqual(["production", "staging"]);
    await git(["fsck", "--strict", "--no-dangling"]);
  });

  it("puts a set-aside repository back, and removes leftovers of interrupted deletions", async () => {
    await repositories.create(1, initial);
    await repositories.create(2, initial);
    const aside = await repositories.setAside(1);
    expect(await repositories.exists(1)).toBe(false);
    await aside.restore();
    expect(await repositories.branches(1)).toEqual(["production"]);

    await repositories.setAside(2); // a crash after the commit: never discarded
    expect(await repositories.removeLeftovers()).toHaveLength(1);
    expect(await readdir(root)).toEqual(["1.git"]);
  });
});
