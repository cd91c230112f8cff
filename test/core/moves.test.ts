import { describe, expect, it } from "vitest";
import { setApplicationChannel } from "../../src/core/applications.ts";
import { createEnvironment } from "../../src/core/environments.ts";
import { decideMove, expireMoves, requestMove, type MoveOutcome } from "../../src/core/moves.ts";
import { setOrgChannel } from "../../src/core/orgs.ts";
import { splitApplication } from "../../src/core/splits.ts";
import { addMember, applicationId, buildApplication, buildOrg, buildUser, commitOn, failure, gitIn, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();

/** An agency org with an app (two environments, a live domain, a channel), and a client org. */
async function handover() {
  const owner = await buildUser(world.platform);
  const agency = await buildOrg(world.platform, owner, unique("agency"));
  const client = await buildOrg(world.platform, owner, unique("client"));
  const { ref, hostname } = await buildApplication(world.platform, owner, agency);
  const id = await applicationId(world.platform, ref);
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging" });
  await commitOn(world, id, "production", "the agency's work");
  await world.platform.db.updateTable("domains").set({ dns_status: "passing" }).where("hostname", "=", hostname).execute();
  await world.platform.db.updateTable("environments").set({ live_at: new Date("2026-11-01T00:00:00Z") }).where("application_id", "=", id).where("name", "=", "production").execute();
  await setApplicationChannel(world.platform, { actor: owner, app: ref, channelId: "C0AGENCYAPP", teamId: "T0TEST" });
  return { owner, agency, client, ref, hostname, id, slug: ref.split("/")[1]! };
}

async function movesCount(): Promise<number> {
  return Number((await world.platform.db.selectFrom("application_moves").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
}

async function orgOf(id: number): Promise<string> {
  return (await world.platform.db.selectFrom("applications as a").innerJoin("orgs as o", "o.id", "a.org_id").select("o.slug").where("a.id", "=", id).executeTakeFirstOrThrow()).slug;
}

async function auditIn(org: string, action: string) {
  return world.platform.db.selectFrom("audit_events").select(["target", "details"]).where("org_slug", "=", org).where("action", "=", action).execute();
}

async function pendingMove(who: TestUser, app: string, to: string): Promise<Extract<MoveOutcome, { kind: "requested" }>["move"]> {
  const outcome = await requestMove(world.platform, { actor: who, app, to });
  if (outcome.kind !== "requested") throw new Error(`expected a request, got ${outcome.kind}`);
  return outcome.move;
}

describe("moving an application to another org", () => {
  it("applies at once for an owner of both orgs, with its history, environments, domains, DNS state; clears its channel; audits and announces in both", async () => {
    const { owner, agency, client, ref, hostname, id, slug } = await handover();
    await setOrgChannel(world.platform, { actor: owner, org: agency, channelId: "C0AGENCY", teamId: "T0TEST" });
    const logBefore = await gitIn(world, id, ["log", "--format=%H %s", "production"]);
    const branchesBefore = await world.platform.repositories.branches(id);

    const outcome = await requestMove(world.platform, { actor: owner, app: ref, to: client });
    expect(outcome).toMatchObject({ kind: "moved", environments: 2, domains: 1, move: { app: ref, movedTo: `${client}/${slug}`, status: "approved" } });

    expect(await orgOf(id)).toBe(client);
    expect(await gitIn(world, id, ["log", "--format=%H %s", "production"])).toBe(logBefore);
    expect(await world.platform.repositories.branches(id)).toEqual(branchesBefore);
    const environments = await world.platform.db.selectFrom("environments").select(["name", "live_at"]).where("application_id", "=", id).orderBy("name").execute();
    expect(environments).toEqual([
      { name: "production", live_at: new Date("2026-11-01T00:00:00Z") },
      { name: "staging", live_at: null },
    ]);
    const domain = await world.platform.db
      .selectFrom("domains as d")
      .innerJoin("environments as e", "e.id", "d.environment_id")
      .select(["e.application_id", "d.dns_status"])
      .where("d.hostname", "=", hostname)
      .executeTakeFirstOrThrow();
    expect(domain).toEqual({ application_id: id, dns_status: "passing" });
    const app = await world.platform.db.selectFrom("applications").select(["channel_id", "channel_team_id"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(app).toEqual({ channel_id: null, channel_team_id: null });

    for (const org of [agency, client]) {
      expect(await auditIn(org, "app.move")).toEqual([{ target: `${client}/${slug}`, details: expect.objectContaining({ from: ref, to: `${client}/${slug}`, environments: 2, domains: 1 }) }]);
    }
    const announced = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload"]).where("kind", "=", "app.moved").execute();
    const mine = announced.filter((row) => (row.payload as { from: string }).from === ref);
    // The agency's channel, and the client org (no channel) by DM to its owner.
    expect(mine.map((row) => row.channel_id).sort()).toEqual(["C0AGENCY", `U${owner.displayName.toUpperCase()}`].sort());
    expect(mine.every((row) => (row.payload as { app: string }).app === `${client}/${slug}`)).toBe(true);
  });

  it("refuses a slug the target already uses, and a second move while one waits, writing nothing", async () => {
    const { owner, client, ref, slug, id } = await handover();
    const clientId = (await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", client).executeTakeFirstOrThrow()).id;
    await world.platform.db.insertInto("applications").values({ org_id: clientId, slug, origin: "x.example" }).execute();
    const before = { ...(await snapshot(world.platform)), moves: await movesCount() };
    expect((await failure(requestMove(world.platform, { actor: owner, app: ref, to: client }))).message).toBe(
      `${client} already has an application named ${slug}: rename or delete one of them before moving`,
    );
    expect({ ...(await snapshot(world.platform)), moves: await movesCount() }).toEqual(before);
    expect(await orgOf(id)).not.toBe(client);

    const second = await handover();
    const admin = await buildUser(world.platform);
    await addMember(world.platform, second.agency, admin, "admin");
    await addMember(world.platform, second.client, admin, "developer");
    const move = await pendingMove(admin, second.ref, second.client);
    const third = await buildOrg(world.platform, admin);
    const again = await failure(requestMove(world.platform, { actor: admin, app: second.ref, to: third }));
    expect(again.message).toContain(`${second.ref} already has a move to ${second.client} waiting (move ${move.id}`);
    // Even the owner of both waits for the request to be decided.
    expect((await failure(requestMove(world.platform, { actor: second.owner, app: second.ref, to: second.client }))).message).toContain("already has a move");
  });

  it("refuses bad input, unknown orgs and people without the right, clearly and writing nothing", async () => {
    const { owner, agency, client, ref } = await handover();
    const developer = await buildUser(world.platform);
    await addMember(world.platform, agency, developer, "developer");
    await addMember(world.platform, client, developer, "admin");
    const stranger = await buildUser(world.platform);
    const strangers = await buildOrg(world.platform, stranger);
    const before = { ...(await snapshot(world.platform)), moves: await movesCount() };
    const refused = async (actor: TestUser, app: string, to: string | undefined) => (await failure(requestMove(world.platform, { actor, app, to }))).message;
    expect(await refused(owner, ref, undefined)).toBe("say which org to move it to: add --to <org>");
    expect(await refused(owner, ref, agency)).toBe(`${ref} is already in ${agency}: name another org with --to`);
    expect(await refused(owner, ref, "Not A Slug")).toBe("org Not A Slug not found");
    expect(await refused(owner, ref, strangers)).toBe(`org ${strangers} not found`);
    expect(await refused(owner, `${agency}/no-such-app`, client)).toBe(`application ${agency}/no-such-app not found`);
    expect(await refused(owner, "bad//ref", client)).toMatch(/is not an application/);
    expect(await refused(developer, ref, client)).toBe(`you are a developer of ${agency}: only an owner or admin can move an application out of its org`);
    expect(await refused(stranger, ref, strangers)).toBe(`application ${ref} not found`);
    expect({ ...(await snapshot(world.platform)), moves: await movesCount() }).toEqual(before);
  });

  it("keeps splits with their original: neither moves alone", async () => {
    const { owner, client, ref, agency } = await handover();
    await splitApplication(world.platform, { actor: owner, app: ref, prefix: "/blog/", name: unique("blog") });
    expect((await failure(requestMove(world.platform, { actor: owner, app: ref, to: client }))).message).toMatch(/has splits .* delete them before moving it/);
    const split = (await world.platform.db.selectFrom("applications").select("slug").where("split_prefix", "=", "/blog/").orderBy("id", "desc").executeTakeFirstOrThrow()).slug;
    expect((await failure(requestMove(world.platform, { actor: owner, app: `${agency}/${split}`, to: client }))).message).toMatch(/is a split of another application/);
  });

  it("waits for the target's owner or admin, who alone may approve, once", async () => {
    const { owner, agency, client, ref, id, slug } = await handover();
    // The agency's admin is only a developer in the client's org: the client approves.
    const agent = await buildUser(world.platform);
    await addMember(world.platform, agency, agent, "admin");
    await addMember(world.platform, client, agent, "developer");
    const clientAdmin = await buildUser(world.platform);
    await addMember(world.platform, client, clientAdmin, "admin");
    const clientViewer = await buildUser(world.platform);
    await addMember(world.platform, client, clientViewer, "viewer");
    const outsider = await buildUser(world.platform);

    const move = await pendingMove(agent, ref, client);
    expect(move).toMatchObject({ app: ref, to: client, status: "pending", requestedBy: agent.displayName });
    expect(move.expiresAt.getTime() - move.createdAt.getTime()).toBe(48 * 3600 * 1000);
    expect(await orgOf(id)).toBe(agency);
    expect(await auditIn(agency, "app.move_request")).toEqual([{ target: ref, details: { move: move.id, to: client } }]);
    // Asked of the client's owners and admins directly (the client org has no channel).
    const asked = await world.platform.db.selectFrom("outbox").select("channel_id").where("kind", "=", "app.move_requested").where("org_id", "=", (await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", client).executeTakeFirstOrThrow()).id).execute();
    expect(asked.map((row) => row.channel_id).sort()).toEqual([`U${owner.displayName.toUpperCase()}`, `U${clientAdmin.displayName.toUpperCase()}`].sort());

    const decide = (actor: TestUser) => decideMove(world.platform, { actor, id: move.id, decision: "approve" });
    expect((await failure(decide(outsider))).message).toBe(`move ${move.id} not found`);
    expect((await failure(decide(clientViewer))).message).toBe(`you are a viewer of ${client}: only an owner or admin of ${client} can decide what moves into it`);
    expect((await failure(decide(agent))).message).toMatch(/you are a developer of/);
    expect((await failure(decideMove(world.platform, { actor: clientAdmin, id: "twelve", decision: "approve" }))).message).toBe("twelve is not a move id: use the number of the move's message");
    expect(await orgOf(id)).toBe(agency);

    const results = await Promise.allSettled([decide(clientAdmin), decide(owner), decide(clientAdmin)]);
    const moved = results.filter((result) => result.status === "fulfilled");
    expect(moved).toHaveLength(1);
    for (const result of results) if (result.status === "rejected") expect((result.reason as Error).message).toMatch(new RegExp(`move ${move.id} was already approved by .* the application is ${client}/${slug}`));
    expect(await orgOf(id)).toBe(client);
    expect(await auditIn(client, "app.move")).toHaveLength(1);
    expect(await auditIn(agency, "app.move")).toHaveLength(1);
    const decided = await world.platform.db.selectFrom("outbox").select(["channel_id", "payload"]).where("kind", "=", "app.move_decided").where("channel_id", "=", `U${agent.displayName.toUpperCase()}`).execute();
    expect(decided).toEqual([{ channel_id: `U${agent.displayName.toUpperCase()}`, payload: expect.objectContaining({ move: move.id, status: "approved" }) }]);
    // Each copy of the request is edited to show the outcome.
    const settled = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "app.move_settled").execute();
    expect(settled.filter((row) => (row.payload as { move: number }).move === move.id)).toHaveLength(2);
  });

  it("ends at a denial with its reason, leaving the application where it was", async () => {
    const { agency, client, ref, id } = await handover();
    const agent = await buildUser(world.platform);
    await addMember(world.platform, agency, agent, "owner");
    const clientAdmin = await buildUser(world.platform);
    await addMember(world.platform, client, clientAdmin, "admin");
    await addMember(world.platform, client, agent, "viewer");
    const move = await pendingMove(agent, ref, client);
    const outcome = await decideMove(world.platform, { actor: clientAdmin, id: move.id, decision: "deny", reason: "  we host it ourselves " });
    expect(outcome).toMatchObject({ kind: "denied", move: { status: "denied", denyReason: "we host it ourselves", decidedBy: clientAdmin.displayName } });
    expect(await orgOf(id)).toBe(agency);
    expect(await auditIn(client, "app.move_deny")).toHaveLength(1);
    expect((await failure(decideMove(world.platform, { actor: clientAdmin, id: move.id, decision: "approve" }))).message).toMatch(`move ${move.id} was already denied by ${clientAdmin.displayName}`);
    // Denied, the application may be asked for again.
    expect((await pendingMove(agent, ref, client)).id).toBeGreaterThan(move.id);
  });

  it("expires after 48 hours: the buttons answer expired, the sweep edits the messages, and a new request can be made", async () => {
    const { agency, client, ref, id } = await handover();
    const agent = await buildUser(world.platform);
    await addMember(world.platform, agency, agent, "admin");
    await addMember(world.platform, client, agent, "viewer");
    const clientOwner = await buildUser(world.platform);
    await addMember(world.platform, client, clientOwner, "owner");
    const move = await pendingMove(agent, ref, client);
    // The clock moves past the 48 hours.
    await world.platform.db.updateTable("application_moves").set({ expires_at: new Date(Date.now() - 1000) }).where("id", "=", move.id).execute();
    expect((await failure(decideMove(world.platform, { actor: clientOwner, id: move.id, decision: "approve" }))).message).toMatch(`move ${move.id} expired at`);
    const swept = await expireMoves(world.platform.db);
    expect(swept.map((expired) => [expired.id, expired.status])).toContainEqual([move.id, "expired"]);
    expect(await expireMoves(world.platform.db)).toEqual([]);
    const edits = await world.platform.db.selectFrom("outbox").select("payload").where("kind", "=", "app.move_settled").execute();
    expect(edits.filter((row) => (row.payload as { move: number }).move === move.id).map((row) => (row.payload as { status: string }).status)).toEqual(["expired", "expired"]);
    expect(await orgOf(id)).toBe(agency);
    expect((await pendingMove(agent, ref, client)).status).toBe("pending");
  });

  it("refuses an approval once the requester is no longer an owner or admin of the source", async () => {
    const { agency, client, ref, id } = await handover();
    const agent = await buildUser(world.platform);
    await addMember(world.platform, agency, agent, "admin");
    await addMember(world.platform, client, agent, "viewer");
    const clientAdmin = await buildUser(world.platform);
    await addMember(world.platform, client, clientAdmin, "admin");
    const move = await pendingMove(agent, ref, client);
    await world.platform.db.deleteFrom("memberships").where("user_id", "=", agent.id).where("org_id", "=", (await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", agency).executeTakeFirstOrThrow()).id).execute();
    expect((await failure(decideMove(world.platform, { actor: clientAdmin, id: move.id, decision: "approve" }))).message).toBe(
      `${agent.displayName} is no longer an owner or admin of ${agency}: deny move ${move.id}, or let it expire`,
    );
    expect(await orgOf(id)).toBe(agency);
  });
});
