import { describe, expect, it } from "vitest";
import { createApplication, deleteApplication } from "../../src/core/applications.ts";
import { addDomain, removeDomain } from "../../src/core/domains.ts";
import { createEnvironment, deleteEnvironment } from "../../src/core/environments.ts";
import { AlreadyDone, Conflict, Invalid, NotFound } from "../../src/core/errors.ts";
import { onceForRequest } from "../../src/core/platform.ts";
import { createOrg, deleteOrg, renameOrg, setBillingContact, setOrgChannel } from "../../src/core/orgs.ts";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { applicationId, buildApplication, buildOrg, buildUser, diskState, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

/** Runs the same command twice at once, as a double click or a Slack retry would. */
async function twice<T>(command: () => Promise<T>) {
  const results = await Promise.allSettled([command(), command()]);
  const won = results.filter((result): result is PromiseFulfilledResult<Awaited<T>> => result.status === "fulfilled");
  const lost = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
  return { won, lost };
}

async function auditCount(action: string): Promise<number> {
  const rows = await world.platform.db.selectFrom("audit_events").select("id").where("action", "=", action).execute();
  return rows.length;
}

async function buildApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref } = await buildApplication(world.platform, owner, org);
  return { owner, org, ref, id: await applicationId(world.platform, ref) };
}

describe("the same command twice at once has one effect", () => {
  it("env create", async () => {
    const { owner, ref, id } = await buildApp();
    const audits = await auditCount("env.create");
    const { won, lost } = await twice(() => createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" }));
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(Conflict);
    expect(await world.platform.repositories.branches(id)).toEqual(["production", "staging"]);
    expect(await auditCount("env.create")).toBe(audits + 1);
  });

  it("env delete", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const audits = await auditCount("env.delete");
    const { won, lost } = await twice(() => deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm: "staging" }));
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(NotFound);
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
    expect(await auditCount("env.delete")).toBe(audits + 1);
  });

  it("domain add and remove", async () => {
    const { owner, ref } = await buildApp();
    const hostname = `${unique("dbl")}.example.com`;
    const added = await twice(() => addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname }));
    expect(added.won).toHaveLength(1);
    expect(added.lost[0]!.reason).toBeInstanceOf(Conflict);
    const removed = await twice(() => removeDomain(world.platform, { actor: owner, app: ref, env: "production", hostname }));
    expect(removed.won).toHaveLength(1);
    expect(removed.lost[0]!.reason).toBeInstanceOf(NotFound);
  });

  it("app create with --new-org", async () => {
    const owner = await buildUser(world.platform);
    const newOrg = unique("twin");
    const hostname = `${unique("twin")}.example.com`;
    const before = await diskState(world);
    const { won, lost } = await twice(() => createApplication(world.platform, { actor: owner, newOrg, hostname }));
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(Conflict);
    expect((await diskState(world)).entries).toHaveLength(before.entries.length + 1);
  });

  it("app delete", async () => {
    const { owner, ref, id } = await buildApp();
    const audits = await auditCount("app.delete");
    const { won, lost } = await twice(() => deleteApplication(world.platform, { actor: owner, app: ref, confirm: ref }));
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(NotFound);
    expect(await world.platform.repositories.exists(id)).toBe(false);
    expect(await auditCount("app.delete")).toBe(audits + 1);
  });

  it("org delete", async () => {
    const { owner, org, id } = await buildApp();
    const audits = await auditCount("org.delete");
    const before = await snapshot(world.platform);
    const { won, lost } = await twice(() => deleteOrg(world.platform, { actor: owner, org, confirm: org }));
    expect(won).toHaveLength(1);
    expect(won[0]!.value).toEqual({ slug: org, applications: 1 });
    expect(lost[0]!.reason).toBeInstanceOf(NotFound);
    expect(lost[0]!.reason.message).toBe(`org ${org} not found`);
    expect(await world.platform.repositories.exists(id)).toBe(false);
    expect(await auditCount("org.delete")).toBe(audits + 1);
    expect((await snapshot(world.platform)).orgs).toBe(before.orgs! - 1);
  });
});

describe("a change to something deleted at the same moment", () => {
  it("answers not found and writes no audit event for what is gone", async () => {
    const { owner, org, ref } = await buildApp();
    const results = await Promise.allSettled([
      deleteOrg(world.platform, { actor: owner, org, confirm: org }),
      renameOrg(world.platform, { actor: owner, org, name: "Too Late" }),
      setBillingContact(world.platform, { actor: owner, org, email: "late@example.com" }),
      setOrgChannel(world.platform, { actor: owner, org, channelId: "C0LATE123", teamId: "T0TEST" }),
      setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: "C0LATE123", teamId: "T0TEST" }),
    ]);
    expect(results[0]!.status).toBe("fulfilled");
    const trail = await world.platform.db.selectFrom("audit_events").select("action").where("org_slug", "=", org).orderBy("id").execute();
    for (const result of results.slice(1)) {
      // Each either ran before the delete or was told the org is gone; none claims a change to nothing.
      if (result.status === "rejected") expect(result.reason).toBeInstanceOf(NotFound);
    }
    const succeeded = results.slice(1).filter((result) => result.status === "fulfilled").length;
    expect(trail.map((row) => row.action).filter((action) => action !== "org.create" && action !== "app.create" && action !== "org.delete")).toHaveLength(succeeded);
    expect(trail.at(-1)!.action).toBe("org.delete");
  });
});

describe("a request carried out once by its key", () => {
  it("refuses the same key again, with nothing changed the second time", async () => {
    const owner = await buildUser(world.platform);
    const key = unique("request");
    const once = onceForRequest(world.platform, key);
    const org = unique("keyed");
    await createOrg(once, { actor: owner, slug: org });
    const before = await snapshot(world.platform);
    // The same request again, even asking for something else, is recognised and changes nothing.
    await expect(createOrg(once, { actor: owner, slug: unique("other") })).rejects.toBeInstanceOf(AlreadyDone);
    expect(await snapshot(world.platform)).toEqual(before);
  });

  it("records nothing for a request that failed, so a corrected one goes through", async () => {
    const owner = await buildUser(world.platform);
    const once = onceForRequest(world.platform, unique("request"));
    const before = await snapshot(world.platform);
    await expect(createOrg(once, { actor: owner, slug: "Not A Slug" })).rejects.toBeInstanceOf(Invalid);
    await expect(createOrg(once, { actor: owner, slug: (await buildOrg(world.platform, owner)) })).rejects.toBeInstanceOf(Conflict);
    expect((await snapshot(world.platform)).request_keys).toBe(before.request_keys);
    const slug = unique("fixed");
    await createOrg(once, { actor: owner, slug });
    expect(await world.platform.db.selectFrom("orgs").select("slug").where("slug", "=", slug).execute()).toEqual([{ slug }]);
  });

  it("has one effect when the same request arrives twice at once", async () => {
    const { owner, ref, id } = await buildApp();
    const once = onceForRequest(world.platform, unique("request"));
    const audits = await auditCount("env.create");
    const { won, lost } = await twice(() => createEnvironment(once, { actor: owner, app: ref, env: unique("env") }));
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(AlreadyDone);
    expect(await world.platform.repositories.branches(id)).toHaveLength(2);
    expect(await auditCount("env.create")).toBe(audits + 1);
  });
});
