import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { createAccessToken, revokeAccessToken } from "../../src/core/tokens.ts";
import { createSlackApp } from "../../src/bot/slack/app.ts";
import { gitPathPrefix } from "../../src/core/clone-urls.ts";
import { GitHttp } from "../../src/git-http/git-http.ts";
import { serveGitHttp } from "../../src/git-http/standalone-server.ts";
import { runGitClient, type GitRun } from "../support/git-client.ts";
import { FakeSlack } from "../support/fake-slack.ts";
import { testBotToken, testSigningSecret } from "../support/slack-app.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, commitOn, gitIn, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

describe("git over HTTP with a real git client", () => {
  let git: GitHttp;
  let server: Awaited<ReturnType<typeof serveGitHttp>>;
  let home: string;
  let owner: TestUser;
  let developer: TestUser;
  let viewer: TestUser;
  let outsider: TestUser;
  const tokens: Record<"owner" | "developer" | "viewer" | "outsider", string> = { owner: "", developer: "", viewer: "", outsider: "" };
  let app: string;
  let appId: number;
  let base: string;
  let pushesAnnounced = 0;

  /** Runs the git client with nothing of the machine's or the user's git configuration. */
  const runGit = (args: string[], cwd = home, env: Record<string, string> = {}): Promise<GitRun> =>
    runGitClient(args, { cwd, home, author: { name: "Dev", email: "dev@example.com" }, env });

  const urlWith = (token: string, ref = app) => `http://git:${token}@127.0.0.1:${server.port}/git/${ref}.git`;

  /** A fresh clone with the given token, in its own directory. */
  async function cloneAs(token: string): Promise<string> {
    const directory = await mkdtemp(path.join(home, "clone-"));
    const run = await runGit(["clone", "--quiet", urlWith(token), directory]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return directory;
  }

  /** Writes a file in a clone and commits it on `branch`. */
  async function commitIn(clone: string, branch: string, file: string, content: string, message: string): Promise<string> {
    expect((await runGit(["checkout", "--quiet", branch], clone)).code).toBe(0);
    await writeFile(path.join(clone, file), content);
    expect((await runGit(["commit", "--quiet", "-am", message], clone)).code).toBe(0);
    return (await runGit(["rev-parse", "HEAD"], clone)).stdout.trim();
  }

  const headOf = (branch: string) => gitIn(world, appId, ["rev-parse", `refs/heads/${branch}`]);
  const outboxPushes = () => world.platform.db.selectFrom("outbox").select(["kind", "payload", "channel_id"]).where("kind", "=", "git.pushed").orderBy("id").execute();

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "edgebot-git-client-"));
    owner = await buildUser(world.platform);
    developer = await buildUser(world.platform);
    viewer = await buildUser(world.platform);
    outsider = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    await addMember(world.platform, org, developer, "developer");
    await addMember(world.platform, org, viewer, "viewer");
    await setOrgChannel(world.platform, { actor: owner, org, channelId: "C0PUSHES", teamId: "T0TEST" });
    app = (await buildApplication(world.platform, owner, org)).ref;
    appId = await applicationId(world.platform, app);
    await createEnvironment(world.platform, { actor: owner, app, env: "staging" });
    await buildOrg(world.platform, outsider);
    for (const [role, user] of Object.entries({ owner, developer, viewer, outsider })) {
      tokens[role as keyof typeof tokens] = (await createAccessToken(world.platform, { actor: user })).token;
    }
    git = new GitHttp({ platform: world.platform, logger: pino({ level: "silent" }), onPushed: () => (pushesAnnounced += 1) });
    server = await serveGitHttp(git, { port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close();
    await git?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("lets a viewer clone every environment and fetch", async () => {
    const clone = await cloneAs(tokens.viewer);
    const config = JSON.parse(await readFile(path.join(clone, "section.config.json"), "utf8"));
    expect(config.proxychain).toEqual([{ name: "varnish", image: "varnish:7.4" }]);
    expect((await runGit(["branch", "-r"], clone)).stdout).toMatch(/origin\/production[\s\S]*origin\/staging/);
    expect((await runGit(["rev-parse", "origin/staging"], clone)).stdout.trim()).toBe(await headOf("staging"));
    const fetched = await runGit(["fetch", "--quiet", "origin"], clone);
    expect(fetched.code).toBe(0);
  });

  it("serves protocol v0 clients, and fetch requests git sends gzipped", async () => {
    const old = await runGit(["-c", "protocol.version=0", "clone", "--quiet", urlWith(tokens.viewer), path.join(home, "protocol-v0")]);
    expect(old.stderr).toBe("");
    expect(old.code).toBe(0);
    expect((await runGit(["rev-parse", "origin/staging"], path.join(home, "protocol-v0"))).stdout.trim()).toBe(await headOf("staging"));

    // Many local commits make the fetch request list many "have" lines: git gzips a body over 1 kB.
    // They are dated after everything the server has, so git offers them before any commit the
    // server knows (a tie in dates could end the negotiation in its first, small round).
    const clone = await cloneAs(tokens.viewer);
    await runGit(["checkout", "--quiet", "staging"], clone);
    const later = Math.floor(Date.now() / 1000) + 3600;
    for (let index = 0; index < 50; index++) {
      const date = `${later + index} +0000`;
      await runGit(["commit", "--quiet", "--allow-empty", "-m", `local ${index}`], clone, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
    }
    const ownerClone = await cloneAs(tokens.owner);
    const pushed = await commitIn(ownerClone, "staging", "varnish/default.vcl", "vcl 4.1;\n# for the fetch\n", "For the fetch");
    expect((await runGit(["push", "--quiet", "origin", "staging"], ownerClone)).code).toBe(0);
    const fetched = await runGit(["fetch", "origin"], clone, { GIT_TRACE_CURL: "1", GIT_TRACE_CURL_NO_DATA: "1" });
    expect(fetched.code).toBe(0);
    expect(fetched.stderr).toMatch(/Content-Encoding: gzip/i);
    expect((await runGit(["rev-parse", "origin/staging"], clone)).stdout.trim()).toBe(pushed);
  });

  it("refuses a viewer's push with the reason, and nothing moves", async () => {
    const clone = await cloneAs(tokens.viewer);
    const before = await headOf("staging");
    await commitIn(clone, "staging", "varnish/default.vcl", "vcl 4.1;\n# viewer\n", "a viewer's change");
    const push = await runGit(["push", "origin", "staging"], clone);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("remote: edgebot: you are a viewer of");
    expect(push.stderr).toContain("only an owner, admin or developer can push");
    expect(await headOf("staging")).toBe(before);
  });

  it("takes a developer's push to staging and announces it in the channel with the commits", async () => {
    const clone = await cloneAs(tokens.developer);
    const before = await headOf("staging");
    const first = await commitIn(clone, "staging", "varnish/default.vcl", "vcl 4.1;\n# cache more\n", "Cache more");
    const second = await commitIn(clone, "staging", "varnish/default.vcl", "vcl 4.1;\n# cache even more\n", "Cache even more");
    const announcedBefore = pushesAnnounced;
    const push = await runGit(["push", "origin", "staging"], clone);
    expect(push.code).toBe(0);
    expect(push.stderr).toContain(`remote: edgebot: ${app} staging now at ${second.slice(0, 7)} (2 new commits); announced in the org's channel.`);
    expect(await headOf("staging")).toBe(second);
    expect(pushesAnnounced).toBe(announcedBefore + 1);

    const [announcement] = (await outboxPushes()).slice(-1);
    expect(announcement).toMatchObject({
      channel_id: "C0PUSHES",
      payload: {
        app,
        env: "staging",
        count: 2,
        before,
        after: second,
        commits: [
          { sha: second, subject: "Cache even more" },
          { sha: first, subject: "Cache more" },
        ],
        actor: { name: developer.displayName, email: developer.email },
      },
    });
    const audit = await world.platform.db.selectFrom("audit_events").select(["action", "target", "details", "actor_id"]).where("action", "=", "git.push").orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ target: `${app} staging`, actor_id: developer.id, details: { from: before, to: second, commits: 2 } });
  });

  it("says a push was not announced when no channel is set, and how to set one, then names the application's channel once it is", async () => {
    const alone = await buildUser(world.platform);
    const org = await buildOrg(world.platform, alone);
    const quiet = (await buildApplication(world.platform, alone, org)).ref;
    const token = (await createAccessToken(world.platform, { actor: alone })).token;
    const clone = await mkdtemp(path.join(home, "quiet-"));
    expect((await runGit(["clone", "--quiet", urlWith(token, quiet), clone])).code).toBe(0);
    const pushesBefore = (await outboxPushes()).length;

    const first = await commitIn(clone, "production", "varnish/default.vcl", "vcl 4.1;\n# quiet\n", "Nobody hears this");
    const unheard = await runGit(["push", "origin", "production"], clone);
    expect(unheard.code).toBe(0);
    expect(unheard.stderr).toContain(`remote: edgebot: ${quiet} production now at ${first.slice(0, 7)} (1 new commit); not announced: no channel is set: \`app channel ${quiet} #channel\`.`);
    expect(unheard.stderr).not.toContain("announced in");
    expect(await outboxPushes()).toHaveLength(pushesBefore);

    await setApplicationChannel(world.platform, { actor: alone, app: quiet, channelId: "C0QUIETAPP", teamId: "T0TEST" });
    const second = await commitIn(clone, "production", "varnish/default.vcl", "vcl 4.1;\n# heard\n", "Heard this time");
    const heard = await runGit(["push", "origin", "production"], clone);
    expect(heard.stderr).toContain(`remote: edgebot: ${quiet} production now at ${second.slice(0, 7)} (1 new commit); announced in the application's channel.`);
    expect((await outboxPushes()).slice(-1)).toMatchObject([{ channel_id: "C0QUIETAPP" }]);
  });

  it("removes hook directories that ended edgebot processes left behind, and only those", async () => {
    const ended = await new Promise<number>((resolve) => {
      const child = spawn("true");
      child.on("exit", () => resolve(child.pid!));
    });
    const leftover = path.join(tmpdir(), `edgebot-hooks-${ended}-AbC123`);
    const running = path.join(tmpdir(), `edgebot-hooks-${process.ppid}-XyZ789`);
    await mkdir(path.join(leftover, "inside"), { recursive: true });
    await mkdir(running);
    const fresh = new GitHttp({ platform: world.platform, logger: pino({ level: "silent" }) });
    const freshServer = await serveGitHttp(fresh, { port: 0, host: "127.0.0.1" });
    try {
      const clone = await cloneAs(tokens.developer);
      const pushed = await commitIn(clone, "staging", "varnish/default.vcl", "vcl 4.1;\n# after a crash\n", "After a crash");
      const push = await runGit(["push", "--quiet", `http://git:${tokens.developer}@127.0.0.1:${freshServer.port}/git/${app}.git`, "staging"], clone);
      expect(push.code).toBe(0);
      expect(await headOf("staging")).toBe(pushed);
      const remaining = (await readdir(tmpdir())).filter((name) => name.startsWith("edgebot-hooks-"));
      expect(remaining).not.toContain(path.basename(leftover));
      expect(remaining).toContain(path.basename(running));
      expect(remaining.some((name) => name.startsWith(`edgebot-hooks-${process.pid}-`))).toBe(true);
    } finally {
      await freshServer.close();
      await fresh.close();
      await rm(running, { recursive: true, force: true });
    }
  });

  it("refuses a section.config.json that fails validation, showing why in git's output", async () => {
    const clone = await cloneAs(tokens.developer);
    const before = await headOf("staging");
    const pushesBefore = (await outboxPushes()).length;
    await commitIn(clone, "staging", "section.config.json", JSON.stringify({ proxychain: [], origin: { address: "origin.example.com" } }), "Empty the proxy chain");
    const push = await runGit(["push", "origin", "staging"], clone);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("remote: edgebot refused this push; nothing was changed:");
    expect(push.stderr).toMatch(/remote:\s+staging: section\.config\.json does not match its schema: proxychain: /);
    expect(push.stderr).toContain("! [remote rejected] staging -> staging (pre-receive hook declined)");

    await commitIn(clone, "staging", "section.config.json", "{ not json", "Break the JSON");
    const again = await runGit(["push", "origin", "staging"], clone);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("staging: section.config.json is not valid JSON");
    expect(await headOf("staging")).toBe(before);
    expect(await outboxPushes()).toHaveLength(pushesBefore);
  });

  it("refuses a developer's push to production; an owner's goes through", async () => {
    const clone = await cloneAs(tokens.developer);
    const before = await headOf("production");
    await commitIn(clone, "production", "varnish/default.vcl", "vcl 4.1;\n# straight to production\n", "Straight to production");
    const push = await runGit(["push", "origin", "production"], clone);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("production: pushing to production takes an owner or admin (you are a developer)");
    expect(await headOf("production")).toBe(before);

    const ownerClone = await cloneAs(tokens.owner);
    const after = await commitIn(ownerClone, "production", "varnish/default.vcl", "vcl 4.1;\n# reviewed\n", "Reviewed change");
    const ownerPush = await runGit(["push", "origin", "production"], ownerClone);
    expect(ownerPush.code).toBe(0);
    expect(await headOf("production")).toBe(after);
  });

  it("refuses new branches, deletions, tags and rewritten history", async () => {
    const clone = await cloneAs(tokens.owner);
    const branchesBefore = await world.platform.repositories.branches(appId);
    const created = await runGit(["push", "origin", "production:refs/heads/feature"], clone);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain("feature: is not an environment of");
    expect(created.stderr).toContain("create environments with `env create");

    const deleted = await runGit(["push", "origin", ":staging"], clone);
    expect(deleted.code).not.toBe(0);
    expect(await world.platform.repositories.branches(appId)).toEqual(branchesBefore);

    expect((await runGit(["tag", "v1"], clone)).code).toBe(0);
    const tagged = await runGit(["push", "origin", "v1"], clone);
    expect(tagged.code).not.toBe(0);
    expect(tagged.stderr).toContain("refs/tags/v1: only branches are kept here");

    const stagingHead = await headOf("staging");
    await runGit(["checkout", "--quiet", "staging"], clone);
    expect((await runGit(["reset", "--quiet", "--hard", "HEAD~1"], clone)).code).toBe(0);
    await commitIn(clone, "staging", "varnish/default.vcl", "vcl 4.1;\n# rewritten\n", "Rewritten");
    const forced = await runGit(["push", "--force", "origin", "staging"], clone);
    expect(forced.code).not.toBe(0);
    expect(await headOf("staging")).toBe(stagingHead);
    expect(await world.platform.repositories.branches(appId)).toEqual(branchesBefore);
  });

  it("refuses a revoked token, a bad token and no token with 401 and git's Basic challenge", async () => {
    const { token, id } = await createAccessToken(world.platform, { actor: viewer });
    await cloneAs(token);
    await revokeAccessToken(world.platform, { actor: viewer, id });
    for (const refused of [token, "edgebot_pat_notatokenatall", `${tokens.viewer.slice(0, -1)}x`]) {
      const clone = await runGit(["clone", "--quiet", urlWith(refused), path.join(home, `refused-${Math.random().toString(36).slice(2)}`)]);
      expect(clone.code).not.toBe(0);
      expect(clone.stderr).toContain("Authentication failed");
    }
    const anonymous = await fetch(`${base}/git/${app}.git/info/refs?service=git-upload-pack`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe('Basic realm="edgebot"');
    expect(await anonymous.text()).toContain("token create");
  });

  it("lists branches and HEAD exactly as git itself does, packed or loose", async () => {
    const local = `file://${world.platform.repositories.pathOf(appId)}`;
    const listings = async (options: string[], patterns: string[] = []) => {
      const [served, direct] = await Promise.all([runGit(["ls-remote", ...options, urlWith(tokens.viewer), ...patterns]), runGit(["ls-remote", ...options, local, ...patterns])]);
      expect(served.stderr).toBe("");
      expect(served.code).toBe(0);
      return { served: served.stdout, direct: direct.stdout };
    };
    const all = await listings(["--symref"]);
    expect(all.served).toMatch(/^ref: refs\/heads\/production\tHEAD\n[0-9a-f]{40}\tHEAD\n[\s\S]*refs\/heads\/staging\n$/);
    expect(all.served).toBe(all.direct);
    // A server option is git's to judge: that request goes to upload-pack as it came.
    for (const [options, patterns] of [[["--heads"], []], [["--symref"], ["HEAD"]], [[], ["staging"]], [["--server-option=trace"], []]] as const) {
      const listed = await listings([...options], [...patterns]);
      expect(listed.served).toBe(listed.direct);
    }
    // git's maintenance moves branches into packed-refs; a branch moved since then is loose again.
    await gitIn(world, appId, ["pack-refs", "--all", "--prune"]);
    const packed = await listings(["--symref"]);
    expect(packed.served).toBe(all.served);
    const moved = await commitOn(world, appId, "staging", "Moved after packing");
    const listed = await listings(["--symref"]);
    expect(listed.served).toBe(listed.direct);
    expect(listed.served).toContain(`${moved}\trefs/heads/staging`);
  });

  it("is served on the Slack app's HTTP server too, beside /healthz", async () => {
    const fake = new FakeSlack();
    await fake.start();
    const slack = createSlackApp({
      platform: world.platform,
      config: { port: 0, slashCommand: "/edge", slack: { signingSecret: testSigningSecret, botToken: testBotToken, appToken: undefined, clientId: undefined, clientSecret: undefined, stateSecret: undefined, tokenKeys: undefined, apiUrl: fake.apiUrl } },
      logger: pino({ level: "silent" }),
      clientRetries: 0,
      httpRoutes: [{ pathPrefix: gitPathPrefix, methods: ["GET", "POST"], handle: (request, response) => git.handle(request, response) }],
    });
    try {
      const { port } = await slack.start({ port: 0, host: "127.0.0.1" });
      const directory = path.join(home, "through-slack");
      const clone = await runGit(["clone", "--quiet", `http://git:${tokens.viewer}@127.0.0.1:${port}/git/${app}.git`, directory]);
      expect(clone.stderr).toBe("");
      expect(clone.code).toBe(0);
      expect((await runGit(["rev-parse", "origin/production"], directory)).stdout.trim()).toBe(await headOf("production"));
      expect((await fetch(`http://127.0.0.1:${port}/git/${app}.git/info/refs?service=git-upload-pack`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await slack.stop();
      await fake.stop();
    }
  });

  it("answers an unknown application and someone else's alike: 404, existence not leaked", async () => {
    const infoRefs = (ref: string, token: string) =>
      fetch(`${base}/git/${ref}.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Basic ${Buffer.from(`git:${token}`).toString("base64")}` } });
    const [org] = app.split("/");
    const theirs = await infoRefs(app, tokens.outsider);
    const missing = await infoRefs(`${org}/no-such-app`, tokens.outsider);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await theirs.text()).replace(app, "X")).toBe((await missing.text()).replace(`${org}/no-such-app`, "X"));

    const clone = await runGit(["clone", "--quiet", urlWith(tokens.outsider), path.join(home, "outsider")]);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain(`remote: edgebot: repository ${app} not found`);

    for (const odd of ["/git/../../etc/passwd", `/git/${app}.git/HEAD`, `/git/${app}.git/objects/info/packs`, `/git/${app}.git/info/refs?service=git-upload-archive`, "/git/ACME/X.git/info/refs?service=git-upload-pack"]) {
      expect((await fetch(`${base}${odd}`)).status).toBe(404);
    }
  });

  it("answers 503 with what to do for an application whose repository is missing, to its members only", async () => {
    const [org] = app.split("/");
    const lost = (await buildApplication(world.platform, owner, org!)).ref;
    await rm(world.platform.repositories.pathOf(await applicationId(world.platform, lost)), { recursive: true });
    const infoRefs = (token: string) =>
      fetch(`${base}/git/${lost}.git/info/refs?service=git-upload-pack`, { headers: { authorization: `Basic ${Buffer.from(`git:${token}`).toString("base64")}` } });

    const answer = await infoRefs(tokens.viewer);
    expect(answer.status).toBe(503);
    expect(await answer.text()).toBe(`edgebot: the repository of ${lost} is missing; restore it from a backup\n`);
    expect((await infoRefs(tokens.outsider)).status).toBe(404);
    const clone = await runGit(["clone", "--quiet", urlWith(tokens.viewer, lost), path.join(home, "lost")]);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain(`remote: edgebot: the repository of ${lost} is missing; restore it from a backup`);
  });
});
