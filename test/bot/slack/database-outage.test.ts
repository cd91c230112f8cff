import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackApp } from "../../../src/bot/slack/app.ts";
import { databaseUnreachableMessage } from "../../../src/db/errors.ts";
import type { Platform } from "../../../src/core/platform.ts";
import { registerUser } from "../../../src/core/users.ts";
import { openDatabase, type DatabaseHandle } from "../../../src/db/connect.ts";
import { migrateToLatest } from "../../../src/db/migrate.ts";
import { Repositories } from "../../../src/repos/repositories.ts";
import { idleDnsVerifier } from "../../support/dns-server.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { PostgresServer } from "../../support/postgres-server.ts";
import {
  appHomeOpenedBody,
  blockActionPayload,
  blockSuggestionPayload,
  interactionBody,
  signedRequest,
  slashCommandBody,
  startSlackApp,
  testTeam,
  viewOf,
  viewSubmissionPayload,
  type OpenedView,
} from "../../support/slack-app.ts";

const person = { id: "UOUTAGE", email: "outage@example.com", name: "outage" };

/**
 * Every Slack surface while Postgres is down: the real Bolt App in this process, on a pool to a
 * Postgres server of the test's own that is stopped as a crash stops it. None of them crashes
 * or says "something went wrong"; each says the database is away, or keeps quiet where it
 * has nowhere to say it.
 */
describe("the Slack app while its database is away", { timeout: 60_000 }, () => {
  const fake = new FakeSlack();
  let server: PostgresServer;
  let database: DatabaseHandle;
  let gitRoot: string;
  let slack: SlackApp;
  let url: string;
  let form: OpenedView;

  beforeAll(async () => {
    server = await PostgresServer.start();
    database = await openDatabase({ databaseUrl: server.url() });
    await migrateToLatest(database.db);
    gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-outage-"));
    const platform: Platform = { db: database.db, repositories: new Repositories(gitRoot), dns: idleDnsVerifier() };
    await fake.start();
    fake.addUser({ ...person, teamId: testTeam });
    await registerUser(platform, { teamId: testTeam, chatUserId: person.id, email: person.email, displayName: person.name });
    ({ slack, url } = await startSlackApp(platform, fake));
    // A form opened while the database answered, submitted while it does not.
    expect((await signedRequest(url, slashCommandBody(fake, { text: "org create", userId: person.id }).body)).status).toBe(200);
    form = viewOf(await fake.waitFor(() => fake.callsOf("views.open")[0]));
    await server.stop("immediate");
  });

  afterAll(async () => {
    await slack?.stop();
    await database?.close();
    await server?.destroy();
    await fake.stop();
    if (gitRoot) await rm(gitRoot, { recursive: true, force: true });
  });

  const submit = async (viewId: string, slug: string) => {
    const response = await signedRequest(url, interactionBody(viewSubmissionPayload({ view: form, viewId, userId: person.id, fill: { slug } })));
    const text = await response.text();
    return (text === "" ? {} : JSON.parse(text)) as { response_action?: string; errors?: Record<string, string> };
  };

  it("answers a slash command, a form, the invitation buttons and a picker with the database message, and keeps the Home tab as it was", async () => {
    const command = slashCommandBody(fake, { text: "org list", userId: person.id });
    expect((await signedRequest(url, command.body)).status).toBe(200);
    expect(String((await fake.waitFor(() => fake.responses.get(command.responseId)?.[0])).text)).toContain(databaseUnreachableMessage);

    const viewId = `V${randomBytes(5).toString("hex").toUpperCase()}`;
    const refused = await submit(viewId, "while-away");
    expect(refused.response_action).toBe("errors");
    expect(Object.values(refused.errors ?? {})).toEqual([expect.stringContaining(databaseUnreachableMessage)]);

    for (const actionId of ["invitation_approve", "invitation_deny"]) {
      const responseId = randomBytes(6).toString("hex");
      const click = blockActionPayload({ userId: person.id, actionId, value: "1", responseUrl: fake.responseUrl(responseId) });
      expect((await signedRequest(url, interactionBody(click))).status).toBe(200);
      const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
      expect({ actionId, text: String(answer.text) }).toEqual({ actionId, text: expect.stringContaining(databaseUnreachableMessage) });
    }

    const picker = await signedRequest(url, interactionBody(blockSuggestionPayload({ userId: person.id, actionId: "pick_org", value: "" })));
    expect(picker.status).toBe(200);
    expect(await picker.json()).toEqual({ options: [] });

    const published = fake.callsOf("views.publish").length;
    expect((await signedRequest(url, appHomeOpenedBody({ userId: person.id }), { contentType: "application/json" })).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(fake.callsOf("views.publish")).toHaveLength(published);

    expect(JSON.stringify([...fake.responses.values()])).not.toContain("something went wrong");

    // Back: the same form, submitted again, goes through, and /readyz says so.
    await server.start();
    expect(await submit(viewId, "after-outage")).toEqual({ response_action: "clear" });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const created = await database.db.selectFrom("orgs").select("slug").where("slug", "in", ["while-away", "after-outage"]).execute();
    expect(created.map((row) => row.slug)).toEqual(["after-outage"]);
  });
});
