import { decideInvitation, inviteMember, listInvitations, redeemInvitation } from "../../core/invitations.ts";
import { invitationListMessage, invitationOutcomeMessage } from "../blocks/invitations.ts";
import { code, say } from "../message.ts";
import { personArgument, type Command } from "./command.ts";

export const invitationCommands: Command[] = [
  {
    name: "member invite",
    usage: "member invite <org> <@user|email> [--role admin|developer|viewer]",
    summary: "Invite someone to an org (viewer by default); a developer's invitation waits for an owner's or admin's approval",
    syntax: { positionals: [{ name: "org" }, { name: "invitee" }], options: { role: "value" } },
    async run(context, args) {
      const invitee = personArgument(context, args, "invitee");
      return invitationOutcomeMessage(await inviteMember(context.platform, { actor: context.actor, org: args.text("org"), invitee, role: args.option("role") }));
    },
  },
  {
    name: "invite list",
    readOnly: true,
    usage: "invite list <org>",
    summary: "An org's waiting invitations and recent decisions (owners, admins)",
    syntax: { positionals: [{ name: "org" }] },
    async run({ platform, actor }, args) {
      const { org, invitations } = await listInvitations(platform, { actor, org: args.text("org") });
      return invitationListMessage(org, invitations);
    },
  },
  {
    name: "invite approve",
    usage: "invite approve <id>",
    summary: "Approve someone else's invitation request (owners, admins)",
    syntax: { positionals: [{ name: "id" }] },
    async run({ platform, actor }, args) {
      return invitationOutcomeMessage(await decideInvitation(platform, { actor, id: args.text("id"), decision: "approve" }));
    },
  },
  {
    name: "invite deny",
    usage: "invite deny <id> [reason]",
    summary: "Deny someone else's invitation request, with a reason if you like (owners, admins)",
    syntax: { positionals: [{ name: "id" }, { name: "reason", optional: true, rest: true }] },
    async run({ platform, actor }, args) {
      return invitationOutcomeMessage(await decideInvitation(platform, { actor, id: args.text("id"), decision: "deny", reason: args.optionalText("reason") }));
    },
  },
  {
    name: "join",
    usage: "join <code>",
    summary: "Join an org with the one-time code of an invitation for your email",
    syntax: { positionals: [{ name: "code" }] },
    async run({ platform, actor }, args) {
      const joined = await redeemInvitation(platform, { actor, code: args.text("code") });
      return say(`:wave: Welcome: you are now ${joined.role} of *${joined.org}*. Try ${code(`app list ${joined.org}`)}.`);
    },
  },
];
