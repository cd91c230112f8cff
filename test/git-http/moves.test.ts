import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestMove } from "../../src/core/moves.ts";
import { createAccessToken } from "../../src/core/tokens.ts";
import { GitHttp } from "../../src/git-http/git-http.ts";
import { serveGitHttp } from "../../src/git-http/standalone-server.ts";
import { runGitClient, type GitRun } from "../support/git-client.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, commitOn, gitIn, useWorld } from "../support/world.ts";

const world = useWorld();

describe("git over HTTP after an application moves to another org", () => {
  let git: GitHttp;
  let server: Awaited<ReturnType<typeof serveGitHttp>>;
  let home: string;

  const runGit = (args: string[]): Promise<GitRun> => runGitClient(args, { cwd: home, home, author: { name: "Dev", email: "dev@example.com" } });
  const url = (token: string, ref: string) => `http://git:${token}@127.0.0.1:${server.port}/git/${ref}.git`;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "edgebot-move-client-"));
    git = new GitHttp({ platform: world.platform, logger: pino({ level: "silent" }), onPushed: () => undefined });
    server = await serveGitHttp(git, { port: 0, host: "127.0.0.1" });
  });

  afterAll(async () => {
    await server?.close();
    await git?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("refuses the token of an agency developer outside the target org, and serves the client the same history at the new address", async () => {
    const owner = await buildUser(world.platform);
    const agencyDeveloper = await buildUser(world.platform);
    const clientViewer = await buildUser(world.platform);
    const agency = await buildOrg(world.platform, owner);
    const client = await buildOrg(world.platform, owner);
    await addMember(world.platform, agency, agencyDeveloper, "developer");
    await addMember(world.platform, client, clientViewer, "viewer");
    const { ref } = await buildApplication(world.platform, owner, agency);
    const id = await applicationId(world.platform, ref);
    await commitOn(world, id, "production", "built by the agency");
    const developerToken = (await createAccessToken(world.platform, { actor: agencyDeveloper })).token;
    const clientToken = (await createAccessToken(world.platform, { actor: clientViewer })).token;

    const before = await runGit(["clone", "--quiet", url(developerToken, ref), path.join(home, "before")]);
    expect(before.code).toBe(0);
    expect((await runGit(["clone", "--quiet", url(clientToken, ref), path.join(home, "not-yet")])).stderr).toContain(`repository ${ref} not found`);

    const moved = await requestMove(world.platform, { actor: owner, app: ref, to: client });
    expect(moved.kind).toBe("moved");
    const newRef = `${client}/${ref.split("/")[1]}`;

    for (const address of [ref, newRef]) {
      const refused = await runGit(["clone", "--quiet", url(developerToken, address), path.join(home, `after-${address.replace("/", "-")}`)]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`remote: edgebot: repository ${address} not found`);
    }
    // A fetch in the clone made before the move is refused too.
    const fetch = await runGitClient(["fetch", "--quiet", "origin"], { cwd: path.join(home, "before"), home, author: { name: "Dev", email: "dev@example.com" } });
    expect(fetch.code).not.toBe(0);
    expect(fetch.stderr).toContain(`repository ${ref} not found`);

    const clientClone = path.join(home, "client");
    expect((await runGit(["clone", "--quiet", url(clientToken, newRef), clientClone])).code).toBe(0);
    const clientLog = await runGitClient(["log", "--format=%H", "origin/production"], { cwd: clientClone, home, author: { name: "Dev", email: "dev@example.com" } });
    expect(clientLog.stdout.trim()).toBe(await gitIn(world, id, ["log", "--format=%H", "production"]));
  });
});
