import { beforeAll, describe, expect, it } from "vitest";
import { createApplication, deleteApplication, setApplicationChannel } from "../../src/core/applications.ts";
import { listAuditEvents } from "../../src/core/audit.ts";
import { addDomain, removeDomain } from "../../src/core/domains.ts";
import { createEnvironment, deleteEnvironment } from "../../src/core/environments.ts";
import { CoreError, Forbidden } from "../../src/core/errors.ts";
import { changeRole, leaveOrg, removeMember } from "../../src/core/members.ts";
import { cloneApplication } from "../../src/core/clones.ts";
import { decideMove, requestMove } from "../../src/core/moves.ts";
import { createOrg, deleteOrg, renameOrg, setApprovalPolicy, setBillingContact, setOrgChannel } from "../../src/core/orgs.ts";
import { registerUser } from "../../src/core/users.ts";
import {
  addMember,
  applicationId,
  buildApplication,
  buildOrg,
  buildUser,
  diskState,
  snapshot,
  unique,
  useWorld,
  type TestUser,
} from "../support/world.ts";

const world = useWorld();

/** Text a person might type by mistake, or an attacker on purpose. */
const hostile = [
  "",
  "   ",
  "a;rm -rf /",
  "$(reboot)",
  "`id`",
  "--upload-pack=touch /tmp/pwned",
  "-x",
  "../../etc/passwd",
  "..",
  "'quoted'",
  '"quoted"',
  "ünïcödé",
  "😀",
  "a\u0000b",
  "line\nbreak",
  "tab\there",
  "HEAD",
  "refs/heads/production",
  "production:section.config.json",
  "<!channel>",
  "x".repeat(10_000),
];

/** Chat ids are letters, digits, `.`, `_` and `-`: a Slack id such as U0123 is, `-x` or `HEAD` would be too. */
const hostileIds = hostile.filter((value) => !/^[A-Za-z0-9._-]{1,64}$/.test(value));

/** Display names may hold any printable text; these are the ones they may not. */
const hostileNames = ["", "   ", "a\u0000b", "line\nbreak", "\u001b[31mred", "<!channel>", "*bold*", "x".repeat(10_000)];

interface Scene {
  owner: TestUser;
  member: TestUser;
  org: string;
  app: string;
  stagingHostname: string;
  applicationId: number;
}

let scene: Scene;
beforeAll(async () => {
  const owner = await buildUser(world.platform);
  const member = await buildUser(world.platform);
  const org = await buildOrg(world.platform, owner);
  await addMember(world.platform, org, member, "developer");
  const { ref } = await buildApplication(world.platform, owner, org);
  const stagingHostname = `${unique("stage")}.example.com`;
  await createEnvironment(world.platform, { actor: owner, app: ref, env: "staging", domain: stagingHostname });
  scene = { owner, member, org, app: ref, stagingHostname, applicationId: await applicationId(world.platform, ref) };
});

/** Each core mutation with good arguments, and one argument replaced by the bad value. */
const mutations: Array<{ operation: string; field: string; values?: string[]; run: (bad: string) => Promise<unknown> }> = [
  { operation: "org create", field: "slug", run: (bad) => createOrg(world.platform, { actor: scene.owner, slug: bad }) },
  { operation: "org create", field: "name", values: hostileNames, run: (bad) => createOrg(world.platform, { actor: scene.owner, slug: unique("o"), name: bad }) },
  { operation: "org create", field: "billing email", run: (bad) => createOrg(world.platform, { actor: scene.owner, slug: unique("o"), billingEmail: bad }) },
  { operation: "org rename", field: "org", run: (bad) => renameOrg(world.platform, { actor: scene.owner, org: bad, name: "New Name" }) },
  { operation: "org rename", field: "name", values: hostileNames, run: (bad) => renameOrg(world.platform, { actor: scene.owner, org: scene.org, name: bad }) },
  { operation: "org billing", field: "org", run: (bad) => setBillingContact(world.platform, { actor: scene.owner, org: bad, email: "billing@example.com" }) },
  { operation: "org billing", field: "email", run: (bad) => setBillingContact(world.platform, { actor: scene.owner, org: scene.org, email: bad }) },
  { operation: "org channel", field: "org", run: (bad) => setOrgChannel(world.platform, { actor: scene.owner, org: bad, channelId: "C0123ABCD", teamId: "T0TEST" }) },
  { operation: "org channel", field: "channel", run: (bad) => setOrgChannel(world.platform, { actor: scene.owner, org: scene.org, channelId: bad, teamId: "T0TEST" }) },
  { operation: "org policy", field: "org", run: (bad) => setApprovalPolicy(world.platform, { actor: scene.owner, org: bad, approvals: "2" }) },
  { operation: "org policy", field: "approvals", values: [...hostile, "0", "4", "two", "1.5", "-1", "02", " "], run: (bad) => setApprovalPolicy(world.platform, { actor: scene.owner, org: scene.org, approvals: bad }) },
  { operation: "org delete", field: "org", run: (bad) => deleteOrg(world.platform, { actor: scene.owner, org: bad, confirm: bad }) },
  { operation: "org delete", field: "confirm", run: (bad) => deleteOrg(world.platform, { actor: scene.owner, org: scene.org, confirm: bad }) },
  { operation: "member role", field: "org", run: (bad) => changeRole(world.platform, { actor: scene.owner, org: bad, member: { kind: "email", email: scene.member.email }, role: "viewer" }) },
  { operation: "member role", field: "member", run: (bad) => changeRole(world.platform, { actor: scene.owner, org: scene.org, member: { kind: "email", email: bad }, role: "viewer" }) },
  {
    operation: "member role",
    field: "mention",
    run: (bad) => changeRole(world.platform, { actor: scene.owner, org: scene.org, member: { kind: "chat", teamId: "T0TEST", chatUserId: bad, label: bad }, role: "viewer" }),
  },
  { operation: "member role", field: "role", run: (bad) => changeRole(world.platform, { actor: scene.owner, org: scene.org, member: { kind: "email", email: scene.member.email }, role: bad }) },
  { operation: "member remove", field: "org", run: (bad) => removeMember(world.platform, { actor: scene.owner, org: bad, member: { kind: "email", email: scene.member.email } }) },
  { operation: "member remove", field: "member", run: (bad) => removeMember(world.platform, { actor: scene.owner, org: scene.org, member: { kind: "email", email: bad } }) },
  { operation: "app create", field: "hostname", run: (bad) => createApplication(world.platform, { actor: scene.owner, org: scene.org, hostname: bad }) },
  { operation: "app create", field: "org", run: (bad) => createApplication(world.platform, { actor: scene.owner, org: bad, hostname: `${unique("n")}.example.com` }) },
  { operation: "app create", field: "new org", run: (bad) => createApplication(world.platform, { actor: scene.owner, newOrg: bad, hostname: `${unique("n")}.example.com` }) },
  { operation: "app create", field: "name", run: (bad) => createApplication(world.platform, { actor: scene.owner, org: scene.org, hostname: `${unique("n")}.example.com`, name: bad }) },
  { operation: "app create", field: "origin", run: (bad) => createApplication(world.platform, { actor: scene.owner, org: scene.org, hostname: `${unique("n")}.example.com`, origin: bad }) },
  { operation: "app channel", field: "app", run: (bad) => setApplicationChannel(world.platform, { actor: scene.owner, app: bad, channelId: "C0123ABCD", teamId: "T0TEST" }) },
  { operation: "app channel", field: "channel", run: (bad) => setApplicationChannel(world.platform, { actor: scene.owner, app: scene.app, channelId: bad, teamId: "T0TEST" }) },
  { operation: "app delete", field: "app", run: (bad) => deleteApplication(world.platform, { actor: scene.owner, app: bad, confirm: bad }) },
  { operation: "app delete", field: "confirm", run: (bad) => deleteApplication(world.platform, { actor: scene.owner, app: scene.app, confirm: bad }) },
  { operation: "env create", field: "app", run: (bad) => createEnvironment(world.platform, { actor: scene.owner, app: bad, env: "preview" }) },
  { operation: "env create", field: "env", run: (bad) => createEnvironment(world.platform, { actor: scene.owner, app: scene.app, env: bad }) },
  { operation: "env create", field: "from", run: (bad) => createEnvironment(world.platform, { actor: scene.owner, app: scene.app, env: "preview", from: bad }) },
  { operation: "env create", field: "domain", run: (bad) => createEnvironment(world.platform, { actor: scene.owner, app: scene.app, env: "preview", domain: bad }) },
  { operation: "env delete", field: "app", run: (bad) => deleteEnvironment(world.platform, { actor: scene.owner, app: bad, env: "staging", confirm: "staging" }) },
  { operation: "env delete", field: "env", run: (bad) => deleteEnvironment(world.platform, { actor: scene.owner, app: scene.app, env: bad, confirm: bad }) },
  { operation: "env delete", field: "confirm", run: (bad) => deleteEnvironment(world.platform, { actor: scene.owner, app: scene.app, env: "staging", confirm: bad }) },
  { operation: "domain add", field: "app", run: (bad) => addDomain(world.platform, { actor: scene.owner, app: bad, env: "staging", hostname: `${unique("n")}.example.com` }) },
  { operation: "domain add", field: "env", run: (bad) => addDomain(world.platform, { actor: scene.owner, app: scene.app, env: bad, hostname: `${unique("n")}.example.com` }) },
  { operation: "domain add", field: "hostname", run: (bad) => addDomain(world.platform, { actor: scene.owner, app: scene.app, env: "staging", hostname: bad }) },
  { operation: "domain remove", field: "app", run: (bad) => removeDomain(world.platform, { actor: scene.owner, app: bad, env: "staging", hostname: scene.stagingHostname }) },
  { operation: "domain remove", field: "env", run: (bad) => removeDomain(world.platform, { actor: scene.owner, app: scene.app, env: bad, hostname: scene.stagingHostname }) },
  { operation: "domain remove", field: "hostname", run: (bad) => removeDomain(world.platform, { actor: scene.owner, app: scene.app, env: "staging", hostname: bad }) },
  { operation: "member leave", field: "org", run: (bad) => leaveOrg(world.platform, { actor: scene.member, org: bad }) },
  { operation: "app move", field: "app", run: (bad) => requestMove(world.platform, { actor: scene.owner, app: bad, to: scene.org }) },
  { operation: "app move", field: "to", run: (bad) => requestMove(world.platform, { actor: scene.owner, app: scene.app, to: bad }) },
  { operation: "move approve", field: "id", run: (bad) => decideMove(world.platform, { actor: scene.owner, id: bad, decision: "approve" }) },
  { operation: "app clone", field: "app", run: (bad) => cloneApplication(world.platform, { actor: scene.owner, app: bad, name: "copy" }) },
  { operation: "app clone", field: "name", run: (bad) => cloneApplication(world.platform, { actor: scene.owner, app: scene.app, name: bad }) },
  { operation: "app clone", field: "org", run: (bad) => cloneApplication(world.platform, { actor: scene.owner, app: scene.app, name: "copy", org: bad }) },
  { operation: "audit", field: "limit", values: [...hostile, "0", "-1", "1.5", "201", "1e9"], run: (bad) => listAuditEvents(world.platform, { actor: scene.owner, org: scene.org, limit: bad }) },
  { operation: "register user", field: "team id", values: hostileIds, run: (bad) => registerUser(world.platform, { teamId: bad, chatUserId: "U1", email: "new@example.com", displayName: "New" }) },
  { operation: "register user", field: "user id", values: hostileIds, run: (bad) => registerUser(world.platform, { teamId: "T1", chatUserId: bad, email: "new@example.com", displayName: "New" }) },
  { operation: "register user", field: "email", run: (bad) => registerUser(world.platform, { teamId: "T1", chatUserId: "U1", email: bad, displayName: "New" }) },
  { operation: "register user", field: "name", values: hostileNames, run: (bad) => registerUser(world.platform, { teamId: "T1", chatUserId: "U1", email: "new@example.com", displayName: bad }) },
];

describe("bad input gets a clear, typed answer and changes nothing", () => {
  it.each(mutations)("$operation with a bad $field", async ({ run, values }) => {
    const disk = await diskState(world, [scene.applicationId]);
    for (const bad of values ?? hostile) {
      const shown = JSON.stringify(bad.slice(0, 40));
      const before = await snapshot(world.platform);

      let error: unknown;
      try {
        await run(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error, `${shown} was accepted`).toBeInstanceOf(CoreError);
      expect(error, `${shown} was answered as if the owner lacked permission`).not.toBeInstanceOf(Forbidden);
      const message = (error as CoreError).message;
      expect(message.length, `the answer to ${shown} is ${message.length} characters long`).toBeLessThanOrEqual(300);
      expect(message, `the answer to ${shown} holds control characters`).not.toMatch(/\p{Cc}/u);

      expect(await snapshot(world.platform), `${shown} changed the database`).toEqual(before);
    }
    expect(await diskState(world, [scene.applicationId]), "the repositories changed").toEqual(disk);
  });
});
