import { z } from "zod";
import { goLive } from "../../core/golive.ts";
import { goLiveResultsMessage } from "../blocks/dns.ts";
import { defineCommand } from "./define.ts";
import { app, text } from "./parameters.ts";

export default defineCommand({
  name: "golive",
  summary: "Check every domain's DNS now, post the results, and go live when all pass",
  permission: "developer",
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    env: text({ description: "The environment to take live", schema: z.string().max(63) }),
  },
  examples: ["golive acme/www production"],
  async run({ platform, actor }, args) {
    const result = await goLive(platform, { actor, app: args.app, env: args.env });
    const message = goLiveResultsMessage(result, { wentLive: result.wentLive, regressed: result.regressed, postedToChannel: result.posted, rechecking: result.rechecking });
    // With no channel of the application's or the org's, the results go where the command ran.
    return result.posted ? message : { ...message, inChannel: true };
  },
});
