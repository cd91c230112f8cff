import { z } from "zod";
import { decideInvitation } from "../../../core/invitations.ts";
import { invitationCodeForRequester, invitationOutcomeMessage } from "../../blocks/invitations.ts";
import type { Message } from "../../message.ts";
import type { CommandContext } from "../command.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

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

export default defineCommand({
  name: "invite approve",
  summary: "Approve someone else's invitation request",
  permission: "admin",
  arguments: { id: text({ description: "The invitation's id, from its message or `invite list`", schema: z.string().max(100) }) },
  examples: ["invite approve 7"],
  async run(context, args) {
    return approveInvitation(context, args.id);
  },
});
