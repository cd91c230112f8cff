import { describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import { signedRequest, slashCommandBody, useSlackApp } from "../../support/slack-app.ts";
import { unique } from "../../support/world.ts";

const bed = useSlackApp();

describe("personal access tokens in Slack", () => {
  it("shows a new token only in an ephemeral answer to the person who asked, and nowhere else", async () => {
    const name = unique("ana");
    const id = `U${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}`;
    bed.fake.addUser({ id, teamId: "T0TEST", email: `${name}@example.com`, name });
    const { body, responseId } = slashCommandBody(bed.fake, { text: "token create", userId: id });
    expect((await signedRequest(bed.url, body)).status).toBe(200);
    const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0]);

    expect(answer.response_type).toBe("ephemeral");
    const token = /edgebot_pat_[A-Za-z0-9_-]{43}/.exec(plainText({ text: String(answer.text), blocks: [] }))?.[0];
    expect(token).toBeDefined();
    expect(JSON.stringify(answer.blocks)).toContain(token);
    // No Web API call (a channel message, a DM, the Home tab) carries it, and the database holds only its hash.
    expect(JSON.stringify(bed.fake.calls)).not.toContain(token);
    expect(JSON.stringify(await bed.world.platform.db.selectFrom("access_tokens").selectAll().execute())).not.toContain(token!.slice(12));
    expect(JSON.stringify(await bed.world.platform.db.selectFrom("outbox").selectAll().execute())).not.toContain(token!.slice(12));
  });
});
