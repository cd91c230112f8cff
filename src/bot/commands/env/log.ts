import { z } from "zod";
import { environmentLog } from "../../../core/configs.ts";
import { environmentLogMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env log",
  summary: "Recent commits of an environment: who, when, what",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "The environment's name", schema: z.string().max(63) }),
  },
  options: { limit: text({ description: "How many commits to show", value: "n", schema: z.string().max(20) }) },
  examples: ["env log acme/www staging --limit 5"],
  async run({ platform, actor }, args) {
    return environmentLogMessage(await environmentLog(platform, { actor, app: args.app, env: args.env, limit: args.limit }));
  },
});
