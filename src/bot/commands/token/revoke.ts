import { z } from "zod";
import { revokeAccessToken } from "../../../core/tokens.ts";
import { tokenRevokedMessage } from "../../blocks/tokens.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "token revoke",
  summary: "Stop one of your tokens working, at once",
  permission: "anyone",
  arguments: { id: text({ description: "The token's id, from `token list`", schema: z.string().max(100) }) },
  examples: ["token revoke 3"],
  async run({ platform, actor }, args) {
    return tokenRevokedMessage(await revokeAccessToken(platform, { actor, id: args.id }));
  },
});
