import { rm } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { addDomain, removeDomain } from "../../src/core/domains.ts";
import { createEnvironment, deleteEnvironment } from "../../src/core/environments.ts";
import { changeRole, removeMember } from "../../src/core/members.ts";
import { deliverDueNotifications, notify, type Notification } from "../../src/core/notifications.ts";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, failure, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

async function orgId(slug: string): Promise<number> {
  return (await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", slug).executeTakeFirstOrThrow()).id;
}

/** The outbox rows of one org, oldest first. */
async function outboxOf(org: string) {
  return world.platform.db
    .selectFrom("outbox")
    .select(["kind", "channel_id", "payload", "delivered_at", "attempts"])
    .where("org_id", "=", await orgId(org))
    .orderBy("id")
    .execute();
}

async function orgWithChannel(channel = `C${unique("ORG").toUpperCase()}`): Promise<{ owner: TestUser; org: string; channel: string }> {
  const owner = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  await setOrgChannel(world.platform, { actor: owner, org, channelId: channel, teamId: "T0TEST" });
  return { owner, org, channel };
}

describe("notifications are written with the change that causes them", () => {
  it("an application created in an org with a channel writes exactly one message to that channel", async () => {
    const { owner, org, channel } = await orgWithChannel();
    const { ref, hostname } = await buildApplication(world.platform, owner, org);

    const rows = await outboxOf(org);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      kind: "app.created",
      channel_id: channel,
      delivered_at: null,
      attempts: 0,
      payload: { app: ref, hostname, origin: hostname, actor: { name: owner.displayName, email: owner.email } },
    });
  });

  it("an org without a channel gets no outbox rows", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    const { ref } = await buildApplication(world.platform, owner, org);
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });

    expect(await outboxOf(org)).toEqual([]);
  });

  it("the application's own channel is preferred to the org's", async () => {
    const { owner, org } = await orgWithChannel();
    const { ref } = await buildApplication(world.platform, owner, org);
    const appChannel = `C${unique("APP").toUpperCase()}`;
    await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: appChannel, teamId: "T0TEST" });
    const hostname = `${unique("extra")}.example.com`;
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname });

    const rows = await outboxOf(org);
    expect(rows.map((row) => [row.kind, row.channel_id])).toEqual([
      ["app.created", rows[0]!.channel_id],
      ["domain.added", appChannel],
    ]);
    expect(rows[0]!.channel_id).not.toBe(appChannel);
  });

  it("a message goes with the workspace its channel was set in, and names who caused it", async () => {
    const owner = await buildUser(world.platform);
    const org = await buildOrg(world.platform, owner);
    await setOrgChannel(world.platform, { actor: owner, org, channelId: `C${unique("ORG").toUpperCase()}`, teamId: "TORGSPACE" });
    const { ref } = await buildApplication(world.platform, owner, org);
    await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: `C${unique("APP").toUpperCase()}`, teamId: "TAPPSPACE" });
    await addDomain(world.platform, { actor: owner, app: ref, env: "production", hostname: `${unique("ws")}.example.com` });

    const rows = await world.platform.db.selectFrom("outbox").select(["kind", "team_id", "actor_id"]).where("org_id", "=", await orgId(org)).orderBy("id").execute();
    expect(rows).toEqual([
      { kind: "app.created", team_id: "TORGSPACE", actor_id: owner.id },
      { kind: "domain.added", team_id: "TAPPSPACE", actor_id: owner.id },
    ]);
  });

  it("each change the issue lists writes its own kind, with the names a reader needs", async () => {
    const { owner, org, channel } = await orgWithChannel();
    const { ref } = await buildApplication(world.platform, owner, org);
    const hostname = `${unique("stg")}.example.com`;
    await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", domain: hostname });
    const extra = `${unique("more")}.example.com`;
    await addDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: extra });
    await removeDomain(world.platform, { actor: owner, app: ref, env: "staging", hostname: extra });
    await deleteEnvironment(world.platform, { actor: owner, app: ref, env: "staging", confirm: "staging" });
    const developer = await buildUser(world.platform);
    await addMember(world.platform, org, developer, "developer");
    await changeRole(world.platform, { actor: owner, org, member: { kind: "email", email: developer.email }, role: "admin" });
    await removeMember(world.platform, { actor: owner, org, member: { kind: "email", email: developer.email } });

    const rows = await outboxOf(org);
    expect(rows.every((row) => row.channel_id === channel)).toBe(true);
    const byOwner = { actor: { name: owner.displayName, email: owner.email } };
    const member = { name: developer.displayName, email: developer.email };
    expect(rows.map((row) => ({ kind: row.kind, payload: row.payload }))).toEqual([
      { kind: "app.created", payload: expect.objectContaining({ app: ref }) },
      { kind: "env.created", payload: { app: ref, env: "staging", from: "production", hostname, ...byOwner } },
      { kind: "domain.added", payload: { app: ref, env: "staging", hostname: extra, ...byOwner } },
      { kind: "domain.removed", payload: { app: ref, env: "staging", hostname: extra, ...byOwner } },
      { kind: "env.deleted", payload: { app: ref, env: "staging", domains: [hostname], ...byOwner } },
      { kind: "member.role_changed", payload: { org, member, from: "developer", to: "admin", ...byOwner } },
      { kind: "member.removed", payload: { org, member, role: "admin", ...byOwner } },
    ]);
  });

  it("a change that fails after writing its notification rolls the notification back too", async () => {
    const { owner, org } = await orgWithChannel();
    const { ref } = await buildApplication(world.platform, owner, org);
    // The git step of env create fails after the outbox row was inserted in its transaction.
    await rm(world.platform.repositories.pathOf(await applicationId(world.platform, ref)), { recursive: true, force: true });
    const before = await outboxOf(org);

    await failure(createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" }));

    expect(await outboxOf(org)).toEqual(before);
  });

  it("a refused change writes no notification", async () => {
    const { owner, org } = await orgWithChannel();
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    const { ref } = await buildApplication(world.platform, owner, org);
    const before = await outboxOf(org);

    await failure(addDomain(world.platform, { actor: viewer, app: ref, env: "production", hostname: `${unique("no")}.example.com` }));
    await failure(removeMember(world.platform, { actor: viewer, org, member: { kind: "email", email: owner.email } }));

    expect(await outboxOf(org)).toEqual(before);
  });
});

describe("delivering due notifications", () => {
  /** One notification waiting for a channel set in workspace `teamId` (null: set before workspaces were recorded). */
  async function waitingIn(teamId: string | null): Promise<number> {
    const { owner, org } = await orgWithChannel();
    const id = await orgId(org);
    await world.platform.db.updateTable("orgs").set({ channel_team_id: teamId }).where("id", "=", id).execute();
    await world.platform.db.transaction().execute((tx) => notify(tx, { org: { id }, actor: owner, kind: "domain.added", payload: { app: `${org}/www`, env: "production", hostname: `${unique("h")}.example.com` } }));
    const row = await world.platform.db.selectFrom("outbox").select("id").where("org_id", "=", id).executeTakeFirstOrThrow();
    return row.id;
  }

  /** One pass that delivers everything it is handed; says which ids it was handed. */
  async function pass(heldWorkspaces: Array<string | null>): Promise<number[]> {
    const handed: Notification[] = [];
    await deliverDueNotifications(
      world.platform.db,
      async (notification) => {
        handed.push(notification);
        return { delivered: true, messageTs: null };
      },
      { maxAttempts: 1, limit: 1000, heldWorkspaces: () => heldWorkspaces },
    );
    return handed.map((notification) => notification.id);
  }

  async function row(id: number) {
    return world.platform.db.selectFrom("outbox").select(["attempts", "next_attempt_at", "last_error", "delivered_at"]).where("id", "=", id).executeTakeFirstOrThrow();
  }

  it("a held workspace's notifications stay due and untouched while the others are delivered", async () => {
    const [alpha, beta] = [unique("TA").toUpperCase(), unique("TB").toUpperCase()];
    const [inAlpha, inBeta, inNone] = [await waitingIn(alpha), await waitingIn(beta), await waitingIn(null)];
    const alphaBefore = await row(inAlpha);

    // Rows of earlier tests are due too: only these three are looked at.
    const mine = (handed: number[]) => handed.filter((id) => [inAlpha, inBeta, inNone].includes(id));
    expect(mine(await pass([alpha, null]))).toEqual([inBeta]);
    expect(await row(inAlpha)).toEqual(alphaBefore);
    expect(mine(await pass([alpha]))).toEqual([inNone]);
    expect(await row(inAlpha)).toEqual(alphaBefore);

    const laterInNone = await waitingIn(null);
    expect(await pass([null])).toEqual([inAlpha]);
    expect(await pass([])).toEqual([laterInNone]);
    expect(await row(inAlpha)).toMatchObject({ attempts: 1, last_error: null, delivered_at: expect.any(Date) });
  });
});
