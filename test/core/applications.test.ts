import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createApplication, deleteApplication, listOrgApplications, showApplication } from "../../src/core/applications.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { listAuditEvents } from "../../src/core/audit.ts";
import { addMember, buildApplication, buildOrg, buildUser, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

describe("application create", () => {
  it("makes the first hostname production and commits the initial configuration as the creator", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const hostname = `${unique("shop")}.example.com`;
    const created = await createApplication(world.platform, { actor: owner, hostname: `https://${hostname.toUpperCase()}/cart?x=1`, org, origin: "origin.example.com:8443" });
    expect(created).toMatchObject({ org, hostname, reducedFrom: `https://${hostname.toUpperCase()}/cart?x=1`, origin: "origin.example.com:8443" });

    const shown = await showApplication(world.platform, { actor: owner, app: created.ref });
    expect(shown.environments).toEqual([{ name: "production", basedOn: null, liveAt: null, domains: [{ hostname, dnsStatus: "pending" }] }]);

    const { id } = await world.platform.db.selectFrom("applications").select("id").where("slug", "=", created.slug).executeTakeFirstOrThrow();
    expect(await world.platform.repositories.branches(id)).toEqual(["production"]);
    const config = JSON.parse(await world.platform.repositories.readFile(id, "production", "section.config.json"));
    expect(config).toEqual({ proxychain: [{ name: "varnish", image: "varnish:7.4" }], origin: { address: "origin.example.com:8443" } });
    expect(await world.platform.repositories.readFile(id, "production", "varnish/default.vcl")).toMatch(/^vcl 4\.1;/);
    // Those two files and nothing else: no file of git's own (an index lock) slipped in.
    expect(Object.keys(await world.platform.repositories.filesAt(id, "production")).sort()).toEqual(["section.config.json", "varnish/default.vcl"]);

    const audit = await listAuditEvents(world.platform, { actor: owner, org });
    expect(audit.events[0]).toMatchObject({ action: "app.create", target: created.ref, actor: { name: owner.displayName } });
  });

  it("lets exactly one of two concurrent creates for the same hostname win", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const hostname = `${unique("race")}.example.com`;
    const before = await readdir(world.gitRoot);
    const results = await Promise.allSettled([
      createApplication(world.platform, { actor: owner, hostname, org, name: unique("a") }),
      createApplication(world.platform, { actor: owner, hostname, org, name: unique("b") }),
    ]);
    const won = results.filter((result) => result.status === "fulfilled");
    const lost = results.filter((result) => result.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String((lost[0] as PromiseRejectedResult).reason.message)).toMatch(new RegExp(`${hostname} is already served by ${org}/`));
    expect((await readdir(world.gitRoot)).length).toBe(before.length + 1);
  });

  it("deletes the application with its repository, after confirmation", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const created = await createApplication(world.platform, { actor: owner, hostname: `${unique("gone")}.example.com`, org });
    const before = await snapshot(world.platform);
    await expect(deleteApplication(world.platform, { actor: owner, app: created.ref, confirm: undefined })).rejects.toThrow(/--confirm/);
    expect(await snapshot(world.platform)).toEqual(before);
    const reposBefore = (await readdir(world.gitRoot)).length;
    await deleteApplication(world.platform, { actor: owner, app: created.ref, confirm: created.ref });
    expect((await readdir(world.gitRoot)).length).toBe(reposBefore - 1);
    await expect(showApplication(world.platform, { actor: owner, app: created.ref })).rejects.toThrow(/not found/);
  });
});

describe("application overview of a member's orgs", () => {
  it("gives each of the member's orgs, their role, the first applications with environments and domains, and the full count", async () => {
    const owner = await buildUser(world.platform);
    const dev = await buildUser(world.platform);
    const busy = await buildOrg(world.platform, owner, unique("a-busy"));
    const empty = await buildOrg(world.platform, owner, unique("b-empty"));
    const elsewhere = await buildOrg(world.platform, owner);
    await addMember(world.platform, busy, dev, "developer");
    await addMember(world.platform, empty, dev, "viewer");
    const first = await createApplication(world.platform, { actor: owner, hostname: `${unique("www")}.example.com`, org: busy, name: "a-first" });
    const staging = `${unique("staging")}.example.com`;
    await createEnvironment(world.platform, { actor: owner, app: first.ref, env: "staging", domain: staging });
    await createApplication(world.platform, { actor: owner, hostname: `${unique("www")}.example.com`, org: busy, name: "b-second" });
    await createApplication(world.platform, { actor: owner, hostname: `${unique("www")}.example.com`, org: busy, name: "c-third" });
    await buildApplication(world.platform, owner, elsewhere);

    const overview = await listOrgApplications(world.platform, { actor: dev, applicationsPerOrg: 2 });
    expect(overview.map((org) => [org.slug, org.role, org.applications, org.shown.length])).toEqual([
      [busy, "developer", 3, 2],
      [empty, "viewer", 0, 0],
    ]);
    expect(overview[0]!.shown.map((app) => app.ref)).toEqual([`${busy}/a-first`, `${busy}/b-second`]);
    expect(overview[0]!.shown[0]!.environments).toEqual([
      { name: "production", domains: [{ hostname: first.hostname, dnsStatus: "pending" }] },
      { name: "staging", domains: [{ hostname: staging, dnsStatus: "pending" }] },
    ]);
  });
});
