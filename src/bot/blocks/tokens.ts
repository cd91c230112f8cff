import type { AccessTokenSummary, NewAccessToken } from "../../core/tokens.ts";
import { cloneUrl } from "../../core/clone-urls.ts";
import { MessageBuilder, say, when, type Message } from "../message.ts";

/** The answer to `token create`: the only time the token is shown (always to its owner alone). */
export function newTokenMessage(created: NewAccessToken, gitBaseUrl: string | undefined): Message {
  const clone = gitBaseUrl === undefined ? "`git clone <edgebot's address>/git/<org>/<app>.git`" : `\`git clone ${cloneUrl(gitBaseUrl, "<org>/<app>")}\``;
  return new MessageBuilder()
    .section(`:key: Your new token ${created.id}: \`${created.token}\``)
    .section(`Copy it now: edgebot keeps only a hash of it and cannot show it again. Use it as the password when git asks (any username), for ${clone}.`)
    .context(`It acts as you, with your role in each org. Revoke it with \`token revoke ${created.id}\`.`)
    .build();
}

/** `token list`: the acting user's live tokens, without their secrets. */
export function tokenListMessage(tokens: AccessTokenSummary[]): Message {
  if (tokens.length === 0) return say("You have no tokens. Make one for git over HTTP with `token create`.");
  return new MessageBuilder()
    .section(`*Your tokens* (${tokens.length})`)
    .list(tokens.map((token) => `${token.id} · ${token.hint} · created ${when(token.createdAt)} · ${token.lastUsedAt === null ? "never used" : `last used ${when(token.lastUsedAt)}`}`))
    .build();
}

export function tokenRevokedMessage(token: AccessTokenSummary): Message {
  return say(`:white_check_mark: Token ${token.id} (${token.hint}) is revoked: git requests with it are refused from now on.`);
}
