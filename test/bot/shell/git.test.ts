import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useEdgebotDataDir } from "../../support/edgebot-process.ts";
import { runGitClient, type GitRun } from "../../support/git-client.ts";
import { RunningShell } from "../../support/running-shell.ts";

function git(args: string[], cwd: string, home: string): Promise<GitRun> {
  return runGitClient(args, { cwd, home, author: { name: "Ana", email: "ana@localhost" } });
}

describe("the shell serves git over HTTP", () => {
  const edgebotHome = useEdgebotDataDir("shell-git");
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "edgebot-shell-git-client-"));
    env = edgebotHome.env();
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("so a newcomer clones with a token, pushes to staging and sees the announcement in the shell", { timeout: 240_000 }, async () => {
    const shell = new RunningShell(env);
    try {
      await shell.type("org create acme", /Created org acme/);
      await shell.type("org channel acme C0ACME", /\n\n/);
      await shell.type("app create www.acme.example --org acme --name www", /Created acme\/www/);
      await shell.type("env create acme/www staging", /Created acme\/www staging/);
      const created = await shell.type("token create", /git clone \S+/);
      const token = /`(edgebot_pat_[A-Za-z0-9_-]{43})`/.exec(created)![1]!;
      const cloneUrl = /git clone (http:\/\/127\.0\.0\.1:\d+)\/git\/<org>\/<app>\.git/.exec(created)![1]!;

      const url = new URL(`${cloneUrl}/git/acme/www.git`);
      url.username = "ana";
      url.password = token;
      const clone = path.join(home, "www");
      const cloned = await git(["clone", "--quiet", "--branch", "staging", url.toString(), clone], home, home);
      expect(cloned.stderr).toBe("");
      expect(cloned.code).toBe(0);

      await writeFile(path.join(clone, "varnish", "default.vcl"), "vcl 4.1;\n# from the newcomer\nbackend default none;\n");
      expect((await git(["commit", "--quiet", "-am", "First change from a clone"], clone, home)).code).toBe(0);
      const pushed = await git(["push", "--quiet", "origin", "staging"], clone, home);
      expect(pushed.code).toBe(0);
      expect(pushed.stderr).toMatch(/remote: edgebot: acme\/www staging now at [0-9a-f]{7} \(1 new commit\); announced in the org's channel\./);

      const announced = await shell.waitFor(/\[#C0ACME\] 1 commit pushed to acme\/www staging with git/);
      expect(announced).toContain("First change from a clone");
      expect(announced).toContain("by ana (ana@localhost)");
    } finally {
      expect(await shell.end()).toBe(0);
    }
    expect(shell.printed).not.toContain("git over HTTP is off");
  });
});
