import { z } from "zod";
import { linkIdentity, startIdentityLink } from "../../core/users.ts";
import { code, escapeText, say, when } from "../message.ts";
import { defineCommand } from "./define.ts";
import { text } from "./parameters.ts";

export default defineCommand({
  name: "link",
  summary: "Use one edgebot account from several workspaces: `link` where edgebot knows you gives a code, `link <code>` in the other workspace joins it",
  permission: "anyone",
  arguments: { code: text({ description: "The code `link` gave you in the other workspace", optional: true, schema: z.string().max(100) }) },
  examples: ["link", "link q3VbK8nR2xTm9LwP"],
  async run({ platform, actor, teamId }, args) {
    if (args.code === undefined) {
      const link = await startIdentityLink(platform, { actor });
      return say(
        `:link: To act as this edgebot account from another workspace, type ${code(`link ${link.code}`)} there before ${when(link.expiresAt)}. ` +
          "The code works once; keep it to yourself: whoever types it acts as you.",
      );
    }
    const user = await linkIdentity(platform, { actor, teamId, code: args.code });
    return say(`:link: Linked: here you are now ${escapeText(user.displayName)} (${escapeText(user.email)}), with the orgs of that account. Try ${code("org list")}.`);
  },
});
