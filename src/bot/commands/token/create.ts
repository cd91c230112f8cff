import { createAccessToken } from "../../../core/tokens.ts";
import { newTokenMessage } from "../../blocks/tokens.ts";
import { defineCommand } from "../define.ts";

export default defineCommand({
  name: "token create",
  summary: "A personal access token for git over HTTP, shown once (use it as the password)",
  permission: "anyone",
  examples: ["token create"],
  async run({ platform, actor, gitBaseUrl }) {
    return newTokenMessage(await createAccessToken(platform, { actor }), gitBaseUrl);
  },
});
