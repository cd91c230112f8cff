import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../src/core/audit.ts";
import { diffEnvironments, editConfigFile, environmentLog, listConfigFiles, promoteEnvironment, readConfigFile, startConfigEdit } from "../../src/core/configs.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { Conflict, Forbidden, Invalid, NotFound } from "../../src/core/errors.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, diskState, failure, gitIn, snapshot, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

const config = (origin: string, image = "varnish:7.4") => `${JSON.stringify({ proxychain: [{ name: "varnish", image }], origin: { address: origin } }, null, 2)}\n`;

/** An application with a staging environment, its owner, and a developer and a viewer in its org. */
async function buildApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org);
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
  const developer = await buildUser(world.platform);
  const viewer = await buildUser(world.platform);
  await addMember(world.platform, org, developer, "developer");
  await addMember(world.platform, org, viewer, "viewer");
  return { owner, developer, viewer, org, ref, id: await applicationId(world.platform, ref) };
}

/** Edits a file the way the editor does: from the environment's head as it is now. */
async function edit(actor: TestUser, ref: string, env: string, path: string, content: string, message?: string) {
  const { base } = await startConfigEdit(world.platform, { actor, app: ref, env, path });
  return editConfigFile(world.platform, { actor, app: ref, env, path, content, message, base });
}

describe("config show and env log", () => {
  it("lists an environment's files with their sizes, and shows one", async () => {
    const { viewer, ref } = await buildApp();
    const listing = await listConfigFiles(world.platform, { actor: viewer, app: ref, env: "staging" });
    expect(listing.files.map((file) => file.path)).toEqual(["section.config.json", "varnish/default.vcl"]);
    const file = await readConfigFile(world.platform, { actor: viewer, app: ref, env: "staging", path: "section.config.json" });
    expect(file.size).toBe(listing.files[0]!.size);
    expect(JSON.parse(file.content!)).toMatchObject({ proxychain: [{ name: "varnish", image: "varnish:7.4" }] });
    expect(file.head).toBe(listing.head);
  });

  it("shows commits newest first with author, time and message, and validates --limit", async () => {
    const { owner, developer, ref } = await buildApp();
    await edit(developer, ref, "staging", "section.config.json", config("origin-1.example.com"), "Point staging at origin 1");
    await edit(developer, ref, "staging", "section.config.json", config("origin-2.example.com"), "Point staging at origin 2");
    const log = await environmentLog(world.platform, { actor: owner, app: ref, env: "staging", limit: "2" });
    expect(log.commits.map((commit) => [commit.subject, commit.authorEmail])).toEqual([
      ["Point staging at origin 2", developer.email],
      ["Point staging at origin 1", developer.email],
    ]);
    expect(Date.now() - log.commits[0]!.authoredAt.getTime()).toBeLessThan(60_000);
    expect((await environmentLog(world.platform, { actor: owner, app: ref, env: "staging" })).commits).toHaveLength(3);
    for (const limit of ["0", "51", "two", "1.5"]) {
      const error = await failure(environmentLog(world.platform, { actor: owner, app: ref, env: "staging", limit }));
      expect(error, limit).toBeInstanceOf(Invalid);
      expect((error as Invalid).field).toBe("limit");
    }
  });

  it("answers not found to someone outside the org, and for a file that is not there", async () => {
    const { ref } = await buildApp();
    const stranger = await buildUser(world.platform);
    expect(await failure(listConfigFiles(world.platform, { actor: stranger, app: ref, env: "staging" }))).toBeInstanceOf(NotFound);
    const { owner, ref: other } = await buildApp();
    const missing = await failure(readConfigFile(world.platform, { actor: owner, app: other, env: "staging", path: "nope.json" }));
    expect(missing).toBeInstanceOf(Invalid);
    expect(missing.message).toContain("has no file nope.json");
  });

  it("refuses to open a file over 1 MiB for showing or editing, without reading it", async () => {
    const { owner, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    const written = await world.platform.repositories.commitFile(id, { base: head, file: "big.vcl", content: "#".repeat(1536 * 1024), message: "Big", author: { name: "a", email: "a@b.c" } });
    if (written.kind !== "committed") throw new Error("not committed");
    await world.platform.repositories.moveBranch(id, "staging", written.commit, head);
    const shown = await failure(readConfigFile(world.platform, { actor: owner, app: ref, env: "staging", path: "big.vcl" }));
    expect(shown).toBeInstanceOf(Invalid);
    expect(shown.message).toBe("big.vcl is 1.5 MiB: edgebot opens files up to 1.0 MiB; read it with git");
    const edited = await failure(startConfigEdit(world.platform, { actor: owner, app: ref, env: "staging", path: "big.vcl" }));
    expect(edited.message).toBe("big.vcl is 1.5 MiB: edgebot opens files up to 1.0 MiB; change it with git");
    // Exactly 1 MiB is still shown.
    const fits = await world.platform.repositories.commitFile(id, { base: written.commit, file: "big.vcl", content: `${"#".repeat(1024 * 1024 - 1)}\n`, message: "Fits", author: { name: "a", email: "a@b.c" } });
    if (fits.kind !== "committed") throw new Error("not committed");
    await world.platform.repositories.moveBranch(id, "staging", fits.commit, written.commit);
    expect((await readConfigFile(world.platform, { actor: owner, app: ref, env: "staging", path: "big.vcl" })).size).toBe(1024 * 1024);
  });

  it("refuses a path like ../x and an option-looking branch name before git sees them", async () => {
    const { owner, ref, id } = await buildApp();
    for (const path of ["../x", "varnish/../../x", "/etc/passwd", "--output=x", "a//b"]) {
      const error = await failure(readConfigFile(world.platform, { actor: owner, app: ref, env: "staging", path }));
      expect(error, path).toBeInstanceOf(Invalid);
      expect(error.message).toContain("must be a path inside the repository");
    }
    const branch = await failure(diffEnvironments(world.platform, { actor: owner, app: ref, from: "--upload-pack=x", to: "production" }));
    expect(branch).toBeInstanceOf(Invalid);
    expect(branch.message).toContain("must be 1-31 lowercase letters");
    // The repositories refuse them too, whoever calls.
    const head = await world.platform.repositories.head(id, "staging");
    await expect(world.platform.repositories.files(id, "--upload-pack=x")).rejects.toThrow('refusing branch name "--upload-pack=x"');
    await expect(world.platform.repositories.findFileAt(id, head, "../x")).rejects.toThrow('refusing path "../x"');
    await expect(world.platform.repositories.commitFile(id, { base: head, file: "../x", content: "x", message: "m", author: { name: "a", email: "a@b.c" } })).rejects.toThrow("refusing path");
  });
});

describe("config edit", () => {
  it("commits the new content to the environment's branch as the acting user, with its audit event", async () => {
    const { developer, owner, org, ref, id } = await buildApp();
    const before = await world.platform.repositories.head(id, "staging");
    const edited = await edit(developer, ref, "staging", "section.config.json", config("origin.example.com"), "Fetch from the new origin");
    expect(edited).toEqual({ ref, env: "staging", path: "section.config.json", commit: await world.platform.repositories.head(id, "staging") });
    expect(await gitIn(world, id, ["rev-parse", `${edited.commit}^`])).toBe(before);
    expect(await gitIn(world, id, ["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s", edited.commit])).toBe(`${developer.displayName} <${developer.email}>|${developer.displayName} <${developer.email}>|Fetch from the new origin`);
    expect(await gitIn(world, id, ["show", "refs/heads/staging:section.config.json"])).toBe(config("origin.example.com").trim());
    expect(await gitIn(world, id, ["diff", "--name-only", before, edited.commit])).toBe("section.config.json");
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "config.edit", target: `${ref} staging`, details: { path: "section.config.json", commit: edited.commit, base: before }, actor: { email: developer.email } });
  });

  it("creates a new file, and keeps files ending with a newline", async () => {
    const { developer, ref, id } = await buildApp();
    const opened = await startConfigEdit(world.platform, { actor: developer, app: ref, env: "staging", path: "varnish/extra.vcl" });
    expect(opened).toMatchObject({ exists: false, content: "" });
    await editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "varnish/extra.vcl", content: "sub vcl_recv {\r\n}", base: opened.base });
    expect(await gitIn(world, id, ["cat-file", "-p", "refs/heads/staging:varnish/extra.vcl"])).toBe("sub vcl_recv {\n}");
    expect(await gitIn(world, id, ["log", "-1", "--format=%s", "refs/heads/staging"])).toBe("Edit varnish/extra.vcl");
  });

  it("refuses JSON that does not parse, a section.config.json off its schema, a path that clashes and no change, committing nothing", async () => {
    const { developer, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    const before = await snapshot(world.platform);
    const cases = [
      { path: "section.config.json", content: "{ not json", says: "section.config.json is not valid JSON" },
      { path: "other.json", content: "[1,", says: "other.json is not valid JSON" },
      { path: "section.config.json", content: JSON.stringify({ proxychain: [], origin: { address: "o" } }), says: "does not match its schema: proxychain" },
      { path: "section.config.json", content: JSON.stringify({ proxychain: [{ name: "varnish", image: "varnish:7.4" }] }), says: "does not match its schema: origin" },
    ];
    for (const { path, content, says } of cases) {
      const error = await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path, content, base: head }));
      expect(error, path + content).toBeInstanceOf(Invalid);
      expect(error.message).toContain(says);
      expect((error as Invalid).field).toBe("content");
    }
    for (const path of ["varnish", "section.config.json/inner.vcl"]) {
      const clash = await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path, content: "x", base: head }));
      expect(clash, path).toBeInstanceOf(Invalid);
      expect(clash.message).toContain("clashes with a directory of that name, or sits under a file");
    }
    const unchanged = await failure(edit(developer, ref, "staging", "varnish/default.vcl", await world.platform.repositories.readFile(id, "staging", "varnish/default.vcl")));
    expect(unchanged.message).toContain("nothing to commit");
    expect(await world.platform.repositories.head(id, "staging")).toBe(head);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("of two edits from the same head, commits the first and refuses the second: changed since you opened it", async () => {
    const { developer, owner, ref, id } = await buildApp();
    const first = await startConfigEdit(world.platform, { actor: developer, app: ref, env: "staging", path: "section.config.json" });
    const second = await startConfigEdit(world.platform, { actor: owner, app: ref, env: "staging", path: "section.config.json" });
    const saved = await editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: first.path, content: config("first.example.com"), base: first.base });
    const before = await snapshot(world.platform);
    const refused = await failure(editConfigFile(world.platform, { actor: owner, app: ref, env: "staging", path: second.path, content: config("second.example.com"), base: second.base }));
    expect(refused).toBeInstanceOf(Conflict);
    expect(refused.message).toContain("changed since you opened it");
    expect(await world.platform.repositories.head(id, "staging")).toBe(saved.commit);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("edits racing from the same head: exactly one commits, the others are refused, none is lost", async () => {
    const { developer, ref, id } = await buildApp();
    const base = await world.platform.repositories.head(id, "staging");
    const origins = ["a", "b", "c", "d"].map((name) => `${name}.example.com`);
    const results = await Promise.allSettled(
      origins.map((origin) => editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "section.config.json", content: config(origin), base })),
    );
    const committed = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    expect(committed).toHaveLength(1);
    for (const result of results) if (result.status === "rejected") expect(result.reason).toBeInstanceOf(Conflict);
    expect(await world.platform.repositories.head(id, "staging")).toBe(committed[0]!.commit);
    expect(await gitIn(world, id, ["rev-list", "--count", `${base}..refs/heads/staging`])).toBe("1");
  });

  it("lets developers edit staging but only owners and admins production; viewers edit nothing", async () => {
    const { owner, developer, viewer, ref, id } = await buildApp();
    const production = await world.platform.repositories.head(id, "production");
    const refused = await failure(startConfigEdit(world.platform, { actor: developer, app: ref, env: "production", path: "section.config.json" }));
    expect(refused).toBeInstanceOf(Forbidden);
    expect(refused.message).toBe("you are a developer here: only an owner or admin can change production's configuration");
    expect(await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "production", path: "section.config.json", content: config("x.example.com"), base: production }))).toBeInstanceOf(Forbidden);
    expect(await failure(startConfigEdit(world.platform, { actor: viewer, app: ref, env: "staging", path: "section.config.json" }))).toBeInstanceOf(Forbidden);
    expect(await world.platform.repositories.head(id, "production")).toBe(production);
    await edit(owner, ref, "production", "section.config.json", config("owner.example.com"));
    expect(await world.platform.repositories.head(id, "production")).not.toBe(production);
  });

  it("refuses .git and .gitmodules in any case and spelling as a path, committing nothing", async () => {
    const { owner, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    const before = await snapshot(world.platform);
    const modules = '[submodule "x"]\n\tpath = x\n\turl = --upload-pack=touch /tmp/pwned\n';
    for (const [path, says] of [
      [".git/config", "names git's own directory (.git)"],
      [".GIT/config", "names git's own directory (.git)"],
      ["varnish/.Git/hooks/post-update", "names git's own directory (.git)"],
      [".git./config", "names git's own directory (.git)"],
      ["git~1/config", "must be a path inside the repository"],
      [".gitmodules", "names .gitmodules: submodules are not kept here"],
      [".GitModules", "names .gitmodules: submodules are not kept here"],
    ] as const) {
      const opened = await failure(startConfigEdit(world.platform, { actor: owner, app: ref, env: "staging", path }));
      expect(opened, path).toBeInstanceOf(Invalid);
      expect(opened.message).toContain(says);
      expect((opened as Invalid).field).toBe("path");
      const saved = await failure(editConfigFile(world.platform, { actor: owner, app: ref, env: "staging", path, content: modules, base: head }));
      expect(saved, path).toBeInstanceOf(Invalid);
      expect(saved.message).toContain(says);
    }
    expect(await world.platform.repositories.head(id, "staging")).toBe(head);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("refuses control characters in a file and in the commit message, but takes tabs and newlines", async () => {
    const { developer, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    const before = await snapshot(world.platform);
    const content = await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "varnish/default.vcl", content: "vcl 4.1;\n# \u001b[2J\n", base: head }));
    expect(content).toBeInstanceOf(Invalid);
    expect(content.message).toBe("varnish/default.vcl: line 2 holds the control character U+001B (only tab and newline are allowed)");
    expect((content as Invalid).field).toBe("content");
    const message = await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "varnish/default.vcl", content: "vcl 4.1;\n", base: head, message: "Ring\u0007 the bell" }));
    expect(message).toBeInstanceOf(Invalid);
    expect(message.message).toContain("line 1 holds the control character U+0007");
    expect((message as Invalid).field).toBe("message");
    expect(await world.platform.repositories.head(id, "staging")).toBe(head);
    expect(await snapshot(world.platform)).toEqual(before);
    await editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "varnish/default.vcl", content: "vcl 4.1;\r\n\tbackend default none;\n", base: head, message: "Indent\n\nWith a body" });
    expect(await gitIn(world, id, ["show", "refs/heads/staging:varnish/default.vcl"])).toBe("vcl 4.1;\n\tbackend default none;");
  });

  it("refuses a starting point that is not a commit id, and a message too long", async () => {
    const { developer, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    expect(((await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "a.vcl", content: "x", base: "HEAD" }))) as Invalid).field).toBe("base");
    expect(((await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "a.vcl", content: "x", base: head, message: "m".repeat(501) }))) as Invalid).field).toBe("message");
    const unknown = await failure(editConfigFile(world.platform, { actor: developer, app: ref, env: "staging", path: "a.vcl", content: "x", base: "0".repeat(40) }));
    expect(unknown.message).toContain("changed since you opened it");
    expect(await world.platform.repositories.head(id, "staging")).toBe(head);
  });
});

describe("env diff and env promote", () => {
  it("shows what staging brings to production: files changed and the diff", async () => {
    const { developer, ref } = await buildApp();
    await edit(developer, ref, "staging", "section.config.json", config("new-origin.example.com"));
    await edit(developer, ref, "staging", "varnish/cache.vcl", "sub vcl_backend_response {}\n");
    const diff = await diffEnvironments(world.platform, { actor: developer, app: ref, from: "staging", to: "production" });
    expect(diff.files).toEqual([
      { status: "M", path: "section.config.json" },
      { status: "A", path: "varnish/cache.vcl" },
    ]);
    expect(diff.patch).toContain('+    "address": "new-origin.example.com"');
    expect(diff.patch).toContain("+sub vcl_backend_response {}");
    expect((await diffEnvironments(world.platform, { actor: developer, app: ref, from: "production", to: "staging" })).files).toEqual([]);
    expect(await failure(diffEnvironments(world.platform, { actor: developer, app: ref, from: "staging", to: "staging" }))).toBeInstanceOf(Invalid);
    expect(await failure(diffEnvironments(world.platform, { actor: developer, app: ref, from: "staging", to: "qa" }))).toBeInstanceOf(NotFound);
  });

  it("reads no more than 1 MiB of a diff, and says it was cut", async () => {
    const { developer, ref, id } = await buildApp();
    const head = await world.platform.repositories.head(id, "staging");
    const written = await world.platform.repositories.commitFile(id, { base: head, file: "big.vcl", content: "# a long line of a big file\n".repeat(60_000), message: "Big", author: { name: "a", email: "a@b.c" } });
    if (written.kind !== "committed") throw new Error("not committed");
    await world.platform.repositories.moveBranch(id, "staging", written.commit, head);
    const diff = await diffEnvironments(world.platform, { actor: developer, app: ref, from: "staging", to: "production" });
    expect(diff.files).toEqual([{ status: "A", path: "big.vcl" }]);
    expect(diff.patchCut).toBe(true);
    expect(Buffer.byteLength(diff.patch)).toBeLessThanOrEqual(1024 * 1024);
    expect(diff.patch.startsWith("diff --git a/big.vcl b/big.vcl\n")).toBe(true);
    expect(diff.patch.endsWith("+# a long line of a big file\n")).toBe(true);
  });

  it("fast-forwards production to staging and audits it; promoting again changes nothing", async () => {
    const { owner, org, ref, id } = await buildApp();
    const edited = await edit(owner, ref, "staging", "section.config.json", config("new-origin.example.com"));
    const promoted = await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" });
    expect(promoted).toEqual({ kind: "fast_forward", ref, from: "staging", to: "production", commit: edited.commit });
    expect(await world.platform.repositories.head(id, "production")).toBe(edited.commit);
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "env.promote", target: `${ref} production`, details: { from: "staging", commit: edited.commit, fastForward: true } });
    expect(await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" })).toMatchObject({ kind: "up_to_date", commit: edited.commit });
  });

  it("writes a merge commit by the acting user when both changed, keeping both changes", async () => {
    const { owner, ref, id } = await buildApp();
    const staged = await edit(owner, ref, "staging", "varnish/default.vcl", "vcl 4.1;\n\n# staging change\nbackend default none;\n");
    const hotfix = await edit(owner, ref, "production", "section.config.json", config("hotfix.example.com"));
    const promoted = await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" });
    expect(promoted.kind).toBe("merge");
    const commit = (promoted as { commit: string }).commit;
    expect(await world.platform.repositories.head(id, "production")).toBe(commit);
    expect(await gitIn(world, id, ["log", "-1", "--format=%P|%an <%ae>|%s", commit])).toBe(`${hotfix.commit} ${staged.commit}|${owner.displayName} <${owner.email}>|Promote staging into production`);
    expect(await gitIn(world, id, ["show", "refs/heads/production:varnish/default.vcl"])).toContain("# staging change");
    expect(await gitIn(world, id, ["show", "refs/heads/production:section.config.json"])).toContain("hotfix.example.com");
    // The merge commit is written without git: git must find it whole and well-formed.
    expect(await gitIn(world, id, ["fsck", "--strict", "--no-progress", "--no-dangling"])).toBe("");
  });

  it("on conflict changes nothing and lists the conflicting files", async () => {
    const { owner, ref, id } = await buildApp();
    await edit(owner, ref, "staging", "section.config.json", config("staging.example.com"));
    await edit(owner, ref, "staging", "varnish/default.vcl", "vcl 4.1;\n# staging\n");
    await edit(owner, ref, "production", "section.config.json", config("production.example.com"));
    await edit(owner, ref, "production", "varnish/default.vcl", "vcl 4.1;\n# production\n");
    const before = await snapshot(world.platform);
    const heads = await diskState(world, [id]);
    const production = await world.platform.repositories.head(id, "production");
    const outcome = await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production" });
    expect(outcome).toEqual({ kind: "conflict", ref, from: "staging", to: "production", files: ["section.config.json", "varnish/default.vcl"] });
    expect(await world.platform.repositories.head(id, "production")).toBe(production);
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world, [id])).toEqual(heads);
  });

  it("promotes only the heads a person saw: when either moved since, nothing is promoted", async () => {
    const { owner, ref } = await buildApp();
    await edit(owner, ref, "staging", "section.config.json", config("seen.example.com"));
    const head = async (env: string) => (await environmentLog(world.platform, { actor: owner, app: ref, env, limit: "1" })).commits[0]!.sha;
    const seen = { fromHead: await head("staging"), toHead: await head("production") };
    // Staging moves on after the diff was shown.
    await edit(owner, ref, "staging", "section.config.json", config("unseen.example.com"));
    const before = await snapshot(world.platform);
    const stale = await failure(promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production", expected: seen }));
    expect(stale).toBeInstanceOf(Conflict);
    expect(stale.message).toContain("changed since you looked: nothing was promoted");
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await head("production")).toBe(seen.toHead);

    const current = { fromHead: await head("staging"), toHead: seen.toHead };
    expect(await promoteEnvironment(world.platform, { actor: owner, app: ref, from: "staging", to: "production", expected: current })).toMatchObject({ kind: "fast_forward", commit: current.fromHead });
  });

  it("lets developers promote into staging but not into production", async () => {
    const { owner, developer, viewer, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "qa" });
    await edit(developer, ref, "qa", "section.config.json", config("qa.example.com"));
    const production = await world.platform.repositories.head(id, "production");
    const refused = await failure(promoteEnvironment(world.platform, { actor: developer, app: ref, from: "qa", to: "production" }));
    expect(refused).toBeInstanceOf(Forbidden);
    expect(refused.message).toContain("only an owner or admin can change production's configuration");
    expect(await world.platform.repositories.head(id, "production")).toBe(production);
    expect(await failure(promoteEnvironment(world.platform, { actor: viewer, app: ref, from: "qa", to: "staging" }))).toBeInstanceOf(Forbidden);
    expect((await promoteEnvironment(world.platform, { actor: developer, app: ref, from: "qa", to: "staging" })).kind).toBe("fast_forward");
  });
});
