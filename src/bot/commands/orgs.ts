import { changeRole, listMembers, removeMember } from "../../core/members.ts";
import { createOrg, deleteOrg, listOrgs, renameOrg, setApprovalPolicy, setBillingContact, setOrgChannel, showOrg } from "../../core/orgs.ts";
import { decideRoleRequest } from "../../core/role-requests.ts";
import { describePerson } from "../../core/users.ts";
import { memberListMessage, orgCreatedMessage, orgDetailsMessage, orgListMessage } from "../blocks/orgs.ts";
import { approvalPolicyMessage, roleChangeMessage, roleRequestOutcomeMessage } from "../blocks/role-requests.ts";
import { escapeText, say } from "../message.ts";
import { channelArgument, personArgument, type Command } from "./command.ts";

export const orgCommands: Command[] = [
  {
    name: "org create",
    usage: 'org create <slug> [--name "<display name>"] [--billing-email <email>]',
    summary: "Create an org (a client account); you become its owner",
    syntax: { positionals: [{ name: "slug" }], options: { name: "value", "billing-email": "value" } },
    async run({ platform, actor }, args) {
      const org = await createOrg(platform, { actor, slug: args.text("slug"), name: args.option("name"), billingEmail: args.option("billing-email") });
      return orgCreatedMessage(org);
    },
  },
  {
    name: "org list",
    readOnly: true,
    usage: "org list",
    summary: "The orgs you belong to",
    syntax: { positionals: [] },
    async run({ platform, actor }) {
      return orgListMessage(await listOrgs(platform, { actor }));
    },
  },
  {
    name: "org show",
    readOnly: true,
    usage: "org show <org>",
    summary: "An org's owners, members, applications, billing contact and channel",
    syntax: { positionals: [{ name: "org" }] },
    async run({ platform, actor }, args) {
      return orgDetailsMessage(await showOrg(platform, { actor, org: args.text("org") }));
    },
  },
  {
    name: "org rename",
    usage: 'org rename <org> "<display name>"',
    summary: "Change an org's display name (owners)",
    syntax: { positionals: [{ name: "org" }, { name: "display name", rest: true }] },
    async run({ platform, actor }, args) {
      const org = await renameOrg(platform, { actor, org: args.text("org"), name: args.text("display name") });
      return say(`:white_check_mark: *${org.slug}* is now called ${escapeText(org.name)}.`);
    },
  },
  {
    name: "org billing",
    usage: "org billing <org> <email>",
    summary: "Set who receives the org's invoices (owners)",
    syntax: { positionals: [{ name: "org" }, { name: "email" }] },
    async run({ platform, actor }, args) {
      const org = await setBillingContact(platform, { actor, org: args.text("org"), email: args.text("email") });
      return say(`:white_check_mark: Invoices for *${org.slug}* now go to ${org.billingEmail}.`);
    },
  },
  {
    name: "org channel",
    usage: "org channel <org> <#channel>",
    summary: "Post the org's notifications to a channel (owners, admins)",
    syntax: { positionals: [{ name: "org" }, { name: "channel" }] },
    async run({ platform, actor, teamId }, args) {
      const org = await setOrgChannel(platform, { actor, org: args.text("org"), channelId: channelArgument(args, "channel"), teamId });
      return say(`:white_check_mark: Notifications for *${org.slug}* go to <#${org.channelId}>.`);
    },
  },
  {
    name: "org policy",
    usage: "org policy <org> --approvals <1-3>",
    summary: "How many owners or admins, other than the one who asks, approve granting admin or owner (owners; 1 by default)",
    syntax: { positionals: [{ name: "org" }], options: { approvals: "value" } },
    async run({ platform, actor }, args) {
      return approvalPolicyMessage(await setApprovalPolicy(platform, { actor, org: args.text("org"), approvals: args.option("approvals") }));
    },
  },
  {
    name: "org delete",
    usage: "org delete <org> --confirm <org>",
    summary: "Delete an org with all its applications and repositories (owners)",
    syntax: { positionals: [{ name: "org" }], options: { confirm: "value" } },
    async run({ platform, actor }, args) {
      const deleted = await deleteOrg(platform, { actor, org: args.text("org"), confirm: args.option("confirm") });
      return say(`:wastebasket: Deleted org *${deleted.slug}* and its ${deleted.applications} application${deleted.applications === 1 ? "" : "s"}.`);
    },
  },
  {
    name: "member list",
    readOnly: true,
    usage: "member list <org>",
    summary: "Everyone in an org and their role",
    syntax: { positionals: [{ name: "org" }] },
    async run({ platform, actor }, args) {
      const { org, members, requests } = await listMembers(platform, { actor, org: args.text("org") });
      return memberListMessage(org, members, requests);
    },
  },
  {
    name: "member role",
    usage: "member role <org> <@user|email> <owner|admin|developer|viewer>",
    summary: "Change a member's role (owners, admins; only owners touch the owner role); making someone admin or owner waits for approval",
    syntax: { positionals: [{ name: "org" }, { name: "user" }, { name: "role" }] },
    async run(context, args) {
      const changed = await changeRole(context.platform, {
        actor: context.actor,
        org: args.text("org"),
        member: personArgument(context, args, "user"),
        role: args.text("role"),
      });
      return roleChangeMessage(changed);
    },
  },
  {
    name: "member approve",
    usage: "member approve <id>",
    summary: "Approve someone else's request to make a member admin or owner (owners, admins)",
    syntax: { positionals: [{ name: "id" }] },
    async run({ platform, actor }, args) {
      return roleRequestOutcomeMessage(await decideRoleRequest(platform, { actor, id: args.text("id"), decision: "approve" }));
    },
  },
  {
    name: "member deny",
    usage: "member deny <id> [reason]",
    summary: "Deny someone else's request to make a member admin or owner, with a reason if you like (owners, admins)",
    syntax: { positionals: [{ name: "id" }, { name: "reason", optional: true, rest: true }] },
    async run({ platform, actor }, args) {
      return roleRequestOutcomeMessage(await decideRoleRequest(platform, { actor, id: args.text("id"), decision: "deny", reason: args.optionalText("reason") }));
    },
  },
  {
    name: "member remove",
    usage: "member remove <org> <@user|email>",
    summary: "Remove someone from an org (owners, admins)",
    syntax: { positionals: [{ name: "org" }, { name: "user" }] },
    async run(context, args) {
      const person = personArgument(context, args, "user");
      const removed = await removeMember(context.platform, { actor: context.actor, org: args.text("org"), member: person });
      return say(`:white_check_mark: Removed ${escapeText(removed.member.displayName)} (${escapeText(describePerson(person))}) from *${removed.org}*.`);
    },
  },
];
