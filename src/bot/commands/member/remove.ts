import { removeMember } from "../../../core/members.ts";
import { describePerson } from "../../../core/users.ts";
import { escapeText, say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { org, person } from "../parameters.ts";

export default defineCommand({
  name: "member remove",
  summary: "Remove someone from an org",
  permission: "admin",
  arguments: {
    org: org({ description: "The org's slug" }),
    member: person({ description: "The member, by @mention or email" }),
  },
  examples: ["member remove acme @ana"],
  async run({ platform, actor }, args) {
    const removed = await removeMember(platform, { actor, org: args.org, member: args.member });
    return say(`:white_check_mark: Removed ${escapeText(removed.member.displayName)} (${escapeText(describePerson(args.member))}) from *${removed.org}*.`);
  },
});
