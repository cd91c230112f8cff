import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseLeftover } from "../../src/repos/leftovers.ts";
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
    for (const file of ["../x", "/etc/passwd", "a/../../b", "--output=x", "a b", ".git/config", ".GIT/config", "x/.git./hooks", ".gitmodules"]) {
      await expect(repositories.readFile(1, "production", file)).rejects.toThrow(/refusing path/);
    }
    expect(await repositories.branches(1)).toEqual(["production"]);
  });

  it("finds every bad path, link, control character and message in the commits a tip brings, past the tip", async () => {
    await repositories.create(1, initial);
    const production = await repositories.head(1, "production");
    const withInput = (args: string[], input: string) =>
      new Promise<string>((resolve, reject) => {
        const child = execFile("git", args, { cwd: repositories.pathOf(1) }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim())));
        child.stdin!.end(input);
      });
    const blob = (content: string) => withInput(["hash-object", "-w", "--stdin"], content);
    const tree = (entries: string[]) => withInput(["mktree", "-z"], entries.map((entry) => `${entry}\0`).join(""));
    const config = await blob("[core]\n");
    const inner = await tree([`100644 blob ${config}\tconfig`]);
    const base = (await git(["ls-tree", "-z", production])).split("\0").filter(Boolean);
    const hostile = await tree([...base, `040000 tree ${inner}\t.g\u200cit`, `120000 blob ${config}\tlink`, `100644 blob ${await blob("a\u0007b\n")}\tbell.txt`, `040000 tree ${await tree([`040000 tree ${inner}\tGIT~1`])}\tvarnish`]);
    const first = await git(["commit-tree", "-p", production, "-m", "Bad", hostile]);
    const second = await git(["commit-tree", "-p", first, "-m", "Clean again\u001b[2J", `${production}^{tree}`]);
    const problems = await repositories.reviewNewCommits(1, second);
    expect(problems.sort()).toEqual([
      ".g\u200cit: names git's own directory (.git), which a repository cannot hold",
      "bell.txt: line 1 holds the control character U+0007 (only tab and newline are allowed)",
      `commit ${second.slice(0, 7)}: its message line 1 holds the control character U+001B (only tab and newline are allowed)`,
      "link: is a symbolic link: links are not kept here, commit the file itself",
      "varnish/GIT~1: names git's own directory (.git), which a repository cannot hold",
    ]);
    // What a branch holds already is not new.
    expect(await repositories.reviewNewCommits(1, production)).toEqual([]);
  });

  it("answers a file's size instead of reading it when it is over the limit", async () => {
    await repositories.create(1, initial);
    const production = await repositories.head(1, "production");
    expect(await repositories.findFileAt(1, production, "section.config.json", { maxBytes: 2 })).toEqual({ kind: "too_large", size: 3 });
    expect(await repositories.findFileAt(1, production, "section.config.json", { maxBytes: 3 })).toEqual({ kind: "file", content: Buffer.from("{}\n") });
  });

  it("reads a file at a branch's head, in a directory too, and follows the branch when it moves", async () => {
    expect(await repositories.findFileAtHead(1, "production", "section.config.json", { maxBytes: 1000 })).toBeUndefined();
    await repositories.create(1, initial);
    const at = (file: string, maxBytes = 1000) => repositories.findFileAtHead(1, "production", file, { maxBytes }).then((found) => found?.toString());
    expect(await at("section.config.json")).toBe("{}\n");
    expect(await at("varnish/default.vcl")).toBe("vcl 4.1;\n");
    for (const absent of ["nothing.json", "varnish", "varnish/default.vcl/deeper", "section.config.json/x"]) expect(await at(absent), absent).toBeUndefined();
    expect(await at("varnish/default.vcl", 3)).toBeUndefined();
    expect(await repositories.findFileAtHead(1, "staging", "section.config.json", { maxBytes: 1000 })).toBeUndefined();

    const head = await repositories.head(1, "production");
    const made = await repositories.commitFile(1, { base: head, file: "section.config.json", content: '{"a":1}\n', message: "Change", author: initial.author });
    if (made.kind !== "committed") throw new Error(made.kind);
    await repositories.moveBranch(1, "production", made.commit, head);
    expect(await at("section.config.json")).toBe('{"a":1}\n');
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

  it("builds a repository under a temporary name and moves it into place only when told", async () => {
    const prepared = await repositories.prepare(1, initial);
    const [building] = await readdir(root);
    expect(parseLeftover(building!)).toMatchObject({ kind: "creating", applicationId: 1, pid: process.pid, writer: "running" });
    expect(await repositories.exists(1)).toBe(false);
    await prepared.install();
    expect(await readdir(root)).toEqual(["1.git"]);
    expect(await repositories.branches(1)).toEqual(["production"]);

    const discarded = await repositories.prepare(2, initial);
    await discarded.discard();
    expect(await readdir(root)).toEqual(["1.git"]);
  });

  it("puts a set-aside repository back, or discards it, under a name that says whose it is", async () => {
    await repositories.create(1, initial);
    await repositories.create(2, initial);
    const aside = await repositories.setAside(1);
    expect(await repositories.exists(1)).toBe(false);
    expect((await repositories.survey()).leftovers).toMatchObject([{ kind: "deleting", applicationId: 1, writer: "running" }]);
    await aside.restore();
    expect(await repositories.branches(1)).toEqual(["production"]);

    await (await repositories.setAside(2)).discard();
    expect(await readdir(root)).toEqual(["1.git"]);
  });

  it("moves what nobody owns to .orphaned with the time, never deleting it", async () => {
    await repositories.create(3, initial);
    const to = await repositories.orphan("3.git");
    expect(to).toMatch(/^\.orphaned\/3\.git-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    expect(await readdir(root)).toEqual([".orphaned"]);
    expect(await promisify(execFile)("git", ["rev-parse", "refs/heads/production"], { cwd: path.join(root, to!) })).toBeTruthy();
    expect(await repositories.orphan("3.git")).toBeUndefined();
    expect((await repositories.survey()).repositories).toEqual([]);
  });

  it("takes over a branch lock left over a minute ago, and leaves a fresh one to its writer", async () => {
    await repositories.create(1, initial);
    await repositories.createBranch(1, "staging", "production");
    const production = await repositories.head(1, "production");
    const next = await git(["commit-tree", "-p", production, "-m", "Next", `${production}^{tree}`]);
    const lock = path.join(repositories.pathOf(1), "refs", "heads", "staging.lock");
    await writeFile(lock, "");
    await expect(repositories.moveBranch(1, "staging", next, production)).rejects.toBeInstanceOf(BranchMoved);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(lock, twoMinutesAgo, twoMinutesAgo);
    await repositories.moveBranch(1, "staging", next, production);
    expect(await git(["rev-parse", "refs/heads/staging"])).toBe(next);
    expect(await readdir(path.join(repositories.pathOf(1), "refs", "heads"))).toEqual(["production", "staging"]);
  });
});
