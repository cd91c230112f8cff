import { setApplicationChannel } from "../../../core/applications.ts";
import { say } from "../../message.ts";
import { defineCommand } from "../define.ts";
import { app, channel } from "../parameters.ts";

export default defineCommand({
  name: "app channel",
  summary: "Post one application's notifications to a channel",
  permission: "admin",
  arguments: {
    app: app({ description: "The application, `org/app`" }),
    channelId: channel({ description: "The channel, like #www-alerts (in the shell, its id)" }),
  },
  examples: ["app channel acme/www #www-alerts"],
  async run({ platform, actor, teamId }, args) {
    const updated = await setApplicationChannel(platform, { actor, app: args.app, channelId: args.channelId, teamId });
    return say(`:white_check_mark: Notifications for *${updated.ref}* go to <#${updated.channelId}>.`);
  },
});
