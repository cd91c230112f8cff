import { z } from "zod";
import { revokeAccessToken } from "../../../core/tokens.ts";
import { tokenRevokedMessage } from "../../blocks/tokens.ts";
import { defineCommand } from "../define.ts";
import { text } from "../parameters.ts";

export default defineCommand({
  name: "token revoke",
  summary: "Stop one of your tokens working, at once",
  permission: "anyone",
  arguments: { id: text({ description: "The token's id, from `token list`", schema: z.string().max(100), field: { label: "Token id", placeholder: "3", hint: "From token list." } }) },
  examples: ["token revoke 3"],
  form: { title: "Revoke a token", submit: "Revoke", intro: "One of your personal tokens for git over HTTP.", confirm: "Revoke token {id}? Git clients using it stop working at once." },
  async run({ platform, actor }, args) {
    return tokenRevokedMessage(await revokeAccessToken(platform, { actor, id: args.id }));
  },
});
