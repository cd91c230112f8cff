import { z } from "zod";
import { diffEnvironments } from "../../../core/configs.ts";
import { environmentDiffMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "env diff",
  summary: "What promoting one environment into another would bring: files and diff",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    from: text({ description: "The environment whose configuration would be promoted", schema: z.string().max(63) }),
    to: text({ description: "The environment it would be promoted into", schema: z.string().max(63) }),
  },
  examples: ["env diff acme/www staging production"],
  async run({ platform, actor }, args) {
    return environmentDiffMessage(await diffEnvironments(platform, { actor, app: args.app, from: args.from, to: args.to }));
  },
});
