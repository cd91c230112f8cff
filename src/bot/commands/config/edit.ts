import { z } from "zod";
import { startConfigEdit } from "../../../core/configs.ts";
import { editNeedsSlackMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "config edit",
  summary: "Edit one file and commit it to the environment; production needs an owner or admin",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "The environment's name", schema: z.string().max(63) }),
    path: text({ description: "The file's path in the repository", schema: z.string().max(1000) }),
  },
  examples: ["config edit acme/www staging varnish/default.vcl"],
  async run({ platform, actor, openEditor }, args) {
    const file = await startConfigEdit(platform, { actor, app: args.app, env: args.env, path: args.path });
    return openEditor === undefined ? editNeedsSlackMessage(file) : openEditor(file);
  },
});
