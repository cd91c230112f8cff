import { z } from "zod";
import { listConfigFiles, readConfigFile } from "../../../core/configs.ts";
import { configFileMessage, configListMessage } from "../../blocks/configs.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "config show",
  summary: "The files of an environment's configuration, or one file",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "The environment's name", schema: z.string().max(63) }),
    path: text({ description: "One file's path in the repository; every file when left out", optional: true, schema: z.string().max(1000) }),
  },
  examples: ["config show acme/www staging", "config show acme/www staging varnish/default.vcl"],
  async run({ platform, actor }, args) {
    const target = { actor, app: args.app, env: args.env };
    if (args.path === undefined) return configListMessage(await listConfigFiles(platform, target));
    return configFileMessage(await readConfigFile(platform, { ...target, path: args.path }));
  },
});
