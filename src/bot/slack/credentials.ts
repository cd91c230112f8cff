import { setTimeout as sleep } from "node:timers/promises";
import { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { ConfigError } from "../../config.ts";

/** Slack's answers to a token that no retry will make work: the operator must set another. */
const refusals = new Set(["invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "team_disabled", "user_removed_from_team", "not_allowed_token_type"]);

/** Who the bot token belongs to, as `auth.test` describes it. */
export interface BotIdentity {
  teamId: string;
  botUserId: string;
  botId: string;
}

export interface SlackCredentials {
  botToken: string;
  /** Socket Mode's app-level token, checked too when given. */
  appToken?: string | undefined;
  /** SLACK_API_URL, when set. */
  apiUrl?: string | undefined;
}

export interface CheckOptions {
  logger: Logger;
  /** Ends the waiting while Slack cannot be reached (a stop asked for meanwhile). */
  signal?: AbortSignal;
  /** The first wait after a failed try, doubling up to `maxDelayMs` (defaults 1 s and 30 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Asks Slack about the tokens before edgebot says it is listening: the bot token with
 * `auth.test`, Socket Mode's app token with `apps.connections.open` (whose URL is left unused;
 * Bolt opens its own). The identity it returns is handed to Bolt, which would otherwise make
 * the same call itself when the App is built, with nobody to catch its failure. A token Slack refuses throws a `ConfigError` naming its variable. While
 * Slack cannot be reached, or answers with a failure of its own, each try is logged and the
 * next comes after a growing wait, for as long as it takes: a network that is down at start
 * is no reason to exit.
 */
export async function checkSlackCredentials(credentials: SlackCredentials, options: CheckOptions): Promise<BotIdentity> {
  const answer = (await askUntilAnswered("SLACK_BOT_TOKEN", credentials.botToken, "auth.test", credentials.apiUrl, options)) as { team_id?: unknown; user_id?: unknown; bot_id?: unknown };
  if (credentials.appToken !== undefined) await askUntilAnswered("SLACK_APP_TOKEN", credentials.appToken, "apps.connections.open", credentials.apiUrl, options);
  return { teamId: String(answer.team_id ?? ""), botUserId: String(answer.user_id ?? ""), botId: String(answer.bot_id ?? "") };
}

async function askUntilAnswered(variable: string, token: string, method: string, apiUrl: string | undefined, options: CheckOptions): Promise<webApi.WebAPICallResult> {
  // No retries inside the client: this loop owns them, and logs each.
  const client = new webApi.WebClient(token, { ...(apiUrl ? { slackApiUrl: apiUrl } : {}), retryConfig: { retries: 0 }, timeout: 10_000, logLevel: webApi.LogLevel.ERROR });
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.firstDelayMs ?? 1000;
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await client.apiCall(method);
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code !== undefined && refusals.has(code)) throw new ConfigError(`${variable}: Slack refused it (${code}); set a valid token from the app's settings`);
      options.logger.warn({ variable, method, attempt, retryInMs: delayMs, error: code ?? (error as Error).message }, "Slack did not answer the token check; trying again");
    }
    await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {});
    delayMs = Math.min(maxDelayMs, delayMs * 2);
  }
}
