import { z } from "zod";
import { setApprovalPolicy } from "../../../core/orgs.ts";
import { approvalPolicyMessage } from "../../blocks/role-requests.ts";
import { defineCommand } from "../define.ts";
import { org, text } from "../parameters.ts";

export default defineCommand({
  name: "org policy",
  summary: "How many owners or admins, other than the one who asks, approve granting admin or owner (1 by default)",
  permission: "owner",
  arguments: { org: org({ description: "The org's slug" }) },
  options: {
    approvals: text({ description: "Approvals needed: 1, 2 or 3", value: "1-3", required: true, schema: z.string().max(20) }),
  },
  examples: ["org policy acme --approvals 2"],
  async run({ platform, actor }, args) {
    return approvalPolicyMessage(await setApprovalPolicy(platform, { actor, org: args.org, approvals: args.approvals }));
  },
});
