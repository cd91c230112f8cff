import { z } from "zod";
import { claimHostname } from "../../../core/claims.ts";
import { claimMessage } from "../../blocks/claims.ts";
import { defineCommand } from "../define.ts";
import { app, text } from "../parameters.ts";

export default defineCommand({
  name: "domain claim",
  summary: "Prove control of a hostname's DNS with a TXT record, to take it from the org that holds it",
  permission: "developer",
  arguments: {
    app: app({ description: "The application that should serve it, `org/app`" }),
    env: text({ description: "The environment that should serve it", schema: z.string().max(63) }),
    hostname: text({ description: "The hostname another org holds", schema: z.string().max(2048) }),
  },
  examples: ["domain claim acme/www production www.acme.example"],
  async run({ platform, actor }, args) {
    return claimMessage(await claimHostname(platform, { actor, app: args.app, env: args.env, hostname: args.hostname }));
  },
});
