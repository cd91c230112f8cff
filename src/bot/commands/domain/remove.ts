import { z } from "zod";
import { removeDomain } from "../../../core/domains.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "domain remove",
  summary: "Stop serving a hostname from an environment",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`", field: { label: "Application" } }),
    env: text({ description: "The environment that serves it", schema: z.string().max(63), field: { label: "Environment", placeholder: "production" } }),
    hostname: text({ description: "The hostname", schema: z.string().max(2048), field: { label: "Hostname", placeholder: "shop.example.com" } }),
  },
  examples: ["domain remove acme/www production shop.acme.example"],
  form: { title: "Remove a domain", submit: "Remove", intro: "The environment stops serving the hostname.", confirm: "Remove {hostname} from {app} {env}?" },
  async run({ platform, actor }, args) {
    const removed = await removeDomain(platform, { actor, app: args.app, env: args.env, hostname: args.hostname });
    return say(`:white_check_mark: Removed *${removed.hostname}* from *${removed.ref} ${removed.env}*.`);
  },
});
