import { showApplication } from "../../../core/applications.ts";
import { applicationDetailsMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { app } from "../parameters.ts";

export default defineCommand({
  name: "app show",
  summary: "An application's environments and their domains",
  permission: "member",
  readOnly: true,
  arguments: { app: app({ description: "The application, `org/app`" }) },
  examples: ["app show acme/www"],
  async run({ platform, actor }, args) {
    return applicationDetailsMessage(await showApplication(platform, { actor, app: args.app }));
  },
});
