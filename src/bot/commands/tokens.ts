import { createAccessToken, listAccessTokens, revokeAccessToken } from "../../core/tokens.ts";
import { newTokenMessage, tokenListMessage, tokenRevokedMessage } from "../blocks/tokens.ts";
import type { Command } from "./command.ts";

export const tokenCommands: Command[] = [
  {
    name: "token create",
    usage: "token create",
    summary: "A personal access token for git over HTTP, shown once (use it as the password)",
    syntax: { positionals: [] },
    async run({ platform, actor, gitBaseUrl }) {
      return newTokenMessage(await createAccessToken(platform, { actor }), gitBaseUrl);
    },
  },
  {
    name: "token list",
    readOnly: true,
    usage: "token list",
    summary: "Your personal access tokens: id, created, last used (never the token)",
    syntax: { positionals: [] },
    async run({ platform, actor }) {
      return tokenListMessage(await listAccessTokens(platform, { actor }));
    },
  },
  {
    name: "token revoke",
    usage: "token revoke <id>",
    summary: "Stop one of your tokens working, at once",
    syntax: { positionals: [{ name: "id" }] },
    async run({ platform, actor }, args) {
      return tokenRevokedMessage(await revokeAccessToken(platform, { actor, id: args.text("id") }));
    },
  },
];
