import { describe, expect, it } from "vitest";
import type { RecordedCall } from "../../support/fake-slack.ts";
import { addSlackPerson, appHomeOpenedBody, signedRequest, slashCommandBody, useSlackApp } from "../../support/slack-app.ts";
import { addMember, buildOrg, buildUser, unique } from "../../support/world.ts";
import { createApplication } from "../../../src/core/applications.ts";
import { addDomain } from "../../../src/core/domains.ts";
import { createEnvironment } from "../../../src/core/environments.ts";

const bed = useSlackApp();

function slackPerson(name?: string) {
  return addSlackPerson(bed, name);
}

function publishesFor(slackUserId: string): RecordedCall[] {
  return bed.fake.callsOf("views.publish").filter((call) => call.args.user_id === slackUserId);
}

/** Opens `slackUserId`'s Home tab as Slack would, and resolves with the view edgebot published. */
async function openHome(slackUserId: string): Promise<{ status: number; view: { type: string; blocks: unknown[] }; text: string }> {
  const before = publishesFor(slackUserId).length;
  const body = appHomeOpenedBody({ userId: slackUserId });
  const response = await signedRequest(bed.url, body, { contentType: "application/json" });
  const call = await bed.fake.waitFor(() => publishesFor(slackUserId)[before]);
  return { status: response.status, ...published(call) };
}

function published(call: RecordedCall): { view: { type: string; blocks: unknown[] }; text: string } {
  const view = (typeof call.args.view === "string" ? JSON.parse(call.args.view) : call.args.view) as { type: string; blocks: unknown[] };
  return { view, text: JSON.stringify(view.blocks) };
}

describe("the App Home tab", () => {
  it("shows the person's orgs with their role, applications, environments, domains and DNS status", async () => {
    const ana = await slackPerson();
    const owner = await buildUser(bed.world.platform);
    const org = await buildOrg(bed.world.platform, owner);
    await addMember(bed.world.platform, org, { ...ana.user, userId: ana.user.id }, "developer");
    const hostname = `${unique("www")}.example.com`;
    const app = await createApplication(bed.world.platform, { actor: owner, hostname, org, name: "shop" });
    const staging = `${unique("staging")}.example.com`;
    await createEnvironment(bed.world.platform, { actor: owner, app: app.ref, env: "staging", domain: staging });
    const extra = `${unique("extra")}.example.com`;
    await addDomain(bed.world.platform, { actor: owner, app: app.ref, env: "staging", hostname: extra });
    await bed.world.platform.db.updateTable("domains").set({ dns_status: "passing" }).where("hostname", "=", hostname).execute();

    const { status, view, text } = await openHome(ana.id);
    expect(status).toBe(200);
    expect(view.type).toBe("home");
    expect(text).toContain(`*${org}*`);
    expect(text).toContain("your role: developer");
    expect(text).toContain(`*${org}/shop*`);
    expect(text).toContain(`production: ${hostname} — :large_green_circle: passing`);
    expect(text).toContain(`staging: ${extra} — :hourglass_flowing_sand: pending · ${staging} — :hourglass_flowing_sand: pending`);
  });

  it("registers a first-time Slack user and shows them how to start when they are in no org", async () => {
    const name = unique("newcomer");
    const id = `U${name.toUpperCase()}`;
    bed.fake.addUser({ id, teamId: "T0TEST", email: `${name}@example.com`, name });
    const { text } = await openHome(id);
    expect(text).toContain("You are not in any org yet");
    expect(text).toContain("/edge org create &lt;slug&gt;");
    const registered = await bed.world.platform.db
      .selectFrom("user_identities as i")
      .innerJoin("users as u", "u.id", "i.user_id")
      .select("u.email")
      .where("i.chat_user_id", "=", id)
      .executeTakeFirst();
    expect(registered?.email).toBe(`${name}@example.com`);
  });

  it("keeps an org with 500 applications within 100 blocks and says how many more there are", async () => {
    const ana = await slackPerson();
    const org = await buildOrg(bed.world.platform, { ...ana.user, userId: ana.user.id });
    // 500 applications written straight to the tables: the Home tab reads rows, not repositories.
    const { id: orgId } = await bed.world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).executeTakeFirstOrThrow();
    const apps = await bed.world.platform.db
      .insertInto("applications")
      .values(Array.from({ length: 500 }, (_, index) => ({ org_id: orgId, slug: `app-${String(index).padStart(3, "0")}`, origin: "origin.example.com", created_by: ana.user.id })))
      .returning("id")
      .execute();
    const environments = await bed.world.platform.db
      .insertInto("environments")
      .values(apps.map((app) => ({ application_id: app.id, name: "production", created_by: ana.user.id })))
      .returning("id")
      .execute();
    await bed.world.platform.db
      .insertInto("domains")
      .values(environments.map((environment, index) => ({ environment_id: environment.id, hostname: `${unique("w")}-${index}.example.com`, created_by: ana.user.id })))
      .execute();

    const { view, text } = await openHome(ana.id);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(text).toContain(`${org}/app-000`);
    const shown = (text.match(new RegExp(`\\*${org}/app-\\d{3}\\*`, "g")) ?? []).length;
    expect(shown).toBeGreaterThan(0);
    expect(text).toContain(`…and ${500 - shown} more applications in ${org}: \`/edge app list ${org}\``);
  });

  it("is published again with the new application after /edge app create", async () => {
    const ana = await slackPerson();
    const org = await buildOrg(bed.world.platform, { ...ana.user, userId: ana.user.id });
    await openHome(ana.id);
    const before = publishesFor(ana.id).length;

    const hostname = `${unique("fresh")}.example.com`;
    const { body, responseId } = slashCommandBody(bed.fake, { text: `app create ${hostname} --org ${org} --name fresh`, userId: ana.id });
    await signedRequest(bed.url, body);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    expect(String(answer.text)).toContain(`Created *${org}/fresh*`);

    const call = await bed.fake.waitFor(() => publishesFor(ana.id)[before]);
    const { text } = published(call);
    expect(text).toContain(`*${org}/fresh*`);
    expect(text).toContain(`production: ${hostname} — :hourglass_flowing_sand: pending`);
  });

  it("is not published again after a command that only reads or fails", async () => {
    const ana = await slackPerson();
    await openHome(ana.id);
    const before = publishesFor(ana.id).length;
    for (const text of ["org list", "help", "app show nowhere/nothing"]) {
      const { body, responseId } = slashCommandBody(bed.fake, { text, userId: ana.id });
      await signedRequest(bed.url, body);
      await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    }
    // A mutation afterwards shows the order: only its refresh arrives.
    const late = unique("late");
    const { body } = slashCommandBody(bed.fake, { text: `org create ${late}`, userId: ana.id });
    await signedRequest(bed.url, body);
    await bed.fake.waitFor(() => publishesFor(ana.id).find((call) => published(call).text.includes(`*${late}*`)));
    expect(publishesFor(ana.id)).toHaveLength(before + 1);
  });

  it("answers the command even when the Home tab cannot be published", async () => {
    const ana = await slackPerson();
    bed.fake.on("views.publish", (call) => (call.args.user_id === ana.id ? { body: { ok: false, error: "not_enabled" } } : undefined));
    const { body, responseId } = slashCommandBody(bed.fake, { text: `org create ${unique("still")}`, userId: ana.id });
    const response = await signedRequest(bed.url, body);
    expect(response.status).toBe(200);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    expect(String(answer.text)).toContain("Created org");
    await bed.fake.waitFor(() => publishesFor(ana.id)[0]);
  });
});
