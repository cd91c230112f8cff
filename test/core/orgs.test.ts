import { describe, expect, it } from "vitest";
import { listAuditEvents } from "../../src/core/audit.ts";
import { Conflict, Invalid, NotFound } from "../../src/core/errors.ts";
import { createOrg, deleteOrg, listOrgs, renameOrg, setBillingContact, setOrgChannel, showOrg } from "../../src/core/orgs.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, diskState, failure, snapshot, unique, useWorld } from "../support/world.ts";

const world = useWorld();

describe("org create", () => {
  it("makes the creator its owner and audits it", async () => {
    const ana = await buildUser(world.platform);
    const slug = unique("acme");
    expect(await createOrg(world.platform, { actor: ana, slug, name: "Acme Ltd", billingEmail: "Billing@Acme.example" })).toEqual({
      slug,
      name: "Acme Ltd",
      role: "owner",
      applications: 0,
    });
    expect(await showOrg(world.platform, { actor: ana, org: slug })).toMatchObject({
      slug,
      name: "Acme Ltd",
      role: "owner",
      billingEmail: "billing@acme.example",
      members: 1,
      owners: [ana.displayName],
    });
    const audit = await listAuditEvents(world.platform, { actor: ana, org: slug });
    expect(audit.events).toMatchObject([{ action: "org.create", target: slug, details: { name: "Acme Ltd", billingEmail: "billing@acme.example" } }]);
  });

  it("names the org after its slug by default, and refuses a slug that is taken", async () => {
    const ana = await buildUser(world.platform);
    const ben = await buildUser(world.platform);
    const slug = unique("taken");
    expect((await createOrg(world.platform, { actor: ana, slug })).name).toBe(slug);
    const before = await snapshot(world.platform);
    const error = await failure(createOrg(world.platform, { actor: ben, slug }));
    expect(error).toBeInstanceOf(Conflict);
    expect(error.message).toBe(`the org slug ${slug} is taken: choose another`);
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await listOrgs(world.platform, { actor: ben })).toEqual([]);
  });
});

describe("org rename, billing and channel", () => {
  it("an owner renames the org; the answer counts its applications", async () => {
    const ana = await buildUser(world.platform);
    const org = await buildOrg(world.platform, ana);
    await buildApplication(world.platform, ana, org);
    await buildApplication(world.platform, ana, org);
    expect(await renameOrg(world.platform, { actor: ana, org, name: "Acme Group" })).toEqual({ slug: org, name: "Acme Group", role: "owner", applications: 2 });
    expect((await listOrgs(world.platform, { actor: ana }))[0]).toEqual({ slug: org, name: "Acme Group", role: "owner", applications: 2 });
    const audit = await listAuditEvents(world.platform, { actor: ana, org, limit: 1 });
    expect(audit.events[0]).toMatchObject({ action: "org.rename", details: { from: org, to: "Acme Group" } });
  });

  it("an owner sets the billing contact, and an admin the channel", async () => {
    const ana = await buildUser(world.platform);
    const admin = await buildUser(world.platform);
    const org = await buildOrg(world.platform, ana);
    await addMember(world.platform, org, admin, "admin");
    expect(await setBillingContact(world.platform, { actor: ana, org, email: "Invoices@Example.com" })).toEqual({ slug: org, billingEmail: "invoices@example.com" });
    expect(await setOrgChannel(world.platform, { actor: admin, org, channelId: "C0ALERTS1", teamId: "T0TEST" })).toEqual({ slug: org, channelId: "C0ALERTS1" });
    expect(await showOrg(world.platform, { actor: admin, org })).toMatchObject({ billingEmail: "invoices@example.com", channelId: "C0ALERTS1" });
    const audit = await listAuditEvents(world.platform, { actor: ana, org, limit: 2 });
    expect(audit.events.map((event) => event.action)).toEqual(["org.channel", "org.billing"]);
    expect(audit.events[1]).toMatchObject({ details: { from: null, to: "invoices@example.com" } });
  });

  it("asks for a channel mention rather than a name", async () => {
    const ana = await buildUser(world.platform);
    const org = await buildOrg(world.platform, ana);
    const before = await snapshot(world.platform);
    for (const channelId of ["#general", "general", "c0123", "U0123ABCD"]) {
      const error = await failure(setOrgChannel(world.platform, { actor: ana, org, channelId, teamId: "T0TEST" }));
      expect(error).toBeInstanceOf(Invalid);
      expect(error.message).toBe("name a channel with #, like #client-alerts");
    }
    expect(await snapshot(world.platform)).toEqual(before);
  });
});

describe("org delete", () => {
  it("asks for --confirm with the org's slug", async () => {
    const ana = await buildUser(world.platform);
    const org = await buildOrg(world.platform, ana);
    await buildApplication(world.platform, ana, org);
    const before = await snapshot(world.platform);
    const disk = await diskState(world);
    for (const confirm of [undefined, "", org.toUpperCase(), "yes"]) {
      const error = await failure(deleteOrg(world.platform, { actor: ana, org, confirm }));
      expect(error).toBeInstanceOf(Invalid);
      expect(error.message).toBe(`to delete org ${org} and everything in it, add --confirm ${org}`);
    }
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world)).toEqual(disk);
  });

  it("deletes the org, its applications and their repositories, and keeps the audit trail", async () => {
    const ana = await buildUser(world.platform);
    const ben = await buildUser(world.platform);
    const org = await buildOrg(world.platform, ana);
    await addMember(world.platform, org, ben, "viewer");
    const first = await buildApplication(world.platform, ana, org);
    const second = await buildApplication(world.platform, ana, org);
    const ids = [await applicationId(world.platform, first.ref), await applicationId(world.platform, second.ref)];
    const before = await snapshot(world.platform);

    expect(await deleteOrg(world.platform, { actor: ana, org, confirm: org })).toEqual({ slug: org, applications: 2 });

    for (const id of ids) expect(await world.platform.repositories.exists(id)).toBe(false);
    expect((await diskState(world)).entries.filter((entry) => entry.startsWith(".deleting-"))).toEqual([]);
    expect(await snapshot(world.platform)).toEqual({
      ...before,
      orgs: before.orgs! - 1,
      memberships: before.memberships! - 2,
      applications: before.applications! - 2,
      environments: before.environments! - 2,
      domains: before.domains! - 2,
      audit_events: before.audit_events! + 1,
    });
    for (const actor of [ana, ben]) {
      await expect(showOrg(world.platform, { actor, org })).rejects.toThrow(new NotFound(`org ${org} not found`));
      expect(await listOrgs(world.platform, { actor })).toEqual([]);
    }
    const trail = await world.platform.db.selectFrom("audit_events").select(["action", "target", "details"]).where("org_slug", "=", org).orderBy("id", "desc").executeTakeFirstOrThrow();
    expect(trail).toMatchObject({ action: "org.delete", target: org });
    expect([...(trail.details.applications as string[])].sort()).toEqual([first.ref, second.ref].map((ref) => ref.split("/")[1]).sort());
    // The slug is free again.
    await createOrg(world.platform, { actor: ben, slug: org });
  });
});
