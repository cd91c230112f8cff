import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { createApplication, deleteApplication, showApplication } from "../../src/core/applications.ts";
import { createEnvironment, deleteEnvironment } from "../../src/core/environments.ts";
import { deleteOrg } from "../../src/core/orgs.ts";
import { RepositoryMissing } from "../../src/core/errors.ts";
import type { Platform } from "../../src/core/platform.ts";
import { Repositories } from "../../src/repos/repositories.ts";
import { applicationId, buildApplication, buildOrg, buildUser, commitOn, diskState, failure, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

async function auditActions(): Promise<string[]> {
  const rows = await world.platform.db.selectFrom("audit_events").select("action").orderBy("id").execute();
  return rows.map((row) => row.action);
}

async function buildApp(name?: string) {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = name
    ? { ref: (await createApplication(world.platform, { actor: owner, org, hostname: `${unique("h")}.example.com`, name })).ref }
    : await buildApplication(world.platform, owner, org);
  return { owner, org, ref, id: await applicationId(world.platform, ref) };
}

describe("a git step that fails leaves database and disk as they were", () => {
  it("app create, when GIT_ROOT is a regular file", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const directory = await mkdtemp(path.join(tmpdir(), "edgebot-not-a-root-"));
    const file = path.join(directory, "repos");
    await writeFile(file, "not a directory\n");
    const broken: Platform = { ...world.platform, repositories: new Repositories(file) };
    try {
      const before = await snapshot(world.platform);
      const audit = await auditActions();

      const error = await failure(createApplication(broken, { actor: owner, org, hostname: `${unique("a")}.example.com` }));
      expect(error.message).toMatch(/EEXIST|ENOTDIR|not a directory|file already exists/i);
      const newOrg = unique("fresh");
      await failure(createApplication(broken, { actor: owner, newOrg, hostname: `${unique("b")}.example.com` }));

      expect(await snapshot(world.platform)).toEqual(before);
      expect(await auditActions()).toEqual(audit);
      expect(await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", newOrg).execute()).toEqual([]);
      expect((await stat(file)).isFile()).toBe(true);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it("env create, when the application's repository was deleted from under it", async () => {
    const { owner, ref, id } = await buildApp();
    await rm(world.platform.repositories.pathOf(id), { recursive: true, force: true });
    const before = await snapshot(world.platform);
    const audit = await auditActions();
    const disk = await diskState(world);

    const error = await failure(createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" }));
    expect(error).toBeInstanceOf(RepositoryMissing);
    expect(error.message).toBe(`the repository of ${ref} is missing; restore it from a backup`);

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await auditActions()).toEqual(audit);
    expect(await world.platform.db.selectFrom("environments").select("id").where("application_id", "=", id).where("name", "=", "staging").execute()).toEqual([]);
    expect(await diskState(world)).toEqual(disk);
  });
});

describe("a database that refuses the commit after the git step leaves disk as it was", () => {
  beforeAll(async () => {
    // A deferred constraint trigger runs at COMMIT: the change is refused after git has run.
    await sql`
      create function refuse_at_commit() returns trigger language plpgsql as $$
      declare subject jsonb := case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end;
      begin
        if coalesce(subject->>'name', subject->>'slug') like tg_argv[0] || '%' then
          raise exception 'the database refused % of %', lower(tg_op), tg_table_name;
        end if;
        return null;
      end $$`.execute(world.platform.db);
    await sql`create constraint trigger applications_refuse_doomed after insert on applications
      deferrable initially deferred for each row execute function refuse_at_commit('doomed')`.execute(world.platform.db);
    await sql`create constraint trigger environments_refuse_doomed after insert on environments
      deferrable initially deferred for each row execute function refuse_at_commit('doomed')`.execute(world.platform.db);
    await sql`create constraint trigger applications_refuse_delete after delete on applications
      deferrable initially deferred for each row execute function refuse_at_commit('kept')`.execute(world.platform.db);
    await sql`create constraint trigger environments_refuse_delete after delete on environments
      deferrable initially deferred for each row execute function refuse_at_commit('kept')`.execute(world.platform.db);
  });

  it("app create removes the repository it made", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const before = await snapshot(world.platform);
    const disk = await diskState(world);

    const error = await failure(createApplication(world.platform, { actor: owner, org, hostname: `${unique("c")}.example.com`, name: unique("doomed") }));
    expect(error.message).toBe("the database refused insert of applications");
    const newOrg = unique("neworg");
    await failure(createApplication(world.platform, { actor: owner, newOrg, hostname: `${unique("d")}.example.com`, name: unique("doomed") }));

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world)).toEqual(disk);
    expect(await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", newOrg).execute()).toEqual([]);
  });

  it("env create removes the branch it made", async () => {
    const { owner, ref, id } = await buildApp();
    const before = await snapshot(world.platform);
    const disk = await diskState(world, [id]);

    const error = await failure(createEnvironment(world.platform, { actor: owner, app: ref, env: "doomed" }));
    expect(error.message).toBe("the database refused insert of environments");

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
    expect(await diskState(world, [id])).toEqual(disk);
  });

  it("env delete puts the branch back where it was", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "kept", domain: `${unique("k")}.example.com` });
    const head = await commitOn(world, id, "kept", "work in progress");
    const before = await snapshot(world.platform);

    const error = await failure(deleteEnvironment(world.platform, { actor: owner, app: ref, env: "kept", confirm: "kept" }));
    expect(error.message).toBe("the database refused delete of environments");

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await world.platform.repositories.branches(id)).toEqual(["kept", "production"]);
    expect(await world.platform.repositories.head(id, "kept")).toBe(head);
  });

  it("app delete puts the repository back", async () => {
    const { owner, ref, id } = await buildApp(unique("kept"));
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const before = await snapshot(world.platform);
    const disk = await diskState(world);

    const error = await failure(deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref }));
    expect(error.message).toBe("the database refused delete of applications");

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world)).toEqual(disk);
    expect(await world.platform.repositories.branches(id)).toEqual(["production", "staging"]);
    expect((await showApplication(world.platform, { actor: owner, app: ref })).environments).toHaveLength(2);
  });

  it("org delete puts every repository back", async () => {
    const { owner, org, ref, id } = await buildApp(unique("kept"));
    const second = await createApplication(world.platform, { actor: owner, org, hostname: `${unique("e")}.example.com` });
    const secondId = await applicationId(world.platform, second.ref);
    const before = await snapshot(world.platform);
    const disk = await diskState(world);

    const error = await failure(deleteOrg(world.platform, { actor: owner, org, confirm: org }));
    expect(error.message).toBe("the database refused delete of applications");

    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world)).toEqual(disk);
    expect(await world.platform.repositories.exists(id)).toBe(true);
    expect(await world.platform.repositories.exists(secondId)).toBe(true);
    expect(ref).toMatch(new RegExp(`^${org}/`));
  });
});
