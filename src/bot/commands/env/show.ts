import { z } from "zod";
import { showEnvironment } from "../../../core/environments.ts";
import { environmentDetailsMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env show",
  summary: "One environment and its domains' last known DNS status",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "The environment's name", schema: z.string().max(63) }),
  },
  examples: ["env show acme/www staging"],
  async run({ platform, actor }, args) {
    return environmentDetailsMessage(await showEnvironment(platform, { actor, app: args.app, env: args.env }));
  },
});
