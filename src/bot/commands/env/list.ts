import { listEnvironments } from "../../../core/environments.ts";
import { environmentListMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { app } from "../parameters.ts";

export default defineCommand({
  name: "env list",
  summary: "An application's environments",
  permission: "member",
  readOnly: true,
  arguments: { app: app({ description: "The application, `org/app`" }) },
  examples: ["env list acme/www"],
  async run({ platform, actor }, args) {
    const { ref, environments } = await listEnvironments(platform, { actor, app: args.app });
    return environmentListMessage(ref, environments);
  },
});
