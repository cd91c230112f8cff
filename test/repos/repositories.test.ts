import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Repositories } from "../../src/repos/repositories.ts";

describe("application repositories", () => {
  let root: string;
  let repositories: Repositories;
  const initial = { branch: "production", files: { "section.config.json": "{}\n", "varnish/default.vcl": "vcl 4.1;\n" }, message: "Create", author: { name: "Ana", email: "ana@example.com" } };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "edgebot-repositories-"));
    repositories = new Repositories(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

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
