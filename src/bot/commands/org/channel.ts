import { setOrgChannel } from "../../../core/orgs.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { channel, org } from "../parameters.ts";

export default defineCommand({
  name: "org channel",
  summary: "Post the org's notifications to a channel",
  permission: "admin",
  arguments: {
    org: org({ description: "The org's slug" }),
    channelId: channel({ description: "The channel, like #client-alerts (in the shell, its id)" }),
  },
  examples: ["org channel acme #acme-alerts"],
  async run({ platform, actor, teamId }, args) {
    const updated = await setOrgChannel(platform, { actor, org: args.org, channelId: args.channelId, teamId });
    return say(`:white_check_mark: Notifications for *${updated.slug}* go to <#${updated.channelId}>.`);
  },
});
