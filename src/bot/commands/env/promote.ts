import { z } from "zod";
import { promoteEnvironment } from "../../../core/configs.ts";
import { promotionMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env promote",
  summary: "Merge one environment's configuration into another; into production needs an owner or admin",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    from: text({ description: "The environment whose configuration is promoted", schema: z.string().max(63) }),
    to: text({ description: "The environment it is promoted into", schema: z.string().max(63) }),
  },
  examples: ["env promote acme/www staging production"],
  async run({ platform, actor }, args) {
    return promotionMessage(await promoteEnvironment(platform, { actor, app: args.app, from: args.from, to: args.to }));
  },
});
