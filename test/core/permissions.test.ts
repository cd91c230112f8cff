import { describe, expect, it } from "vitest";
import {
  createApplication,
  deleteApplication,
  listApplications,
  setApplicationChannel,
  showApplication,
} from "../../src/core/applications.ts";
import { listAuditEvents } from "../../src/core/audit.ts";
import { addDomain, listDomains, removeDomain } from "../../src/core/domains.ts";
import { createEnvironment, deleteEnvironment, listEnvironments, showEnvironment } from "../../src/core/environments.ts";
import { Forbidden, NotFound } from "../../src/core/errors.ts";
import { changeRole, listMembers, removeMember } from "../../src/core/members.ts";
import { deleteOrg, listOrgs, renameOrg, setApprovalPolicy, setBillingContact, setOrgChannel, showOrg } from "../../src/core/orgs.ts";
import type { Role } from "../../src/db/schema.ts";
import {
  addMember,
  applicationId,
  buildApplication,
  buildOrg,
  buildUser,
  diskState,
  failure,
  snapshot,
  unique,
  useWorld,
  type TestUser,
} from "../support/world.ts";

const world = useWorld();

/** Who tries: a member in each role, a member of another org, and a user in no org. */
type Who = Role | "outsider" | "stranger";
const everyone: Who[] = ["owner", "admin", "developer", "viewer", "outsider", "stranger"];

/** An org with an application, a staging environment with a domain, and a developer to act on. */
interface Scene {
  actor: TestUser;
  org: string;
  /** `org/app`. */
  app: string;
  appSlug: string;
  stagingHostname: string;
  bystander: TestUser;
  applicationId: number;
}

/** Where an action is aimed: the scene's own org and app, or ones that do not exist. */
interface Target {
  org: string;
  app: string;
}

async function buildScene(who: Who): Promise<Scene> {
  const founder = await buildUser(world.platform);
  const org = await buildOrg(world.platform, founder);
  const { ref } = await buildApplication(world.platform, founder, org);
  const stagingHostname = `${unique("stage")}.example.com`;
  await createEnvironment(world.platform, { actor: founder, app: ref, env: "staging", domain: stagingHostname });
  const bystander = await buildUser(world.platform);
  await addMember(world.platform, org, bystander, "developer");
  const actor = await buildUser(world.platform);
  if (who === "outsider") await buildOrg(world.platform, actor);
  else if (who !== "stranger") await addMember(world.platform, org, actor, who);
  return { actor, org, app: ref, appSlug: ref.split("/")[1]!, stagingHostname, bystander, applicationId: await applicationId(world.platform, ref) };
}

const sharedScenes = new Map<Who, Promise<Scene>>();
function sharedScene(who: Who): Promise<Scene> {
  if (!sharedScenes.has(who)) sharedScenes.set(who, buildScene(who));
  return sharedScenes.get(who)!;
}

const byEmail = (user: TestUser) => ({ kind: "email" as const, email: user.email });

/**
 * SPEC §1, one action per line: the roles that may do it. `writes` says whether it
 * changes something, which then shows up as exactly one more audit event.
 */
const actions: Array<{ action: string; allowed: Role[]; writes: boolean; run: (scene: Scene, target: Target) => Promise<unknown> }> = [
  { action: "org show", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => showOrg(world.platform, { actor: s.actor, org: t.org }) },
  { action: "member list", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => listMembers(world.platform, { actor: s.actor, org: t.org }) },
  { action: "app list --org", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => listApplications(world.platform, { actor: s.actor, org: t.org }) },
  { action: "app show", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => showApplication(world.platform, { actor: s.actor, app: t.app }) },
  { action: "env list", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => listEnvironments(world.platform, { actor: s.actor, app: t.app }) },
  { action: "env show", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => showEnvironment(world.platform, { actor: s.actor, app: t.app, env: "staging" }) },
  { action: "domain list", allowed: ["owner", "admin", "developer", "viewer"], writes: false, run: (s, t) => listDomains(world.platform, { actor: s.actor, app: t.app }) },

  { action: "app create --org", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => createApplication(world.platform, { actor: s.actor, org: t.org, hostname: `${unique("new")}.example.com` }) },
  { action: "app delete", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => deleteApplication(world.platform, { actor: s.actor, app: t.app, confirm: t.app }) },
  { action: "env create", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => createEnvironment(world.platform, { actor: s.actor, app: t.app, env: "preview" }) },
  { action: "env delete", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => deleteEnvironment(world.platform, { actor: s.actor, app: t.app, env: "staging", confirm: "staging" }) },
  { action: "domain add", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => addDomain(world.platform, { actor: s.actor, app: t.app, env: "staging", hostname: `${unique("add")}.example.com` }) },
  { action: "domain remove", allowed: ["owner", "admin", "developer"], writes: true, run: (s, t) => removeDomain(world.platform, { actor: s.actor, app: t.app, env: "staging", hostname: s.stagingHostname }) },

  { action: "org channel", allowed: ["owner", "admin"], writes: true, run: (s, t) => setOrgChannel(world.platform, { actor: s.actor, org: t.org, channelId: "C0123ABCD", teamId: "T0TEST" }) },
  { action: "app channel", allowed: ["owner", "admin"], writes: true, run: (s, t) => setApplicationChannel(world.platform, { actor: s.actor, app: t.app, channelId: "C0123ABCD", teamId: "T0TEST" }) },
  { action: "member role", allowed: ["owner", "admin"], writes: true, run: (s, t) => changeRole(world.platform, { actor: s.actor, org: t.org, member: byEmail(s.bystander), role: "viewer" }) },
  { action: "member remove", allowed: ["owner", "admin"], writes: true, run: (s, t) => removeMember(world.platform, { actor: s.actor, org: t.org, member: byEmail(s.bystander) }) },
  { action: "audit", allowed: ["owner", "admin"], writes: false, run: (s, t) => listAuditEvents(world.platform, { actor: s.actor, org: t.org }) },

  { action: "org rename", allowed: ["owner"], writes: true, run: (s, t) => renameOrg(world.platform, { actor: s.actor, org: t.org, name: "Renamed Co" }) },
  { action: "org billing", allowed: ["owner"], writes: true, run: (s, t) => setBillingContact(world.platform, { actor: s.actor, org: t.org, email: "billing@example.com" }) },
  { action: "org policy", allowed: ["owner"], writes: true, run: (s, t) => setApprovalPolicy(world.platform, { actor: s.actor, org: t.org, approvals: "2" }) },
  { action: "org delete", allowed: ["owner"], writes: true, run: (s, t) => deleteOrg(world.platform, { actor: s.actor, org: t.org, confirm: t.org }) },
];

type Outcome = "allowed" | "Forbidden" | "NotFound";
const cells = actions.flatMap((entry) =>
  everyone.map((who) => {
    const expected: Outcome = (entry.allowed as Who[]).includes(who) ? "allowed" : who === "outsider" || who === "stranger" ? "NotFound" : "Forbidden";
    return { ...entry, who, expected };
  }),
);

const article = (who: Who) => (/^[aeiou]/.test(who) ? "an" : "a");

describe("the permission table, cell by cell", () => {
  it.each(cells)("$action by $who: $expected", async ({ who, expected, writes, run }) => {
    // Refused and read-only cells change nothing (each checks it), so they share a scene per person.
    const scene = expected === "allowed" && writes ? await buildScene(who) : await sharedScene(who);
    const before = await snapshot(world.platform);
    const disk = await diskState(world, [scene.applicationId]);

    if (expected === "allowed") {
      await expect(run(scene, { org: scene.org, app: scene.app })).resolves.toBeDefined();
      const after = await snapshot(world.platform);
      expect(after.audit_events).toBe(before.audit_events! + (writes ? 1 : 0));
      if (!writes) expect(after).toEqual(before);
      return;
    }

    const error = await failure(run(scene, { org: scene.org, app: scene.app }));
    expect(await snapshot(world.platform)).toEqual(before);
    expect(await diskState(world, [scene.applicationId])).toEqual(disk);

    if (expected === "Forbidden") {
      expect(error).toBeInstanceOf(Forbidden);
      expect(error.message).toMatch(new RegExp(`^you are ${article(who)} ${who} here: only an owner`));
      return;
    }

    // A non-member learns nothing: the answer is the same as for an org that does not exist.
    expect(error).toBeInstanceOf(NotFound);
    expect(error.message).not.toMatch(/forbidden|permission|role|member/i);
    const ghost = unique("ghost");
    const ghostError = await failure(run(scene, { org: ghost, app: `${ghost}/${scene.appSlug}` }));
    expect(ghostError).toBeInstanceOf(NotFound);
    expect(error.message.replaceAll(scene.org, "<org>")).toBe(ghostError.message.replaceAll(ghost, "<org>"));
    expect(await snapshot(world.platform)).toEqual(before);
  });
});

describe("what each person's lists show", () => {
  it.each(everyone.map((who) => ({ who, visible: who !== "outsider" && who !== "stranger" })))(
    "org list and app list show the org to $who: $visible",
    async ({ who, visible }) => {
      const scene = await sharedScene(who);
      const orgs = (await listOrgs(world.platform, { actor: scene.actor })).map((org) => org.slug);
      const apps = (await listApplications(world.platform, { actor: scene.actor })).map((app) => app.ref);
      if (visible) {
        expect(orgs).toEqual([scene.org]);
        expect(apps).toEqual([scene.app]);
      } else {
        expect(orgs).not.toContain(scene.org);
        expect(apps).toEqual([]);
      }
    },
  );
});
