import { describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import { showApplication } from "../../../src/core/applications.ts";
import { editConfigFile, startConfigEdit } from "../../../src/core/configs.ts";
import { addSlackPerson, signedRequest, slashCommandBody, useSlackApp } from "../../support/slack-app.ts";
import { applicationId, unique } from "../../support/world.ts";

const bed = useSlackApp();

const config = (origin: string) => `${JSON.stringify({ proxychain: [{ name: "varnish", image: "varnish:7.4" }], origin: { address: origin } }, null, 2)}\n`;

/** Types `/edge <text>` as `userId`; resolves with the answer as the person reads it. */
async function type(userId: string, text: string): Promise<string> {
  const { body, responseId } = slashCommandBody(bed.fake, { text, userId });
  expect((await signedRequest(bed.url, body)).status).toBe(200);
  const answer = await bed.fake.waitFor(() => bed.fake.responses.get(responseId)?.[0], 10_000);
  return plainText({ text: String(answer.text), blocks: [] });
}

describe("the origin an application shows", () => {
  it("is production's section.config.json at its head: after a promotion that changed it, app show and app list show the new one", async () => {
    const ana = await addSlackPerson(bed);
    const org = unique("origins");
    const ref = `${org}/www`;
    await type(ana.id, `org create ${org}`);
    expect(await type(ana.id, `app create www.${org}.example --org ${org} --name www --origin old-origin.example.net`)).toContain("old-origin.example.net");
    expect(await type(ana.id, `app show ${ref}`)).toContain("origin `old-origin.example.net`");
    await type(ana.id, `env create ${ref} staging`);

    // Staging fetches from the new origin, then production is promoted to it.
    const { base } = await startConfigEdit(bed.world.platform, { actor: ana.actor, app: ref, env: "staging", path: "section.config.json" });
    await editConfigFile(bed.world.platform, { actor: ana.actor, app: ref, env: "staging", path: "section.config.json", content: config("new-origin.example.net"), message: "Move to the new origin", base });
    expect(await type(ana.id, `app show ${ref}`)).toContain("origin `old-origin.example.net`");
    expect(await type(ana.id, `env promote ${ref} staging production`)).not.toMatch(/^⚠/);

    const shown = await type(ana.id, `app show ${ref}`);
    expect(shown).toContain("origin `new-origin.example.net`");
    expect(shown).not.toContain("old-origin");
    expect(await type(ana.id, `app list ${org}`)).toContain("origin `new-origin.example.net`");
  });

  it("follows production's head however it moved (a commit straight onto the branch, as a push makes)", async () => {
    const ana = await addSlackPerson(bed);
    const org = unique("pushed");
    const ref = `${org}/www`;
    await type(ana.id, `org create ${org}`);
    await type(ana.id, `app create www.${org}.example --org ${org} --name www`);
    expect((await showApplication(bed.world.platform, { actor: ana.actor, app: ref })).origin).toBe(`www.${org}.example`);
    // Written below core, as a push is: no edgebot change records it.
    const { repositories } = bed.world.platform;
    const id = await applicationId(bed.world.platform, ref);
    const head = await repositories.head(id, "production");
    const made = await repositories.commitFile(id, { base: head, file: "section.config.json", content: config("pushed-origin.example.net"), message: "Pushed", author: { name: "Dev", email: "dev@example.com" } });
    if (made.kind !== "committed") throw new Error(made.kind);
    await repositories.moveBranch(id, "production", made.commit, head);
    expect(await type(ana.id, `app show ${ref}`)).toContain("origin `pushed-origin.example.net`");
  });
});
