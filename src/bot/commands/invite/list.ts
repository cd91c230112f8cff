import { listInvitations } from "../../../core/invitations.ts";
import { invitationListMessage } from "../../blocks/invitations.ts";
import { defineCommand } from "../define.ts";
import { org } from "../parameters.ts";

export default defineCommand({
  name: "invite list",
  summary: "An org's waiting invitations and recent decisions",
  permission: "admin",
  readOnly: true,
  arguments: { org: org({ description: "The org's slug" }) },
  examples: ["invite list acme"],
  async run({ platform, actor }, args) {
    const { org: listed, invitations } = await listInvitations(platform, { actor, org: args.org });
    return invitationListMessage(listed, invitations);
  },
});
