import { z } from "zod";
import { decideRoleRequest } from "../../../core/role-requests.ts";
import { roleRequestOutcomeMessage } from "../../blocks/role-requests.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "member deny",
  summary: "Deny someone else's request to make a member admin or owner, with a reason if you like",
  permission: "admin",
  arguments: {
    id: text({ description: "The request's id, from its message or `member list`", schema: z.string().max(100) }),
    reason: text({ description: "Why, for the one who asked; the rest of the line", optional: true, rest: true, schema: z.string() }),
  },
  examples: ["member deny 12 one admin is enough for now"],
  async run({ platform, actor }, args) {
    return roleRequestOutcomeMessage(await decideRoleRequest(platform, { actor, id: args.id, decision: "deny", reason: args.reason }));
  },
});
