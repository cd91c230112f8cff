import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../src/core/audit.ts";
import { addDomain, listDomains } from "../../src/core/domains.ts";
import { createEnvironment, deleteEnvironment, listEnvironments, showEnvironment } from "../../src/core/environments.ts";
import { Conflict, Invalid, NotFound } from "../../src/core/errors.ts";
import {
  applicationId,
  buildApplication,
  buildOrg,
  buildUser,
  commitOn,
  diskState,
  failure,
  gitIn,
  snapshot,
  unique,
  useWorld,
} from "../support/world.ts";

const world = useWorld();

async function buildApp() {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  const { ref, hostname } = await buildApplication(world.platform, owner, org);
  return { owner, org, ref, hostname, id: await applicationId(world.platform, ref) };
}

describe("env create", () => {
  it("branches a new environment from the head of production", async () => {
    const { owner, org, ref, id } = await buildApp();
    const created = await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(created).toEqual({ ref, env: "staging", from: "production" });

    expect(await world.platform.repositories.branches(id)).toEqual(["production", "staging"]);
    const production = await gitIn(world, id, ["rev-parse", "refs/heads/production"]);
    expect(await gitIn(world, id, ["rev-parse", "refs/heads/staging"])).toBe(production);
    expect(await world.platform.repositories.head(id, "staging")).toBe(production);

    const { environments } = await listEnvironments(world.platform, { actor: owner, app: ref });
    expect(environments.map(({ name, basedOn, domains }) => ({ name, basedOn, domains }))).toEqual([
      { name: "production", basedOn: null, domains: 1 },
      { name: "staging", basedOn: "production", domains: 0 },
    ]);
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "env.create", target: `${ref} staging`, details: { from: "production" }, actor: { email: owner.email } });
  });

  it("branches from another environment with --from, at that environment's head", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const stagingHead = await commitOn(world, id, "staging", "try a new cache rule");
    expect(stagingHead).not.toBe(await world.platform.repositories.head(id, "production"));

    const created = await createEnvironment(world.platform, { actor: owner, app: ref, env: "qa-2", from: "staging" });
    expect(created).toEqual({ ref, env: "qa-2", from: "staging" });
    expect(await gitIn(world, id, ["rev-parse", "refs/heads/qa-2"])).toBe(stagingHead);
    expect((await showEnvironment(world.platform, { actor: owner, app: ref, env: "qa-2" })).basedOn).toBe("staging");
  });

  it("attaches a first domain with --domain", async () => {
    const { owner, org, ref } = await buildApp();
    const hostname = `${unique("staging")}.example.com`;
    const created = await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", domain: `https://${hostname.toUpperCase()}/` });
    expect(created).toEqual({ ref, env: "staging", from: "production", hostname });
    const shown = await showEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(shown.domains).toEqual([{ hostname, dnsStatus: "pending", dnsCheckedAt: null }]);
    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "env.create", details: { from: "production", hostname } });
  });

  it("refuses a name that is taken, production included, and leaves the branch alone", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const stagingHead = await commitOn(world, id, "staging");
    const before = await snapshot(world.platform);
    const disk = await diskState(world, [id]);
    for (const env of ["staging", "production"]) {
      const error = await failure(createEnvironment(world.platform, { actor: owner, app: ref, env }));
      expect(error).toBeInstanceOf(Conflict);
      expect(error.message).toBe(`${ref} already has an environment ${env}`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world, [id])).toEqual(disk);
    expect(await world.platform.repositories.head(id, "staging")).toBe(stagingHead);
  });

  it("refuses to branch from an environment that does not exist", async () => {
    const { owner, ref, id } = await buildApp();
    const before = await snapshot(world.platform);
    const disk = await diskState(world, [id]);
    const error = await failure(createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", from: "develop" }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toBe(`${ref} has no environment develop to branch from`);
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world, [id])).toEqual(disk);
  });

  it("refuses a --domain another application serves, and creates nothing", async () => {
    const { owner, ref, id, hostname } = await buildApp();
    const before = await snapshot(world.platform);
    const error = await failure(createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", domain: hostname }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toBe(`${hostname} is already served by ${ref} production`);
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
  });
});

describe("env delete", () => {
  it("never deletes production, even when confirmed", async () => {
    const { owner, ref, id } = await buildApp();
    const before = await snapshot(world.platform);
    for (const confirm of [undefined, "production"]) {
      const error = await failure(deleteEnvironment(world.platform, { actor: owner, app: ref, env: "production", confirm }));
      expect(error).toBeInstanceOf(Invalid);
      expect(error.message).toBe("production cannot be deleted: delete the application instead");
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
  });

  it("asks for --confirm with the environment's name", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    const before = await snapshot(world.platform);
    for (const confirm of [undefined, "", "STAGING", "production", ref]) {
      const error = await failure(deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm }));
      expect(error).toBeInstanceOf(Invalid);
      expect(error.message).toBe(`to delete ${ref} staging and its domains, add --confirm staging`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await world.platform.repositories.branches(id)).toEqual(["production", "staging"]);
  });

  it("removes the environment, its branch and its domains, and frees the hostnames", async () => {
    const { owner, org, ref, id } = await buildApp();
    const hostnames = [`${unique("a")}.example.com`, `${unique("b")}.example.com`];
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", domain: hostnames[0] });
    await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: hostnames[1]! });
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "preview" });
    const before = await snapshot(world.platform);

    const deleted = await deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm: "staging" });
    expect(deleted).toEqual({ ref, env: "staging", domains: 2 });

    expect(await world.platform.repositories.branches(id)).toEqual(["preview", "production"]);
    expect(await snapshot(world.platform)).toEqual({ ...before, environments: before.environments! - 1, domains: before.domains! - 2, audit_events: before.audit_events! + 1 });
    expect((await listEnvironments(world.platform, { actor: owner, app: ref })).environments.map((env) => env.name)).toEqual(["production", "preview"]);
    await expect(showEnvironment(world.platform, { actor: owner, app: ref, env: "staging" })).rejects.toThrow(new NotFound(`${ref} has no environment staging`));
    expect((await listDomains(world.platform, { actor: owner, app: ref })).domains.map((domain) => domain.hostname)).not.toContain(hostnames[0]);

    const audit = await listAuditEvents(world.platform, { actor: owner, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "env.delete", target: `${ref} staging`, details: { domains: expect.arrayContaining(hostnames) } });

    // The names are free again.
    await addDomain(world.platform, { actor: owner, app: ref, env: "preview", hostname: hostnames[0]! });
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    expect(await world.platform.repositories.head(id, "staging")).toBe(await world.platform.repositories.head(id, "production"));
  });

  it("deletes an environment whose branch is already gone from the repository", async () => {
    const { owner, ref, id } = await buildApp();
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
    await world.platform.repositories.deleteBranch(id, "staging");
    expect(await deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm: "staging" })).toEqual({ ref, env: "staging", domains: 0 });
    expect((await listEnvironments(world.platform, { actor: owner, app: ref })).environments.map((env) => env.name)).toEqual(["production"]);
  });

  it("answers not found for an environment that does not exist", async () => {
    const { owner, ref } = await buildApp();
    const before = await snapshot(world.platform);
    const error = await failure(deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm: "staging" }));
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).toBe(`${ref} has no environment staging`);
    expect(await snapshot(world.platform)).toEqual(before);
  });
});
