import { z } from "zod";
import { inviteMember } from "../../../core/invitations.ts";
import { invitationOutcomeMessage } from "../../blocks/invitations.ts";
import { defineCommand } from "../define.ts";
import { org, person, text } from "../parameters.ts";

export default defineCommand({
  name: "member invite",
  summary: "Invite someone to an org (viewer by default); a developer's invitation waits for an owner's or admin's approval",
  permission: "developer",
  arguments: {
    org: org({ description: "The org's slug", field: { label: "Org" } }),
    invitee: person({
      description: "Who to invite: an @mention, or the email of someone not in this workspace (they join with a one-time code)",
      field: { label: "Person", hint: "Someone in this workspace…" },
      emailField: { label: "…or their email", placeholder: "ana@client.example", hint: "For someone not in this workspace: they join with a one-time code." },
    }),
  },
  options: {
    role: text({
      description: "Their role: admin, developer or viewer (the default)",
      choices: ["admin", "developer", "viewer"],
      schema: z.string().max(20),
      field: { label: "Role", placeholder: "viewer", hint: "admin, developer or viewer (the usual role of a client user, and the default)." },
    }),
  },
  examples: ["member invite acme @ana --role developer", "member invite acme ana@client.example"],
  form: {
    title: "Invite someone",
    submit: "Invite",
    intro: "Add a person to an org. An owner's or admin's invitation takes effect at once; a developer's waits for an owner or admin to approve it.",
  },
  async run({ platform, actor }, args) {
    return invitationOutcomeMessage(await inviteMember(platform, { actor, org: args.org, invitee: args.invitee, role: args.role }));
  },
});
