import { z } from "zod";
import { decideRoleRequest } from "../../../core/role-requests.ts";
import { roleRequestOutcomeMessage } from "../../blocks/role-requests.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "member approve",
  summary: "Approve someone else's request to make a member admin or owner",
  permission: "admin",
  arguments: { id: text({ description: "The request's id, from its message or `member list`", schema: z.string().max(100) }) },
  examples: ["member approve 12"],
  async run({ platform, actor }, args) {
    return roleRequestOutcomeMessage(await decideRoleRequest(platform, { actor, id: args.id, decision: "approve" }));
  },
});
