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
    org: org({ description: "The org's slug", field: { label: "Org" } }),
    member: person({
      description: "The member, by @mention or email",
      field: { label: "Person", hint: "Someone in this workspace…" },
      emailField: { label: "…or their email", placeholder: "ana@client.example" },
    }),
  },
  examples: ["member remove acme @ana"],
  form: { title: "Remove a member", submit: "Remove", intro: "Takes a person out of an org: they lose its access at once.", confirm: "Remove {member} from {org}?" },
  async run({ platform, actor }, args) {
    const removed = await removeMember(platform, { actor, org: args.org, member: args.member });
    return say(`:white_check_mark: Removed ${escapeText(removed.member.displayName)} (${escapeText(describePerson(args.member))}) from *${removed.org}*.`);
  },
});
