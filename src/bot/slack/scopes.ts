/**
 * Every Web API method edgebot calls with a bot token, and the bot scope it needs (null: none).
 * The speaker can call only these, so a new call must say here what it needs; the bot scopes an
 * install asks for, and the manifest's, are derived from this table (test/manifest.test.ts checks
 * that the code calls no other method).
 */
export const webApiScopes = {
  "chat.postMessage": "chat:write",
  "chat.update": "chat:write",
  "conversations.join": "channels:join",
  "users.info": "users:read",
  // users.info shows a profile's email only with this scope too.
  "users.lookupByEmail": "users:read.email",
  "views.open": null,
  "views.publish": null,
  "views.update": null,
} as const;

export type WebApiMethod = keyof typeof webApiScopes;

/** What each bot scope is for, as the manifest's comments say it. */
const scopePurposes: Record<string, string> = {
  commands: "the slash command",
  "chat:write": "answers, notifications and direct messages (chat.postMessage, chat.update)",
  "channels:join": "join a public channel to post notifications there (conversations.join)",
  "users:read": "who is typing or clicking (users.info)",
  "users:read.email": "register people by their profile email (users.info, users.lookupByEmail)",
};

/** The bot scopes an install asks for: the slash command's, and those of the methods called. */
export const botScopes: string[] = ["commands", ...new Set(Object.values(webApiScopes).filter((scope): scope is NonNullable<typeof scope> => scope !== null))];

/** Why edgebot asks for a scope, for the manifest and the docs. */
export function scopePurpose(scope: string): string {
  return scopePurposes[scope] ?? scope;
}
