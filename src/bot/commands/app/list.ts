import { listApplications } from "../../../core/applications.ts";
import { applicationListMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { org } from "../parameters.ts";

export default defineCommand({
  name: "app list",
  summary: "Applications in one org, or in all of yours",
  permission: "member",
  readOnly: true,
  arguments: { org: org({ description: "The org's slug; every org of yours when left out", optional: true }) },
  examples: ["app list", "app list acme"],
  async run({ platform, actor }, args) {
    return applicationListMessage(args.org ?? "your orgs", await listApplications(platform, { actor, org: args.org }));
  },
});
