import { z } from "zod";
import { decideInvitation } from "../../../core/invitations.ts";
import { invitationOutcomeMessage } from "../../blocks/invitations.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "invite deny",
  summary: "Deny someone else's invitation request, with a reason if you like",
  permission: "admin",
  arguments: {
    id: text({ description: "The invitation's id, from its message or `invite list`", schema: z.string().max(100) }),
    reason: text({ description: "Why, for the one who asked; the rest of the line", optional: true, rest: true, schema: z.string() }),
  },
  examples: ["invite deny 7 they left the client"],
  async run({ platform, actor }, args) {
    return invitationOutcomeMessage(await decideInvitation(platform, { actor, id: args.id, decision: "deny", reason: args.reason }));
  },
});
