import { listOrgs } from "../../../core/orgs.ts";
import { orgListMessage } from "../../blocks/orgs.ts";
import { defineCommand } from "../define.ts";

export default defineCommand({
  name: "org list",
  summary: "The orgs you belong to",
  permission: "anyone",
  readOnly: true,
  examples: ["org list"],
  async run({ platform, actor }) {
    return orgListMessage(await listOrgs(platform, { actor }));
  },
});
