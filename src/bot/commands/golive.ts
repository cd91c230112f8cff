import { z } from "zod";
import { goLive } from "../../core/golive.ts";
import { goLivePostedAnswer, goLiveResultsMessage } from "../blocks/dns.ts";
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
  async run({ platform, actor, teamId, conversation }, args) {
    const result = await goLive(platform, { actor, app: args.app, env: args.env, ...(conversation ? { conversation: { channelId: conversation.channelId, teamId } } : {}) });
    // The results are posted through the outbox; only where no conversation could take them does the answer hold them.
    if (result.posted === undefined) return goLiveResultsMessage(result);
    const where = result.posted.of !== "conversation" ? { channel: result.posted.channelId } : conversation?.direct ? "direct" : "here";
    return goLivePostedAnswer(result, where);
  },
});
