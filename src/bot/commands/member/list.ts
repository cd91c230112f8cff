import { listMembers } from "../../../core/members.ts";
import { memberListMessage } from "../../blocks/orgs.ts";
import { defineCommand } from "../define.ts";
import { org } from "../parameters.ts";

export default defineCommand({
  name: "member list",
  summary: "Everyone in an org and their role",
  permission: "member",
  readOnly: true,
  arguments: { org: org({ description: "The org's slug" }) },
  examples: ["member list acme"],
  async run({ platform, actor }, args) {
    const { org: listed, members, requests } = await listMembers(platform, { actor, org: args.org });
    return memberListMessage(listed, members, requests);
  },
});
