import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEnvironment } from "../../src/core/environments.ts";
import { createAccessToken } from "../../src/core/tokens.ts";
import { GitHttp } from "../../src/git-http/git-http.ts";
import { serveGitHttp } from "../../src/git-http/standalone-server.ts";
import { runGitClient, type GitRun } from "../support/git-client.ts";
import { applicationId, buildApplication, buildOrg, buildUser, gitIn, useWorld } from "../support/world.ts";

const world = useWorld();

// Git's own commands refuse to build these trees, so they are written object by object
// (hash-object, mktree, commit-tree), as an attacker would, and pushed with the real client.
describe("pushes are checked before anything is stored", () => {
  const maxPushBytes = 64 * 1024;
  let git: GitHttp;
  let server: Awaited<ReturnType<typeof serveGitHttp>>;
  let home: string;
  let clone: string;
  let appId: number;
  let url: string;

  const runGit = (args: string[], cwd = clone): Promise<GitRun> => runGitClient(args, { cwd, home, author: { name: "Dev", email: "dev@example.com" } });

  const headOf = (branch: string) => gitIn(world, appId, ["rev-parse", `refs/heads/${branch}`]);

  /** Writes a blob into the clone's objects and returns its id. */
  async function blob(content: string | Buffer): Promise<string> {
    const file = path.join(home, `blob-${randomBytes(4).toString("hex")}`);
    await writeFile(file, content);
    const run = await runGit(["hash-object", "-w", file]);
    expect(run.code).toBe(0);
    return run.stdout.trim();
  }

  /** Writes a tree from `mode type id\tname` lines (names as they are, any bytes git takes). */
  async function tree(entries: Array<[mode: string, type: string, id: string, name: string]>): Promise<string> {
    const listing = entries.map(([mode, type, id, name]) => `${mode} ${type} ${id}\t${name}\0`).join("");
    const made = await new Promise<GitRun>((resolve) => {
      const child = execFile("git", ["mktree", "-z"], { cwd: clone, env: { PATH: process.env.PATH ?? "", HOME: home, GIT_CONFIG_NOSYSTEM: "1" } }, (error, stdout, stderr) =>
        resolve({ code: error ? 1 : 0, stdout, stderr }),
      );
      child.stdin!.end(listing);
    });
    expect(made.stderr).toBe("");
    return made.stdout.trim();
  }

  /** A commit on top of staging's head in the clone whose tree is staging's plus `extra` entries at the top. */
  async function commitWith(extra: Array<[string, string, string, string]>, message = "A hostile change"): Promise<string> {
    const listing = (await runGit(["ls-tree", "-z", "origin/staging"])).stdout.split("\0").filter(Boolean);
    const entries = listing.map((line) => {
      const [meta, name] = line.split("\t") as [string, string];
      const [mode, type, id] = meta.split(" ") as [string, string, string];
      return [mode, type, id, name] as [string, string, string, string];
    });
    const root = await tree([...entries, ...extra]);
    const run = await runGit(["commit-tree", root, "-p", "origin/staging", "-m", message]);
    expect(run.code).toBe(0);
    return run.stdout.trim();
  }

  /** Pushes `commit` to staging and expects it refused with `reason`, staging unchanged. */
  async function expectRefused(commit: string, reason: RegExp): Promise<GitRun> {
    const before = await headOf("staging");
    const push = await runGit(["push", "origin", `${commit}:refs/heads/staging`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(reason);
    expect(await headOf("staging")).toBe(before);
    // Git's quarantine is dropped with the refused push: not one of its objects is stored.
    await expect(gitIn(world, appId, ["cat-file", "-e", commit])).rejects.toThrow();
    return push;
  }

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "edgebot-checked-pushes-"));
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const app = (await buildApplication(world.platform, owner, org)).ref;
    appId = await applicationId(world.platform, app);
    await createEnvironment(world.platform, { actor: owner, app, env: "staging" });
    const { token } = await createAccessToken(world.platform, { actor: owner });
    git = new GitHttp({ platform: world.platform, logger: pino({ level: "silent" }), maxPushBytes });
    server = await serveGitHttp(git, { port: 0, host: "127.0.0.1" });
    url = `http://git:${token}@127.0.0.1:${server.port}/git/${app}.git`;
    clone = path.join(home, "clone");
    const cloned = await runGitClient(["clone", "--quiet", url, clone], { cwd: home, home, author: { name: "Dev", email: "dev@example.com" } });
    expect(cloned.code).toBe(0);
  });

  afterAll(async () => {
    await server?.close();
    await git?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("refuses a tree holding .git in any spelling git itself refuses on some system", async () => {
    const config = await blob("[core]\n\tfsmonitor = touch /tmp/pwned\n");
    const inner = await tree([["100644", "blob", config, "config"]]);
    for (const name of [".git", ".GIT", "git~1", "GIT~1", ".git.", ".git ", ".git::$INDEX_ALLOCATION", ".g\u200cit", "\ufeff.git", ".gi\u200ft"]) {
      const push = await expectRefused(await commitWith([["040000", "tree", inner, name]]), /remote: error: object [0-9a-f]{40}: hasDotgit: contains '\.git'/);
      expect(push.stderr, name).toContain("(unpacker error)");
    }
  });

  it("refuses .gitmodules, with a URL that is an option or without, and a symlink", async () => {
    const modules = await blob('[submodule "x"]\n\tpath = x\n\turl = --upload-pack=touch /tmp/pwned\n');
    await expectRefused(await commitWith([["100644", "blob", modules, ".gitmodules"]]), /gitmodulesUrl: disallowed submodule url: --upload-pack=/);
    const harmless = await blob('[submodule "x"]\n\tpath = x\n\turl = https://example.com/x.git\n');
    await expectRefused(await commitWith([["100644", "blob", harmless, ".gitmodules"]]), /staging: \.gitmodules: names \.gitmodules: submodules are not kept here/);
    await expectRefused(await commitWith([["100644", "blob", harmless, ".GitModules."]]), /names \.gitmodules/);
    const target = await blob("/etc/passwd");
    await expectRefused(await commitWith([["120000", "blob", target, "passwd"]]), /staging: passwd: is a symbolic link: links are not kept here/);
  });

  it("checks every new commit, not only the tip", async () => {
    // The link and the bell are edgebot's rules, not fsck's: the hook walks each commit's tree.
    const link = await commitWith([["120000", "blob", await blob("../../../etc/passwd"), "passwd"]]);
    const tipTree = (await runGit(["rev-parse", "origin/staging^{tree}"])).stdout.trim();
    const tip = (await runGit(["commit-tree", tipTree, "-p", link, "-m", "Take the link away again"])).stdout.trim();
    await expectRefused(tip, /remote:\s+staging: passwd: is a symbolic link/);
    const bell = (await runGit(["commit-tree", tipTree, "-p", "origin/staging", "-m", "Ring \u0007"])).stdout.trim();
    const after = (await runGit(["commit-tree", tipTree, "-p", bell, "-m", "Quiet again"])).stdout.trim();
    await expectRefused(after, new RegExp(`staging: commit ${bell.slice(0, 7)}: its message line 1 holds the control character U\\+0007`));
  });

  it("refuses control characters in a pushed text file and in a commit message, but keeps binary files", async () => {
    const escape = await blob("vcl 4.1;\n# \u001b[2J cleared your terminal\n");
    const refused = await expectRefused(await commitWith([["100644", "blob", escape, "notes.vcl"]]), /staging: notes\.vcl: line 2 holds the control character U\+001B/);
    expect(refused.stderr).toContain("edgebot refused this push; nothing was changed");
    await expectRefused(await commitWith([], "Innocent\u0007 subject"), /its message line 1 holds the control character U\+0007/);

    // A PNG holds NUL and control bytes: it is binary, kept as it is.
    const png = await blob(Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex"));
    const image = await commitWith([["100644", "blob", png, "logo.png"]], "Add the logo\n\nWith\ttabs and\r\nnewlines in the body.");
    const push = await runGit(["push", "origin", `${image}:refs/heads/staging`]);
    expect(push.stderr).toContain("now at");
    expect(push.code).toBe(0);
    expect(await headOf("staging")).toBe(image);
    await runGit(["fetch", "--quiet", "origin"]);
  });

  it("refuses a push larger than GIT_MAX_PUSH_BYTES with the reason", async () => {
    // Random bytes do not compress: the pack is larger than the limit.
    const big = await blob(randomBytes(maxPushBytes * 2));
    const before = await headOf("staging");
    const push = await runGit(["push", "origin", `${await commitWith([["100644", "blob", big, "big.bin"]])}:refs/heads/staging`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("remote: fatal: pack exceeds maximum allowed size");
    expect(await headOf("staging")).toBe(before);
    await expect(gitIn(world, appId, ["cat-file", "-e", big])).rejects.toThrow();
  });
});
