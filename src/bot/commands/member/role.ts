import { z } from "zod";
import { changeRole } from "../../../core/members.ts";
import { roleChangeMessage } from "../../blocks/role-requests.ts";
import { defineCommand } from "../define.ts";
import { org, person, text } from "../parameters.ts";

export default defineCommand({
  name: "member role",
  summary: "Change a member's role (only owners touch the owner role); making someone admin or owner waits for approval",
  permission: "admin",
  arguments: {
    org: org({ description: "The org's slug" }),
    member: person({ description: "The member, by @mention or email" }),
    role: text({ description: "Their new role", choices: ["owner", "admin", "developer", "viewer"], schema: z.string().max(20) }),
  },
  examples: ["member role acme @ana developer", "member role acme ana@client.example admin"],
  async run({ platform, actor }, args) {
    return roleChangeMessage(await changeRole(platform, { actor, org: args.org, member: args.member, role: args.role }));
  },
});
