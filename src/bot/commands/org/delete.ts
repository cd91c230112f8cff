import { z } from "zod";
import { deleteOrg } from "../../../core/orgs.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { org, text } from "../parameters.ts";

export default defineCommand({
  name: "org delete",
  summary: "Delete an org with all its applications and repositories",
  permission: "owner",
  arguments: { org: org({ description: "The org's slug", field: { label: "Org" } }) },
  options: {
    confirm: text({ description: "The org's slug again, to say you mean it", value: "org", required: true, repeats: "org", schema: z.string().max(200) }),
  },
  examples: ["org delete acme --confirm acme"],
  form: {
    title: "Delete an org",
    submit: "Delete",
    intro: "Deletes an org with all its applications and their repositories. Only an owner may.",
    confirm: "Delete org {org} with all its applications and their repositories?",
  },
  async run({ platform, actor }, args) {
    const deleted = await deleteOrg(platform, { actor, org: args.org, confirm: args.confirm });
    return say(`:wastebasket: Deleted org *${deleted.slug}* and its ${deleted.applications} application${deleted.applications === 1 ? "" : "s"}.`);
  },
});
