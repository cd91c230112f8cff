import { describe, expect, it } from "vitest";
import { z } from "zod";
import { commands, findCommand } from "../../../src/bot/commands/index.ts";
import { defineCommand } from "../../../src/bot/commands/define.ts";
import { formFor } from "../../../src/bot/commands/command-forms.ts";
import { org, person, text } from "../../../src/bot/commands/parameters.ts";
import { readArguments, tokenize } from "../../../src/bot/grammar.ts";
import { say } from "../../../src/bot/message.ts";

describe("command declarations", () => {
  it("derive the usage lines people see", () => {
    expect(Object.fromEntries(commands.map((command) => [command.name, command.usage]))).toEqual({
      help: "help [command]",
      "org create": 'org create <slug> [--name "<display name>"] [--billing-email <email>]',
      "org list": "org list",
      "org show": "org show <org>",
      "org rename": 'org rename <org> "<display name>"',
      "org billing": "org billing <org> <email>",
      "org channel": "org channel <org> <#channel>",
      "org policy": "org policy <org> --approvals <1-3>",
      "org delete": "org delete <org> --confirm <org>",
      "member list": "member list <org>",
      "member role": "member role <org> <@user|email> <owner|admin|developer|viewer>",
      "member approve": "member approve <id>",
      "member deny": "member deny <id> [reason]",
      "member remove": "member remove <org> <@user|email>",
      "member invite": "member invite <org> <@user|email> [--role admin|developer|viewer]",
      "member leave": "member leave <org>",
      "invite list": "invite list <org>",
      "invite approve": "invite approve <id>",
      "invite deny": "invite deny <id> [reason]",
      link: "link [code]",
      join: "join <code>",
      "app create": "app create <hostname> [--org <org> | --new-org <slug>] [--name <slug>] [--origin <host>]",
      "app list": "app list [org]",
      "app show": "app show <app>",
      "app channel": "app channel <app> <#channel>",
      "app delete": "app delete <app> --confirm <app>",
      "app split": "app split <app> --prefix </path/> --name <slug>",
      "app move": "app move <app> --to <org>",
      "move approve": "move approve <id>",
      "move deny": "move deny <id> [reason]",
      "app clone": "app clone <app> --name <slug> [--org <org>]",
      "env create": "env create <app> <env> [--from <env>] [--domain <hostname>]",
      "env list": "env list <app>",
      "env show": "env show <app> <env>",
      "env delete": "env delete <app> <env> --confirm <env>",
      "domain add": "domain add <app> <env> <hostname>",
      "domain remove": "domain remove <app> <env> <hostname>",
      "domain claim": "domain claim <app> <env> <hostname>",
      "domain list": "domain list <app> [env]",
      "config show": "config show <app> <env> [path]",
      "config edit": "config edit <app> <env> <path>",
      "env log": "env log <app> <env> [--limit <n>]",
      "env diff": "env diff <app> <from> <to>",
      "env promote": "env promote <app> <from> <to>",
      golive: "golive <app> <env>",
      "dns check": "dns check <hostname>",
      "token create": "token create",
      "token list": "token list",
      "token revoke": "token revoke <id>",
      audit: "audit <org> [--limit <n>]",
    });
  });

  it.each(commands.map((command) => [command.name, command] as const))("`%s` has examples that read as complete command lines", (_name, command) => {
    expect(command.examples.length).toBeGreaterThan(0);
    for (const example of command.examples) {
      const tokens = tokenize(example);
      const found = findCommand(tokens.map((token) => token.text));
      expect(found?.command, example).toBe(command);
      expect(readArguments(tokens.slice(found!.consumed), command.syntax).ok, example).toBe(true);
    }
  });

  it("types options by their core field name, as a dashed flag", () => {
    const appCreate = findCommand(["app", "create"])!.command;
    expect(appCreate.syntax).toEqual({ positionals: [{ name: "hostname" }], options: { org: "value", "new-org": "value", name: "value", origin: "value" } });
    expect(appCreate.parameters.map((parameter) => parameter.name)).toEqual(["hostname", "org", "newOrg", "name", "origin"]);
  });

  it("reads a command without options as free text after its arguments", () => {
    expect(findCommand(["org", "rename"])!.command.syntax).toEqual({ positionals: [{ name: "org" }, { name: "name", rest: true }] });
  });

  it("gives run typed values: a person as who they are, a channel as its id, options left out as undefined", async () => {
    let received: unknown;
    const probe = defineCommand({
      name: "probe",
      summary: "A command for this test",
      permission: "anyone",
      arguments: { org: org({ description: "an org" }), member: person({ description: "a person" }) },
      options: { newOrg: text({ description: "a slug", schema: z.string().max(5) }), other: text({ description: "unused", schema: z.string() }) },
      examples: ["probe acme @ana --new-org x"],
      async run(_context, args) {
        received = args;
        return say("ok");
      },
    });
    const context = { teamId: "T1" } as Parameters<typeof probe.run>[0];
    const read = readArguments(tokenize("acme <@U0ANA|ana> --new-org beta"), probe.syntax);
    if (!read.ok) throw new Error("not read");
    await probe.run(context, read.args);
    expect(received).toEqual({ org: "acme", member: { kind: "chat", teamId: "T1", chatUserId: "U0ANA", label: "@ana" }, newOrg: "beta", other: undefined });

    const long = readArguments(tokenize("acme ana@client.example --new-org toolong"), probe.syntax);
    if (!long.ok) throw new Error("not read");
    await expect(probe.run(context, long.args)).rejects.toMatchObject({ message: "--new-org <new-org> is longer than 5 characters", field: "newOrg" });
    const nobody = readArguments(tokenize("acme ana"), probe.syntax);
    if (!nobody.ok) throw new Error("not read");
    await expect(probe.run(context, nobody.args)).rejects.toMatchObject({ message: "name a person with an @mention or an email address, not ana", field: "member" });
  });

  it("refuses a declaration that cannot be read, at start", () => {
    const base = { summary: "s", permission: "anyone" as const, examples: ["x"] as [string], run: async () => say("") };
    expect(() => defineCommand({ ...base, name: "bad", arguments: { words: text({ description: "d", rest: true, schema: z.string() }), last: text({ description: "d", schema: z.string() }) } })).toThrow(
      /words takes the remaining words/,
    );
    expect(() => defineCommand({ ...base, name: "bad", options: { a: text({ description: "d", exclusiveWith: "b", schema: z.string() }) } })).toThrow(/exclusive with b/);
    expect(() => defineCommand({ ...base, name: "bad", arguments: { a: text({ description: "d", schema: z.string() }) }, form: { title: "t", submit: "s", intro: "i" } })).toThrow(
      /needs a form field and a maximum length/,
    );
  });
});

describe("forms derived from the declarations", () => {
  it("are the modals edgebot shows, field for field", () => {
    expect(commands.filter((command) => formFor(command.name) !== undefined).map((command) => command.name)).toEqual([
      "org create",
      "org delete",
      "member remove",
      "member invite",
      "member leave",
      "app create",
      "app delete",
      "app split",
      "app move",
      "app clone",
      "env create",
      "env delete",
      "domain add",
      "domain remove",
      "token revoke",
    ]);
    expect(formFor("app create")).toEqual({
      command: "app create",
      title: "New application",
      submit: "Create",
      intro: "An application is one client website. Its first hostname becomes the production environment, with a repository of proxy configuration.",
      fields: [
        { argument: "hostname", name: "hostname", label: "Hostname", kind: "text", placeholder: "www.example.com", hint: "A pasted URL is fine: edgebot keeps its hostname.", maxLength: 2048 },
        { argument: "--org", name: "org", label: "Org", kind: "org", optional: true, maxLength: 39, hint: "The client account it belongs to. Leave empty to use your only org, or name a new one below." },
        { argument: "--new-org", name: "newOrg", label: "…or a new org", kind: "text", optional: true, placeholder: "acme", hint: "A slug for a new org, of which you become the owner.", maxLength: 39 },
        { argument: "--name", name: "name", label: "Application name", kind: "text", optional: true, placeholder: "www-example-com", hint: "A slug; made from the hostname when left empty.", maxLength: 63 },
        { argument: "--origin", name: "origin", label: "Origin", kind: "text", optional: true, placeholder: "origin.example.com", hint: "Where the edge fetches content from; the hostname when left empty.", maxLength: 300 },
      ],
    });
    expect(formFor("org create")).toEqual({
      command: "org create",
      title: "New org",
      submit: "Create",
      intro: "An org is a client account: the boundary of access and billing. You become its owner.",
      fields: [
        { argument: "slug", name: "slug", label: "Slug", kind: "text", placeholder: "acme", hint: "Lowercase letters, digits and dashes, used in commands.", maxLength: 39 },
        { argument: "--name", name: "name", label: "Display name", kind: "text", optional: true, placeholder: "Acme Corp", maxLength: 100 },
        { argument: "--billing-email", name: "billingEmail", label: "Billing email", kind: "text", optional: true, placeholder: "billing@acme.example", maxLength: 254 },
      ],
    });
    expect(formFor("member invite")).toEqual({
      command: "member invite",
      title: "Invite someone",
      submit: "Invite",
      intro: "Add a person to an org. An owner's or admin's invitation takes effect at once; a developer's waits for an owner or admin to approve it.",
      fields: [
        { argument: "org", name: "org", label: "Org", kind: "org", maxLength: 39 },
        { argument: "invitee", name: "invitee", label: "Person", kind: "user", optional: true, hint: "Someone in this workspace…", maxLength: 40 },
        {
          argument: "invitee",
          name: "invitee",
          block: "invitee-email",
          label: "…or their email",
          kind: "text",
          optional: true,
          placeholder: "ana@client.example",
          hint: "For someone not in this workspace: they join with a one-time code.",
          maxLength: 254,
        },
        { argument: "--role", name: "role", label: "Role", kind: "text", optional: true, placeholder: "viewer", hint: "admin, developer or viewer (the usual role of a client user, and the default).", maxLength: 20 },
      ],
    });
    expect(formFor("env create")).toEqual({
      command: "env create",
      title: "New environment",
      submit: "Create",
      intro: "An environment is a branch of the application's configuration, with its own domains.",
      fields: [
        { argument: "app", name: "app", label: "Application", kind: "app", maxLength: 103 },
        { argument: "env", name: "env", label: "Environment name", kind: "text", placeholder: "staging", maxLength: 63 },
        { argument: "--from", name: "from", label: "Copy configuration from", kind: "text", optional: true, placeholder: "production", hint: "The environment to branch from; production when left empty.", maxLength: 63 },
        { argument: "--domain", name: "domain", label: "Domain", kind: "text", optional: true, placeholder: "staging.example.com", maxLength: 2048 },
      ],
    });
    expect(formFor("app split")).toEqual({
      command: "app split",
      title: "Split an application",
      submit: "Split",
      intro: "A new application for one URL prefix of an application's domains, starting from its production configuration.",
      fields: [
        { argument: "app", name: "app", label: "Application to split", kind: "app", maxLength: 103 },
        { argument: "--prefix", name: "prefix", label: "URL prefix", kind: "text", placeholder: "/blog/", hint: "Path segments between slashes, like /blog/ or /shop/en/.", maxLength: 100 },
        { argument: "--name", name: "name", label: "New application's name", kind: "text", placeholder: "blog", maxLength: 39 },
      ],
    });
    expect(formFor("app move")).toEqual({
      command: "app move",
      title: "Move an application",
      submit: "Move",
      intro: "Hand an application over to another org, with its repository and history, environments, domains and DNS state. Its channel is cleared.",
      fields: [
        { argument: "app", name: "app", label: "Application to move", kind: "app", maxLength: 103 },
        { argument: "--to", name: "to", label: "Move to org", kind: "org", maxLength: 39, hint: "Moves at once if you are an owner or admin there too; otherwise its owners and admins approve within 48 hours." },
      ],
    });
    expect(formFor("app clone")).toEqual({
      command: "app clone",
      title: "Clone an application",
      submit: "Clone",
      intro: "A new application with a copy of the production configuration and its whole history. It has production only and no domains.",
      fields: [
        { argument: "app", name: "app", label: "Application to copy", kind: "app", maxLength: 103 },
        { argument: "--name", name: "name", label: "New application's name", kind: "text", placeholder: "www-copy", maxLength: 39 },
        { argument: "--org", name: "org", label: "Org", kind: "org", optional: true, hint: "Where the copy goes; the original's org when left empty.", maxLength: 39 },
      ],
    });
    expect(formFor("member leave")).toEqual({
      command: "member leave",
      title: "Leave an org",
      submit: "Leave",
      intro: "You lose access to the org and its applications. Its last owner cannot leave.",
      fields: [{ argument: "org", name: "org", label: "Org to leave", kind: "org", maxLength: 39 }],
    });
    // A command that destroys asks no name to be typed again: its confirmation gives it.
    expect(formFor("app delete")).toEqual({
      command: "app delete",
      title: "Delete an application",
      submit: "Delete",
      intro: "Deletes an application with its environments, domains and repository.",
      confirm: "Delete {app} with its environments, domains and repository?",
      fields: [{ argument: "app", name: "app", label: "Application", kind: "app", maxLength: 103 }],
      repeats: [{ argument: "--confirm", from: "app" }],
    });
    expect(formFor("env delete")?.fields.map((field) => field.argument)).toEqual(["app", "env"]);
    expect(formFor("env delete")?.repeats).toEqual([{ argument: "--confirm", from: "env" }]);
    expect(formFor("org delete")?.repeats).toEqual([{ argument: "--confirm", from: "org" }]);
    expect(formFor("domain add")).toEqual({
      command: "domain add",
      title: "Add a domain",
      submit: "Add",
      intro: "A domain goes live when its DNS points at the edge.",
      fields: [
        { argument: "app", name: "app", label: "Application", kind: "app", maxLength: 103 },
        { argument: "env", name: "env", label: "Environment", kind: "text", placeholder: "production", maxLength: 63 },
        { argument: "hostname", name: "hostname", label: "Hostname", kind: "text", placeholder: "shop.example.com", maxLength: 2048 },
      ],
    });
  });
});
