import { z } from "zod";
import { renameOrg } from "../../../core/orgs.ts";
import { escapeText, say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { org, text } from "../parameters.ts";

export default defineCommand({
  name: "org rename",
  summary: "Change an org's display name",
  permission: "owner",
  arguments: {
    org: org({ description: "The org's slug" }),
    name: text({ description: "The new display name; the rest of the line, quotes optional", value: "display name", rest: true, schema: z.string().max(1000) }),
  },
  examples: ['org rename acme "Acme Corporation"'],
  async run({ platform, actor }, args) {
    const renamed = await renameOrg(platform, { actor, org: args.org, name: args.name });
    return say(`:white_check_mark: *${renamed.slug}* is now called ${escapeText(renamed.name)}.`);
  },
});
