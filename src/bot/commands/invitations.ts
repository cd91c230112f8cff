import { decideInvitation, inviteMember, listInvitations, redeemInvitation } from "../../core/invitations.ts";
import { linkIdentity, startIdentityLink } from "../../core/users.ts";
import { invitationCodeForRequester, invitationListMessage, invitationOutcomeMessage } from "../blocks/invitations.ts";
import { code, escapeText, say, when, type Message } from "../message.ts";
import { personArgument, type Command, type CommandContext } from "./command.ts";

/**
 * Approves an invitation request, for `invite approve` and the Approve button alike. A code for
 * someone edgebot does not know goes to the approver in the answer and to the requester directly.
 */
export async function approveInvitation(context: CommandContext, id: string): Promise<Message> {
  const outcome = await decideInvitation(context.platform, { actor: context.actor, id, decision: "approve" });
  if (outcome.kind === "code" && outcome.requester !== null && context.tellNow) {
    // The approver has the code too, so a requester who cannot be reached now loses nothing.
    await context.tellNow(outcome.requester, invitationCodeForRequester(outcome)).catch(() => undefined);
  }
  return invitationOutcomeMessage(outcome);
}

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
    async run(context, args) {
      return approveInvitation(context, args.text("id"));
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
    name: "link",
    usage: "link [code]",
    summary: "Use one edgebot account from several workspaces: `link` where edgebot knows you gives a code, `link <code>` in the other workspace joins it",
    syntax: { positionals: [{ name: "code", optional: true }] },
    async run({ platform, actor, teamId }, args) {
      const given = args.optionalText("code");
      if (given === undefined) {
        const link = await startIdentityLink(platform, { actor });
        return say(
          `:link: To act as this edgebot account from another workspace, type ${code(`link ${link.code}`)} there before ${when(link.expiresAt)}. ` +
            "The code works once; keep it to yourself: whoever types it acts as you.",
        );
      }
      const user = await linkIdentity(platform, { actor, teamId, code: given });
      return say(`:link: Linked: here you are now ${escapeText(user.displayName)} (${escapeText(user.email)}), with the orgs of that account. Try ${code("org list")}.`);
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
