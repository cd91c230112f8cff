import { readdir } from "node:fs/promises";
import pino from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../src/bot/commands/command.ts";
import { commands } from "../../src/bot/commands/index.ts";
import { runCommandLine } from "../../src/bot/dispatch.ts";
import { plainText } from "../../src/bot/shell.ts";
import { maxBlocks, maxSectionText } from "../../src/bot/message.ts";
import { addMember, buildApplication, buildOrg, buildUser, snapshot, unique, useWorld, type TestUser } from "../support/world.ts";

const world = useWorld();
const logger = pino({ level: "silent" });

async function run(user: TestUser, line: string) {
  const context: CommandContext = { platform: world.platform, actor: user, teamId: "T0TEST" };
  return runCommandLine(context, line, { slashCommand: "/edge", logger });
}

async function reply(user: TestUser, line: string): Promise<string> {
  return plainText((await run(user, line)).message);
}

/** Everything a refused command must leave alone: rows, repositories and their branches. */
async function state(): Promise<unknown> {
  const repositories = (await readdir(world.gitRoot)).filter((name) => name.endsWith(".git")).sort();
  const branches = await Promise.all(repositories.map((name) => world.platform.repositories.branches(Number.parseInt(name, 10))));
  return { rows: await snapshot(world.platform), repositories, branches };
}

describe("commands through the dispatcher", () => {
  let owner: TestUser;
  let org: string;
  let app: { ref: string; hostname: string };

  beforeAll(async () => {
    owner = await buildUser(world.platform);
    org = await buildOrg(world.platform, owner);
    app = await buildApplication(world.platform, owner, org);
    await run(owner, `env create ${app.ref} staging`);
  });

  it("answers the whole workflow a newcomer follows", async () => {
    const slug = unique("client");
    expect(await reply(owner, `/edge org create ${slug} --name "Client Co" --billing-email Billing@Client.example`)).toContain(`Created org ${slug} (Client Co)`);
    const hostname = `${unique("shop")}.client.example`;
    expect(await reply(owner, `app create <https://${hostname}/|${hostname}> --org ${slug} --name shop`)).toContain(`Created ${slug}/shop: production serves ${hostname}`);
    expect(await reply(owner, `env create ${slug}/shop staging --domain staging-${hostname}`)).toContain(`Created ${slug}/shop staging, branched from production`);
    const shown = await reply(owner, `app show ${slug}/shop`);
    expect(shown).toContain(`• ${hostname} — pending`);
    expect(shown).toContain(`staging (from production) · not live\n• staging-${hostname} — pending`);
    expect(await reply(owner, `org show ${slug}`)).toContain("Billing contact: billing@client.example");
    expect(await reply(owner, `audit ${slug} --limit 2`)).toMatch(/env\.create.*\n.*app\.create/);
  });

  it("lists every command in help, and explains one command", async () => {
    const help = await reply(owner, "help");
    for (const command of commands) expect(help).toContain(command.usage);
    expect(await reply(owner, "help env create")).toContain("env create <app> <env> [--from <env>] [--domain <hostname>]");
    expect(await reply(owner, "")).toContain("org create <slug>");
  });

  it("says what is missing and reports the command as incomplete, so Slack can open its modal", async () => {
    const outcome = await run(owner, "app create");
    expect(outcome.kind).toBe("incomplete");
    expect(plainText(outcome.message)).toBe("! <hostname> is missing\nUsage: `app create <hostname> [--org <org> | --new-org <slug>] [--name <slug>] [--origin <host>]`");
  });

  const hostile = ["a;rm -rf /", "$(touch /tmp/pwned)", "`id`", "--upload-pack=touch /tmp/pwned", "../../etc/passwd", "'\"", "ünï©ødé", "x".repeat(3000), "<@U999|mallory>"];

  // Each row: a command line template; {h} is replaced by every hostile value in turn.
  const templates = [
    "org create {h}",
    "org show {h}",
    "org billing {org} {h}",
    "org channel {org} {h}",
    "org delete {h} --confirm {h}",
    "org delete {org} --confirm {h}",
    "member list {h}",
    "member role {org} {h} admin",
    "member role {org} @nobody {h}",
    "org policy {org} --approvals {h}",
    "org policy {h} --approvals 2",
    "member approve {h}",
    "member deny {h} because",
    "member remove {org} {h}",
    "app create {h}",
    "app create {h}.example.com",
    "app create ok-{n}.example.com --org {h}",
    "app create ok-{n}.example.com --new-org {h}",
    "app create ok-{n}.example.com --name {h}",
    "app create ok-{n}.example.com --origin {h}",
    "app list {h}",
    "app show {h}",
    "app channel {app} {h}",
    "app delete {h} --confirm {h}",
    "app delete {app} --confirm {h}",
    "env create {app} {h}",
    "env create {h} qa",
    "env create {app} qa --from {h}",
    "env create {app} qa --domain {h}",
    "env list {h}",
    "env show {app} {h}",
    "env delete {app} {h} --confirm {h}",
    "env delete {app} staging --confirm {h}",
    "domain add {app} staging {h}",
    "domain add {app} {h} ok-{n}.example.com",
    "domain remove {app} staging {h}",
    "domain list {app} {h}",
    "member invite {h} someone@client.example",
    "member invite {org} {h}",
    "member invite {org} someone@client.example --role {h}",
    "invite list {h}",
    "invite approve {h}",
    "invite deny {h} because",
    "join {h}",
    "golive {h} production",
    "golive {app} {h}",
    "audit {org} --limit {h}",
    "audit {h}",
    "help {h}",
    "{h}",
  ];

  it.each(templates)("refuses hostile input in `%s` and changes nothing", async (template) => {
    const before = await state();
    for (const value of hostile) {
      const quoted = /\s|["']/.test(value) ? `"${value.replace(/"/g, "")}"` : value;
      const line = template
        .replaceAll("{h}", quoted)
        .replaceAll("{org}", org)
        .replaceAll("{app}", app.ref)
        .replaceAll("{n}", unique("n"));
      const outcome = await run(owner, line);
      expect(outcome.message.error, `${line.slice(0, 120)} → ${outcome.message.text.slice(0, 200)}`).toBe(true);
      expect(outcome.message.text).not.toMatch(/something went wrong/);
      expect(outcome.message.text.length).toBeLessThan(2000);
    }
    expect(await state()).toEqual(before);
  });

  it("renders an org with 500 applications within Block Kit's limits", async () => {
    const big = unique("big");
    await run(owner, `org create ${big}`);
    const { id } = await world.platform.db.selectFrom("orgs").select("id").where("slug", "=", big).executeTakeFirstOrThrow();
    await world.platform.db
      .insertInto("applications")
      .values(Array.from({ length: 500 }, (_, index) => ({ org_id: id, slug: `site-${index}`, origin: `site-${index}.example.com` })))
      .execute();
    const outcome = await run(owner, `app list ${big}`);
    expect(outcome.message.blocks.length).toBeLessThanOrEqual(maxBlocks);
    for (const block of outcome.message.blocks) {
      if (block.type === "section") expect(block.text!.text.length).toBeLessThanOrEqual(maxSectionText);
    }
    expect(plainText(outcome.message)).toContain(`Applications in ${big} (500)`);
    expect(outcome.message.text).toContain("…and 300 more applications");
  });

  it("keeps a display name's shell characters as plain text and refuses Slack markup in it", async () => {
    const before = await state();
    expect((await run(owner, `org rename ${org} "<!channel> *Acme*"`)).message.error).toBe(true);
    expect(await state()).toEqual(before);
    expect(await reply(owner, `org rename ${org} $(rm -rf /) & Sons; 'Ltd'`)).toContain("is now called $(rm -rf /) & Sons; Ltd");
    const shown = (await run(owner, `org show ${org}`)).message;
    expect(shown.text).toContain("$(rm -rf /) &amp; Sons; Ltd");
  });

  it("refuses a viewer's change with their role and who may do it", async () => {
    const viewer = await buildUser(world.platform);
    await addMember(world.platform, org, viewer, "viewer");
    expect(await reply(viewer, `env create ${app.ref} qa`)).toMatch(
      /^! you are a viewer here: only an owner.* or .*developer can change applications, environments or domains$/,
    );
    expect(await reply(viewer, `app show ${app.ref}`)).toContain(app.hostname);
  });

  it("answers an outsider exactly as if the org did not exist", async () => {
    const outsider = await buildUser(world.platform);
    expect(await reply(outsider, `org show ${org}`)).toBe(`! org ${org} not found`);
    expect(await reply(outsider, "org show no-such-org")).toBe("! org no-such-org not found");
    expect(await reply(outsider, `app show ${app.ref}`)).toBe(`! application ${app.ref} not found`);
  });
});

describe("what the dispatcher says about commands it does not know, and help for one command", () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await buildUser(world.platform);
  });

  it("suggests the nearest command for a slip, with the help hint", async () => {
    const outcome = await run(user, "ap list");
    expect(outcome.message.error).toBe(true);
    expect(plainText(outcome.message)).toBe("! ap list is not a command: did you mean `app list`?\nUsage: `help`");
    expect(await reply(user, "app lst")).toBe("! app lst is not a command: did you mean `app list`?\nUsage: `help app`");
    expect(await reply(user, "hlep")).toBe("! hlep is not a command: did you mean `help`?\nUsage: `help`");
  });

  it("lists a group's commands when a group is named alone or with a word far from any of its commands", async () => {
    expect(await reply(user, "token")).toBe("! token is not a command. token commands: token create, token list, token revoke\nUsage: `help token`");
    expect(await reply(user, "token frobnicate")).toBe("! token frobnicate is not a command. token commands: token create, token list, token revoke\nUsage: `help token`");
  });

  it("explains one command with its arguments, options, who may run it and examples", async () => {
    const help = await reply(user, "help env create");
    expect(help).toContain("env create <app> <env> [--from <env>] [--domain <hostname>]");
    expect(help).toContain("(developers and up)");
    expect(help).toContain("`--from <env>` — The environment to branch from; production when left out");
    expect(help).toContain("`env create acme/www staging`");
    expect(help).toContain("Who may run it: developers, admins and owners of the org it concerns.");
    expect(await reply(user, "help env show")).toContain("Who may run it: any member of the org it concerns.");
    expect(await reply(user, "help ap list")).toBe("! there is no command ap list: did you mean `app list`?\nUsage: `help [command]`");
  });
});
