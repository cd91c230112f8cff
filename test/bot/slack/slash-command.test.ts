import { describe, expect, it } from "vitest";
import { manualOutbox, signedRequest, slashCommandBody, useSlackApp } from "../../support/slack-app.ts";
import { unique } from "../../support/world.ts";
import { plainText } from "../../../src/bot/shell.ts";

const bed = useSlackApp();

/** A Slack user the fake knows, with a profile email. */
function slackUser(name = unique("ana")): { id: string; email: string } {
  const id = `U${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
  const email = `${name}@example.com`;
  bed.fake.addUser({ id, teamId: "T0TEST", email, name });
  return { id, email };
}

/** Types `/edge <text>` as `userId`; resolves with the HTTP status and the answer the response URL received. */
async function type(userId: string, text: string, options: { retryNum?: number } = {}): Promise<{ status: number; answer: Record<string, unknown>; seen: string }> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId });
  const response = await signedRequest(bed.url, body, options);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
  return { status: response.status, answer, seen: seen(answer) };
}

/** The answer's text as the user reads it, without Slack's markup. */
function seen(answer: Record<string, unknown>): string {
  return plainText({ text: String(answer.text), blocks: [] });
}

async function count(table: "orgs" | "users" | "audit_events" | "applications"): Promise<number> {
  const row = await bed.world.platform.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("the /edge slash command in Slack", () => {
  it("creates an org for a first-time user, registered with their Slack profile email", async () => {
    const ana = slackUser();
    const org = unique("acme");
    const { status, answer, seen: text } = await type(ana.id, `org create ${org}`);
    expect(status).toBe(200);
    expect(answer.response_type).toBe("ephemeral");
    expect(text).toMatch(new RegExp(`^✓ Created org ${org} `));
    expect(JSON.stringify(answer.blocks)).toContain(`Created org *${org}*`);

    const row = await bed.world.platform.db
      .selectFrom("orgs as o")
      .innerJoin("memberships as m", "m.org_id", "o.id")
      .innerJoin("users as u", "u.id", "m.user_id")
      .innerJoin("user_identities as i", "i.user_id", "u.id")
      .select(["u.email", "m.role", "i.team_id", "i.chat_user_id"])
      .where("o.slug", "=", org)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ email: ana.email, role: "owner", team_id: "T0TEST", chat_user_id: ana.id });
  });

  it("asks Slack for a known user's profile once, not on every command", async () => {
    const ben = slackUser();
    await type(ben.id, "org list");
    await type(ben.id, "org list");
    await type(ben.id, "help");
    expect(bed.fake.callsOf("users.info").filter((call) => call.args.user === ben.id)).toHaveLength(1);
  });

  it("answers help with the command list", async () => {
    const { answer } = await type(slackUser().id, "help");
    expect(answer.response_type).toBe("ephemeral");
    for (const command of ["org create", "app create", "env create", "domain add"]) expect(answer.text).toContain(command);
  });

  it("answers an empty command with help", async () => {
    const { answer } = await type(slackUser().id, "");
    expect(answer.text).toContain("org create");
  });

  it("answers an unknown command with an error and where to look", async () => {
    const { answer } = await type(slackUser().id, "frobnicate everything");
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.text).toMatch(/frobnicate everything is not a command/);
  });

  it("answers a command missing its arguments, when it has no form, with its usage", async () => {
    const { seen: text } = await type(slackUser().id, "member list");
    expect(text).toMatch(/<org> is missing/);
    expect(text).toContain("Usage: `member list <org>");
    expect(bed.fake.callsOf("views.open")).toHaveLength(0);
  });

  it("refuses a hostile value and writes nothing", async () => {
    const eve = slackUser();
    await type(eve.id, "help");
    const before = { orgs: await count("orgs"), users: await count("users"), audit: await count("audit_events") };
    for (const text of ["org create ../../etc", "org create acme --name \"<!channel> *pwned*\"", "org create acme;drop table orgs", `org create ${"a".repeat(500)}`]) {
      const { answer } = await type(eve.id, text);
      expect(answer.text, text).toMatch(/^:warning:/);
    }
    expect({ orgs: await count("orgs"), users: await count("users"), audit: await count("audit_events") }).toEqual(before);
  });

  it("reads Slack's escaped forms as Slack sends them", async () => {
    const dev = slackUser();
    const org = unique("esc");
    await type(dev.id, `org create ${org} --billing-email <mailto:billing@${org}.example|billing@${org}.example>`);
    const billing = await bed.world.platform.db.selectFrom("orgs").select("billing_email").where("slug", "=", org).executeTakeFirstOrThrow();
    expect(billing.billing_email).toBe(`billing@${org}.example`);

    const host = `${unique("www")}.example.com`;
    const { seen: text } = await type(dev.id, `app create <http://${host}|${host}> --org ${org}`);
    expect(text).toContain(`Created ${org}/`);
    const app = await bed.world.platform.db.selectFrom("domains").select("hostname").where("hostname", "=", host).executeTakeFirst();
    expect(app?.hostname).toBe(host);
  });

  it("runs a request Slack retries once: one org, one answer", async () => {
    const cal = slackUser();
    const org = unique("retry");
    const { body, responseId } = slashCommandBody(bed.fake, { text: `org create ${org}`, userId: cal.id });
    const first = await signedRequest(bed.url, body);
    expect(first.status).toBe(200);
    await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
    // Slack did not get the ack in time and sends the same request again.
    const retry = await signedRequest(bed.url, body, { retryNum: 1 });
    expect(retry.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bed.fake.responses.get(responseId)).toHaveLength(1);
    const orgs = await bed.world.platform.db.selectFrom("orgs").select("id").where("slug", "=", org).execute();
    expect(orgs).toHaveLength(1);
  });

  it("acknowledges before the work: the HTTP answer does not wait for a slow Slack profile", async () => {
    const dee = slackUser();
    bed.fake.delay("users.info", 1000);
    try {
      const org = unique("slow");
      const { body, responseId } = slashCommandBody(bed.fake, { text: `org create ${org}`, userId: dee.id });
      const started = Date.now();
      const response = await signedRequest(bed.url, body);
      const acknowledgedAfter = Date.now() - started;
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("");
      expect(acknowledgedAfter).toBeLessThan(500);
      expect(bed.fake.responses.get(responseId)).toBeUndefined();
      const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(seen(answer)).toMatch(new RegExp(`Created org ${org} `));
    } finally {
      bed.fake.delay("users.info", 0);
    }
  });

  it("tells a user whose profile shows no email that edgebot needs it, and registers nobody", async () => {
    const users = await count("users");
    bed.fake.on("users.info", (call) => (call.args.user === "UNOEMAIL" ? { body: { ok: true, user: { id: "UNOEMAIL", team_id: "T0TEST", name: "ghost", profile: { display_name: "ghost" } } } } : undefined));
    const { answer } = await type("UNOEMAIL", "org create ghost-org");
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.text).toMatch(/needs your email/);
    expect(await count("users")).toBe(users);
    expect(await bed.world.platform.db.selectFrom("orgs").select("id").where("slug", "=", "ghost-org").executeTakeFirst()).toBeUndefined();
  });

  it("registers a Slack name with markup in it as plain text", async () => {
    bed.fake.addUser({ id: "UUNDERSCORE", teamId: "T0TEST", email: "jane_doe@example.com", name: "jane_doe *admin*" });
    const { answer } = await type("UUNDERSCORE", "org list");
    expect(answer.text).not.toMatch(/^:warning:/);
    const user = await bed.world.platform.db.selectFrom("users").select("display_name").where("email", "=", "jane_doe@example.com").executeTakeFirstOrThrow();
    expect(user.display_name).toBe("jane doe admin");
  });
  it("posts go-live results where the command ran when the app and org have no channel, else in the channel, and answers where they are", async () => {
    const cleo = slackUser();
    const org = unique("golive");
    await type(cleo.id, `org create ${org}`);
    await type(cleo.id, `app create www.${org}.example --org ${org} --name www`);
    const outbox = manualOutbox(bed.world.platform.db, bed.fake);
    try {
      let since = bed.fake.calls.length;
      const unannounced = await type(cleo.id, `golive ${org}/www production`);
      expect(unannounced.answer.response_type).toBe("ephemeral");
      expect(unannounced.seen).toContain(`Go-live check of ${org}/www production: 0 of 1 domains point at the edge.`);
      expect(unannounced.seen).toContain("Results posted in this conversation.");
      await outbox.deliverDue();
      const here = bed.fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && call.args.channel === "C0GENERAL");
      expect(here.map((call) => seen(call.args))).toEqual([expect.stringContaining(`www.${org}.example could not be checked`)]);

      await type(cleo.id, `app channel ${org}/www <#C0GOLIVEHERE|go-live>`);
      since = bed.fake.calls.length;
      const announced = await type(cleo.id, `golive ${org}/www production`);
      expect(announced.answer.response_type).toBe("ephemeral");
      expect(announced.seen).toContain("Results posted in #C0GOLIVEHERE.");
      await outbox.deliverDue();
      const posted = bed.fake.calls.slice(since).filter((call) => call.method === "chat.postMessage" && String(call.args.text).includes("Go-live check"));
      expect(posted.map((call) => call.args.channel)).toEqual(["C0GOLIVEHERE"]);
    } finally {
      await outbox.stop();
    }
  });
});
