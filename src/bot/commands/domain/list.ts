import { z } from "zod";
import { listDomains } from "../../../core/domains.ts";
import { domainListMessage } from "../../blocks/applications.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "domain list",
  summary: "The domains of an application or one environment, with their DNS status, and its claims waiting for DNS",
  permission: "member",
  readOnly: true,
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "One environment; all of them when left out", optional: true, schema: z.string().max(63) }),
  },
  examples: ["domain list acme/www", "domain list acme/www staging"],
  async run({ platform, actor }, args) {
    const { ref, env, domains, claims } = await listDomains(platform, { actor, app: args.app, env: args.env });
    return domainListMessage(ref, env, domains, claims);
  },
});
