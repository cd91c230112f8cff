import { describe, expect, it } from "vitest";
import type { FakeWorkspace } from "../../support/fake-slack.ts";
import { fakeWorkspace, installWorkspace, signedRequest, slashCommandBody, useSlackApp } from "../../support/slack-app.ts";
import { unique } from "../../support/world.ts";

// Two workspaces with edgebot installed (multi-workspace mode), and people in them who share emails.
const bed = useSlackApp({ multiWorkspace: true });

async function installed(): Promise<FakeWorkspace> {
  const made = fakeWorkspace(bed);
  expect((await installWorkspace(bed, made)).status).toBe(200);
  return made;
}

/** A Slack person the fake knows: users.info gives their team, email, and whether it is confirmed. */
function person(teamId: string, email: string, options: { emailConfirmed?: boolean } = {}): { teamId: string; userId: string } {
  const userId = unique("U").toUpperCase();
  bed.fake.addUser({ id: userId, teamId, email, name: userId.toLowerCase(), ...options });
  return { teamId, userId };
}

/** `/edge <text>` typed by `who`, sent from workspace `from` (their own unless said): the answer's text. */
async function type(who: { teamId: string; userId: string }, text: string, from = who.teamId): Promise<string> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId: who.userId, teamId: from });
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return String(answer.text);
}

async function usersWithEmail(email: string): Promise<number[]> {
  const rows = await bed.world.platform.db.selectFrom("users").select("id").where("email", "=", email).orderBy("id").execute();
  return rows.map((row) => row.id);
}

describe("identities are per workspace", () => {
  it("makes someone of another workspace with an owner's email a stranger, who sees no org and deletes nothing", async () => {
    const [agency, other] = [await installed(), await installed()];
    const email = `${unique("boss")}@agency.example`;
    const owner = person(agency.teamId, email);
    const org = unique("acme");
    expect(await type(owner, `org create ${org}`)).toContain(`Created org *${org}*`);
    expect(await type(owner, `app create www.${org}.example --org ${org}`)).toContain("Created");

    const twin = person(other.teamId, email);
    expect(await type(twin, "org list")).not.toContain(org);
    expect(await type(twin, `app show ${org}/www-${org}-example`)).toMatch(/not found/);
    expect(await type(twin, `app delete ${org}/www-${org}-example --confirm ${org}/www-${org}-example`)).toMatch(/not found/);

    const apps = await bed.world.platform.db.selectFrom("applications").select("slug").where("slug", "=", `www-${org}-example`).execute();
    expect(apps).toHaveLength(1);
    expect(await usersWithEmail(email)).toHaveLength(2);
  });

  it("makes a person of another organisation in a shared channel a new user, though their email is a member's", async () => {
    const agency = await installed();
    const email = `${unique("lee")}@agency.example`;
    const member = person(agency.teamId, email);
    const org = unique("shared");
    await type(member, `org create ${org}`);
    // Their own workspace is elsewhere; the command comes from the agency's workspace, in a shared channel.
    const outsider = person(unique("TEXT").toUpperCase(), email);
    expect(await type(outsider, "org list", agency.teamId)).not.toContain(org);
    expect(await usersWithEmail(email)).toHaveLength(2);
  });
});

describe("linking two identities", () => {
  it("joins an identity to another only on a code the linked identity asked for, once", async () => {
    const [agency, other] = [await installed(), await installed()];
    const email = `${unique("kim")}@agency.example`;
    const kim = person(agency.teamId, email);
    const org = unique("linked");
    await type(kim, `org create ${org}`);

    const asked = await type(kim, "link");
    const code = /link ([A-Za-z0-9_-]{16})/.exec(asked)?.[1];
    expect(code, asked).toBeDefined();

    const kimElsewhere = person(other.teamId, email);
    expect(await type(kimElsewhere, "org list")).not.toContain(org);
    expect(await type(kimElsewhere, `link ${code}`)).toContain("Linked");
    expect(await type(kimElsewhere, "org list")).toContain(org);

    // The code worked once: someone else who learns it gets nothing.
    const eavesdropper = person(other.teamId, `${unique("eve")}@other.example`);
    expect(await type(eavesdropper, `link ${code}`)).toMatch(/not valid/);
    expect(await type(eavesdropper, "org list")).not.toContain(org);
  });

  it("refuses to join an identity that has orgs of its own, and a code that is not one", async () => {
    const [agency, other] = [await installed(), await installed()];
    const email = `${unique("max")}@agency.example`;
    const max = person(agency.teamId, email);
    const code = /link ([A-Za-z0-9_-]{16})/.exec(await type(max, "link"))![1]!;

    const busy = person(other.teamId, email);
    const own = unique("own");
    await type(busy, `org create ${own}`);
    expect(await type(busy, `link ${code}`)).toMatch(/already has orgs or tokens of its own/);
    expect(await type(max, "org list")).not.toContain(own);

    expect(await type(busy, "link not a code!")).toMatch(/not a link code|link \[code\]/);
  });
});

describe("invitations by email with identities per workspace", () => {
  it("never matches an email Slack marks as unconfirmed: the invitation gives a code, which that person cannot redeem", async () => {
    const agency = await installed();
    const owner = person(agency.teamId, `${unique("own")}@agency.example`);
    const org = unique("unconf");
    await type(owner, `org create ${org}`);
    const email = `${unique("pat")}@client.example`;
    const pat = person(agency.teamId, email, { emailConfirmed: false });
    await type(pat, "help");

    const invited = await type(owner, `member invite ${org} ${email}`);
    expect(invited).not.toContain("is now viewer");
    const code = /join ([A-Za-z0-9_-]{16})/.exec(invited)?.[1];
    expect(code, invited).toBeDefined();
    expect(await type(pat, `join ${code}`)).toMatch(/not confirmed/);
    const members = await bed.world.platform.db.selectFrom("memberships as m").innerJoin("orgs as o", "o.id", "m.org_id").select("m.user_id").where("o.slug", "=", org).execute();
    expect(members).toHaveLength(1);
  });

  it("joins the one who redeems the code when several unlinked people hold the invited email, never both", async () => {
    const [agency, client] = [await installed(), await installed()];
    const owner = person(agency.teamId, `${unique("own")}@agency.example`);
    const org = unique("twins");
    await type(owner, `org create ${org}`);
    const email = `${unique("sam")}@client.example`;
    const samHere = person(agency.teamId, email);
    const samThere = person(client.teamId, email);
    await type(samHere, "help");
    await type(samThere, "help");

    const invited = await type(owner, `member invite ${org} ${email}`);
    const code = /join ([A-Za-z0-9_-]{16})/.exec(invited)?.[1];
    expect(code, invited).toBeDefined();
    expect(await type(samThere, `join ${code}`)).toContain(`you are now viewer of *${org}*`);
    expect(await type(samThere, "org list")).toContain(org);
    expect(await type(samHere, "org list")).not.toContain(org);
  });
});
