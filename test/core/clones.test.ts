import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { cloneApplication } from "../../src/core/clones.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { addDomain } from "../../src/core/domains.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, commitOn, failure, gitIn, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

async function original() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org);
  const id = await applicationId(world.platform, ref);
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
  await commitOn(world, id, "production", "second commit");
  await commitOn(world, id, "production", "third commit");
  await commitOn(world, id, "staging", "only on staging");
  await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: `${unique("stage")}.example.com` });
  return { owner, org, ref, id };
}

describe("cloning an application", () => {
  it("copies production's whole history into a new application with production only and no domains", async () => {
    const { owner, org, ref, id } = await original();
    const name = unique("copy");
    const clone = await cloneApplication(world.platform, { actor: owner, app: ref, name });
    expect(clone).toEqual({ ref: `${org}/${name}`, from: ref, commits: 3 });
    const cloneId = await applicationId(world.platform, clone.ref);
    expect(await gitIn(world, cloneId, ["log", "--format=%H %an %s", "production"])).toBe(await gitIn(world, id, ["log", "--format=%H %an %s", "production"]));
    expect(await world.platform.repositories.branches(cloneId)).toEqual(["production"]);
    expect(await gitIn(world, cloneId, ["symbolic-ref", "HEAD"])).toBe("refs/heads/production");
    // No link back to the original, no tags.
    expect(await gitIn(world, cloneId, ["config", "--get-regexp", "^remote\\."]).catch(() => "none")).toBe("none");
    expect(await gitIn(world, cloneId, ["tag"])).toBe("");
    const environments = await world.platform.db.selectFrom("environments").select("name").where("application_id", "=", cloneId).execute();
    expect(environments).toEqual([{ name: "production" }]);
    const domains = await world.platform.db.selectFrom("domains as d").innerJoin("environments as e", "e.id", "d.environment_id").select("d.id").where("e.application_id", "=", cloneId).execute();
    expect(domains).toEqual([]);
    const audit = await world.platform.db.selectFrom("audit_events").select(["target", "details"]).where("org_slug", "=", org).where("action", "=", "app.clone").execute();
    expect(audit).toEqual([{ target: clone.ref, details: { from: ref, commit: await gitIn(world, id, ["rev-parse", "production"]) } }]);
    expect((await readdir(world.gitRoot)).filter((entry) => entry.startsWith(".creating-"))).toEqual([]);
  });

  it("clones into another org where the asker may create applications, and not where they may not", async () => {
    const { owner, ref } = await original();
    const client = await buildOrg(world.platform, owner);
    const copied = await cloneApplication(world.platform, { actor: owner, app: ref, name: "www", org: client });
    expect(copied.ref).toBe(`${client}/www`);

    const viewer = await buildUser(world.platform);
    const [org] = ref.split("/");
    await addMember(world.platform, org!, viewer, "viewer");
    const theirs = await buildOrg(world.platform, viewer);
    // A viewer reads the original, and creates in their own org; not in an org where they are a viewer.
    expect((await cloneApplication(world.platform, { actor: viewer, app: ref, name: "mine", org: theirs })).ref).toBe(`${theirs}/mine`);
    const before = await snapshot(world.platform);
    expect((await failure(cloneApplication(world.platform, { actor: viewer, app: ref, name: "again" }))).message).toMatch(/you are a viewer here: only an owner or admin or developer can change applications/);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("refuses a taken slug, a bad slug, a missing name, an unknown org or application, writing nothing", async () => {
    const { owner, org, ref } = await original();
    const [, slug] = ref.split("/");
    const stranger = await buildUser(world.platform);
    const theirs = await buildOrg(world.platform, stranger);
    const entries = async () => (await readdir(world.gitRoot)).sort();
    const before = { db: await snapshot(world.platform), disk: await entries() };
    const refused = async (input: { actor?: typeof owner; app?: string; name?: string | undefined; org?: string }) =>
      (await failure(cloneApplication(world.platform, { actor: input.actor ?? owner, app: input.app ?? ref, name: "name" in input ? input.name : "fresh", ...(input.org ? { org: input.org } : {}) }))).message;
    expect(await refused({ name: slug })).toBe(`${org} already has an application named ${slug}: choose another --name`);
    expect(await refused({ name: "Not A Slug" })).toMatch(/^--name /);
    expect(await refused({ name: undefined })).toBe("name the copy: add --name <slug>");
    expect(await refused({ org: theirs })).toBe(`org ${theirs} not found`);
    expect(await refused({ app: `${org}/nothing-here` })).toBe(`application ${org}/nothing-here not found`);
    expect(await refused({ actor: stranger, org: theirs })).toBe(`application ${ref} not found`);
    expect({ db: await snapshot(world.platform), disk: await entries() }).toEqual(before);
  });
});

describe("copying a repository aside", () => {
  it("leaves nothing behind when the copy fails", async () => {
    const { id } = await original();
    const entries = async () => (await readdir(world.gitRoot)).sort();
    const before = await entries();
    await expect(world.platform.repositories.prepareCopy(id, 999_999, "no-such-branch")).rejects.toThrow(/no-such-branch/);
    await expect(world.platform.repositories.prepareCopy(id, 999_999, "--upload-pack=x")).rejects.toThrow(/refusing branch name/);
    expect(await entries()).toEqual(before);
  });
});
