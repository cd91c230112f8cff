import { z } from "zod";
import { redeemInvitation } from "../../core/invitations.ts";
import { code, say } from "../message.ts";
import { defineCommand } from "./define.ts";
import { text } from "./parameters.ts";

export default defineCommand({
  name: "join",
  summary: "Join an org with the one-time code of an invitation for your email",
  permission: "anyone",
  arguments: { code: text({ description: "The one-time code of your invitation", schema: z.string().max(100) }) },
  examples: ["join Hk4Zp7Qm2VtR9sYc"],
  async run({ platform, actor }, args) {
    const joined = await redeemInvitation(platform, { actor, code: args.code });
    return say(`:wave: Welcome: you are now ${joined.role} of *${joined.org}*. Try ${code(`app list ${joined.org}`)}.`);
  },
});
