import { listAccessTokens } from "../../../core/tokens.ts";
import { tokenListMessage } from "../../blocks/tokens.ts";
import { defineCommand } from "../define.ts";

export default defineCommand({
  name: "token list",
  summary: "Your personal access tokens: id, created, last used (never the token)",
  permission: "anyone",
  readOnly: true,
  examples: ["token list"],
  async run({ platform, actor }) {
    return tokenListMessage(await listAccessTokens(platform, { actor }));
  },
});
