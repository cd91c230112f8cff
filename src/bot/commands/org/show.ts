import { showOrg } from "../../../core/orgs.ts";
import { orgDetailsMessage } from "../../blocks/orgs.ts";
import { defineCommand } from "../define.ts";
import { org } from "../parameters.ts";

export default defineCommand({
  name: "org show",
  summary: "An org's owners, members, applications, billing contact and channel",
  permission: "member",
  readOnly: true,
  arguments: { org: org({ description: "The org's slug" }) },
  examples: ["org show acme"],
  async run({ platform, actor }, args) {
    return orgDetailsMessage(await showOrg(platform, { actor, org: args.org }));
  },
});
