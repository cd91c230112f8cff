import { createApplication, deleteApplication, listApplications, setApplicationChannel, showApplication } from "../../core/applications.ts";
import { claimHostname } from "../../core/claims.ts";
import { addDomain, listDomains, removeDomain } from "../../core/domains.ts";
import { claimMessage } from "../blocks/claims.ts";
import { splitApplication } from "../../core/splits.ts";
import { createEnvironment, deleteEnvironment, listEnvironments, showEnvironment } from "../../core/environments.ts";
import {
  hostnameLabel,
  applicationCreatedMessage,
  applicationDetailsMessage,
  applicationListMessage,
  domainListMessage,
  environmentDetailsMessage,
  environmentListMessage,
} from "../blocks/applications.ts";
import { code, MessageBuilder, say } from "../message.ts";
import { channelArgument, type Command } from "./command.ts";

export const applicationCommands: Command[] = [
  {
    name: "app create",
    usage: "app create <hostname> [--org <org> | --new-org <slug>] [--name <slug>] [--origin <host>]",
    summary: "Create an application; its first hostname becomes the production environment",
    syntax: { positionals: [{ name: "hostname" }], options: { org: "value", "new-org": "value", name: "value", origin: "value" } },
    async run({ platform, actor }, args) {
      const created = await createApplication(platform, {
        actor,
        hostname: args.text("hostname"),
        org: args.option("org"),
        newOrg: args.option("new-org"),
        name: args.option("name"),
        origin: args.option("origin"),
      });
      return applicationCreatedMessage(created);
    },
  },
  {
    name: "app list",
    readOnly: true,
    usage: "app list [<org>]",
    summary: "Applications in one org, or in all of yours",
    syntax: { positionals: [{ name: "org", optional: true }] },
    async run({ platform, actor }, args) {
      const org = args.optionalText("org");
      return applicationListMessage(org ?? "your orgs", await listApplications(platform, { actor, org }));
    },
  },
  {
    name: "app show",
    readOnly: true,
    usage: "app show <app>",
    summary: "An application's environments and their domains",
    syntax: { positionals: [{ name: "app" }] },
    async run({ platform, actor }, args) {
      return applicationDetailsMessage(await showApplication(platform, { actor, app: args.text("app") }));
    },
  },
  {
    name: "app channel",
    usage: "app channel <app> <#channel>",
    summary: "Post one application's notifications to a channel (owners, admins)",
    syntax: { positionals: [{ name: "app" }, { name: "channel" }] },
    async run({ platform, actor, teamId }, args) {
      const app = await setApplicationChannel(platform, { actor, app: args.text("app"), channelId: channelArgument(args, "channel"), teamId });
      return say(`:white_check_mark: Notifications for *${app.ref}* go to <#${app.channelId}>.`);
    },
  },
  {
    name: "app delete",
    usage: "app delete <app> --confirm <app>",
    summary: "Delete an application with its environments, domains and repository",
    syntax: { positionals: [{ name: "app" }], options: { confirm: "value" } },
    async run({ platform, actor }, args) {
      const deleted = await deleteApplication(platform, { actor, app: args.text("app"), confirm: args.option("confirm") });
      const returned = deleted.prefixReturned === undefined ? "" : ` ${code(deleted.prefixReturned.prefix)} is handled by *${deleted.prefixReturned.to}* again.`;
      return say(`:wastebasket: Deleted *${deleted.ref}* with ${deleted.environments} environment(s), ${deleted.domains} domain(s) and its repository.${returned}`);
    },
  },
  {
    name: "app split",
    usage: "app split <app> --prefix </path/> --name <slug>",
    summary: "A new application for one URL prefix of an application's domains, starting from its production configuration",
    syntax: { positionals: [{ name: "app" }], options: { prefix: "value", name: "value" } },
    async run({ platform, actor }, args) {
      const split = await splitApplication(platform, { actor, app: args.text("app"), prefix: args.option("prefix"), name: args.option("name") });
      const on = split.hostnames.length === 0 ? "its domains" : split.hostnames.map(hostnameLabel).join(", ");
      return new MessageBuilder()
        .section(`:scissors: Created *${split.ref}*: it handles ${code(split.prefix)} on ${on}, starting from ${split.original}'s production configuration.`)
        .context(`See it with ${code(`config show ${split.ref} production`)} · delete it to hand ${split.prefix} back to ${split.original}.`)
        .build();
    },
  },
  {
    name: "env create",
    usage: "env create <app> <env> [--from <env>] [--domain <hostname>]",
    summary: "Create an environment as a branch of another (production by default)",
    syntax: { positionals: [{ name: "app" }, { name: "env" }], options: { from: "value", domain: "value" } },
    async run({ platform, actor }, args) {
      const created = await createEnvironment(platform, { actor, app: args.text("app"), env: args.text("env"), from: args.option("from"), domain: args.option("domain") });
      const builder = new MessageBuilder().section(`:white_check_mark: Created *${created.ref} ${created.env}*, branched from ${created.from}.`);
      if (created.hostname !== undefined) builder.context(`It serves ${created.hostname}.`);
      else builder.context(`Add a domain: ${code(`domain add ${created.ref} ${created.env} <hostname>`)}`);
      return builder.build();
    },
  },
  {
    name: "env list",
    readOnly: true,
    usage: "env list <app>",
    summary: "An application's environments",
    syntax: { positionals: [{ name: "app" }] },
    async run({ platform, actor }, args) {
      const { ref, environments } = await listEnvironments(platform, { actor, app: args.text("app") });
      return environmentListMessage(ref, environments);
    },
  },
  {
    name: "env show",
    readOnly: true,
    usage: "env show <app> <env>",
    summary: "One environment and its domains' last known DNS status",
    syntax: { positionals: [{ name: "app" }, { name: "env" }] },
    async run({ platform, actor }, args) {
      return environmentDetailsMessage(await showEnvironment(platform, { actor, app: args.text("app"), env: args.text("env") }));
    },
  },
  {
    name: "env delete",
    usage: "env delete <app> <env> --confirm <env>",
    summary: "Delete an environment, its domains and its branch (never production)",
    syntax: { positionals: [{ name: "app" }, { name: "env" }], options: { confirm: "value" } },
    async run({ platform, actor }, args) {
      const deleted = await deleteEnvironment(platform, { actor, app: args.text("app"), env: args.text("env"), confirm: args.option("confirm") });
      return say(`:wastebasket: Deleted *${deleted.ref} ${deleted.env}*, its branch and ${deleted.domains} domain(s).`);
    },
  },
  {
    name: "domain add",
    usage: "domain add <app> <env> <hostname>",
    summary: "Serve a hostname from an environment",
    syntax: { positionals: [{ name: "app" }, { name: "env" }, { name: "hostname" }] },
    async run({ platform, actor }, args) {
      const added = await addDomain(platform, { actor, app: args.text("app"), env: args.text("env"), hostname: args.text("hostname") });
      const builder = new MessageBuilder().section(`:white_check_mark: *${hostnameLabel(added.hostname)}* now belongs to *${added.ref} ${added.env}*.`);
      if (added.reducedFrom !== undefined) builder.context(`You gave a URL; its hostname ${added.hostname} is what was added.`);
      return builder.build();
    },
  },
  {
    name: "domain remove",
    usage: "domain remove <app> <env> <hostname>",
    summary: "Stop serving a hostname from an environment",
    syntax: { positionals: [{ name: "app" }, { name: "env" }, { name: "hostname" }] },
    async run({ platform, actor }, args) {
      const removed = await removeDomain(platform, { actor, app: args.text("app"), env: args.text("env"), hostname: args.text("hostname") });
      return say(`:white_check_mark: Removed *${removed.hostname}* from *${removed.ref} ${removed.env}*.`);
    },
  },
  {
    name: "domain claim",
    usage: "domain claim <app> <env> <hostname>",
    summary: "Prove control of a hostname's DNS with a TXT record, to take it from the org that holds it (developers and up)",
    syntax: { positionals: [{ name: "app" }, { name: "env" }, { name: "hostname" }] },
    async run({ platform, actor, dns }, args) {
      return claimMessage(await claimHostname(platform, { actor, app: args.text("app"), env: args.text("env"), hostname: args.text("hostname"), dns }));
    },
  },
  {
    name: "domain list",
    readOnly: true,
    usage: "domain list <app> [<env>]",
    summary: "The domains of an application or one environment, with their DNS status, and its claims waiting for DNS",
    syntax: { positionals: [{ name: "app" }, { name: "env", optional: true }] },
    async run({ platform, actor }, args) {
      const { ref, env, domains, claims } = await listDomains(platform, { actor, app: args.text("app"), env: args.optionalText("env") });
      return domainListMessage(ref, env, domains, claims);
    },
  },
];
