import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { webApi } from "@slack/bolt";
import type { HomeView, KnownBlock, ModalView } from "@slack/types";
import type { Message } from "../message.ts";
import type { WebApiMethod } from "./scopes.ts";

/**
 * How hard the speaker tries one call. A transient failure (Slack unreachable, an HTTP 5xx or
 * 408, or Slack saying it is struggling) is tried again after a short backoff that doubles; a
 * rate limit is tried again once its Retry-After has passed, unless that is longer than a
 * person would wait. Anything else fails at once.
 */
export interface SpeakingPolicy {
  /** Tries after the first (0: one try, and the caller schedules any later one). */
  retries: number;
  /** The wait after the first transient failure; it doubles with each try, up to `maxBackoffMs`. */
  firstBackoffMs: number;
  maxBackoffMs: number;
  /** The longest Retry-After waited for; a longer one fails the call at once, as rate limited. */
  maxRetryAfterMs: number;
  /** How long one Web API request may take before it counts as Slack being unreachable. */
  timeoutMs: number;
}

/** Someone is waiting on the answer: two more tries within about a second, and a rate limit waited out when it is short. */
export const personWaiting: SpeakingPolicy = { retries: 2, firstBackoffMs: 250, maxBackoffMs: 1000, maxRetryAfterMs: 5000, timeoutMs: 10_000 };

/** Why Slack did not take a call. */
export type SlackFailure =
  /** Slack asked to wait (HTTP 429) for `retryAfterMs`. */
  | { kind: "rate_limited"; retryAfterMs: number }
  /** Slack answered with an HTTP error status. */
  | { kind: "http"; status: number }
  /** No answer: the network, a timeout. */
  | { kind: "unreachable"; detail: string }
  /** Slack answered `ok: false` with this error code (`channel_not_found`, `not_in_channel`, …). */
  | { kind: "refused"; code: string };

// Slack answers these when it is struggling, not when the call is wrong: trying again may work.
const strugglingCodes = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"]);

/** A call Slack did not take, after the policy's tries. */
export class SlackCallFailed extends Error {
  override name = "SlackCallFailed";
  constructor(
    readonly failure: SlackFailure,
    what: string,
    options?: ErrorOptions,
  ) {
    super(`${what}: ${describeFailure(failure)}`, options);
  }

  /** Whether trying again later may work: not the call's fault. */
  get transient(): boolean {
    return isTransient(this.failure);
  }
}

/** An answer through a response URL: ephemeral (only the person sees it) or for the whole conversation. */
export interface ResponseUrlAnswer {
  text: string;
  blocks?: KnownBlock[];
  /** Who sees it (default: only the person). */
  visibility?: "ephemeral" | "in_channel";
  /** For an answer to a message's button: false keeps that message and adds the answer under it. */
  replaceOriginal?: boolean;
}

/** A Slack user as users.info and users.lookupByEmail describe them. */
export type SlackUser = NonNullable<webApi.UsersInfoResponse["user"]>;

/**
 * One workspace's bot, speaking through the speaker with that workspace's bot token. Every
 * call follows the speaker's policy and fails with `SlackCallFailed`.
 */
export interface SlackBot {
  /** Posts a message in a conversation (a user id posts in the direct message channel with them); says where it landed. */
  post(channel: string, message: Message, options?: { unfurl?: boolean }): Promise<{ channel: string | null; ts: string | null }>;
  /** Replaces a message the bot posted. */
  update(channel: string, ts: string, message: Message): Promise<void>;
  /** Tells a person something directly, in the direct message channel with them. */
  tell(slackUserId: string, message: Message): Promise<void>;
  /** Publishes a person's Home tab. */
  publishHome(slackUserId: string, view: HomeView): Promise<void>;
  /** Opens a modal for the person whose click or command gave `triggerId`. */
  openModal(triggerId: string, view: ModalView): Promise<void>;
  /** Replaces an open modal. */
  updateModal(viewId: string, view: ModalView): Promise<void>;
  /** Joins a public channel. */
  joinChannel(channel: string): Promise<void>;
  /** A person's profile (users.info). */
  user(slackUserId: string): Promise<SlackUser | undefined>;
  /** The person the workspace knows by `email`, if any (users.lookupByEmail). */
  userByEmail(email: string): Promise<SlackUser | undefined>;
}

/** Clients kept at most, one per bot token; past that the cache starts again (tokens of uninstalled workspaces go). */
const maxClients = 1000;

/** How long Slack has to take an answer through a response URL. */
const responseUrlTimeoutMs = 5000;

/**
 * The one place edgebot speaks to Slack: messages, their edits and direct messages, the Home
 * tab, modals, answers through response URLs, and the profile lookups that tell who someone
 * is. Every call follows one `SpeakingPolicy`: the Web API clients underneath neither retry
 * nor wait on rate limits themselves, so no call retries twice over.
 */
export class SlackSpeaker {
  private readonly clients = new Map<string, webApi.WebClient>();
  /** Each workspace's bot, made once: every request asks for its workspace's. */
  private readonly bots = new Map<string, SlackBot>();
  private readonly policy: SpeakingPolicy;

  constructor(
    private readonly options: {
      /** The Web API's base URL (SLACK_API_URL); Slack's own when unset. */
      apiUrl?: string | undefined;
      /** Default: `personWaiting`. */
      policy?: Partial<SpeakingPolicy>;
    } = {},
  ) {
    this.policy = { ...personWaiting, ...options.policy };
  }

  /** The bot of the workspace whose bot token is `token`. */
  bot(token: string): SlackBot {
    let bot = this.bots.get(token);
    if (!bot) {
      if (this.bots.size >= maxClients) this.bots.clear();
      bot = this.newBot(token);
      this.bots.set(token, bot);
    }
    return bot;
  }

  private newBot(token: string): SlackBot {
    const call = async <T>(method: WebApiMethod, args: Record<string, unknown>): Promise<T> => {
      const client = this.clientFor(token);
      return this.withRetries(async () => {
        try {
          return (await client.apiCall(method, args)) as T;
        } catch (error) {
          throw new SlackCallFailed(webApiFailure(error), method, { cause: error });
        }
      });
    };
    return {
      post: async (channel, message, options = {}) => {
        const unfurl = options.unfurl === false ? { unfurl_links: false, unfurl_media: false } : {};
        const posted = await call<webApi.ChatPostMessageResponse>("chat.postMessage", { channel, text: message.text, blocks: message.blocks, ...unfurl });
        return { channel: posted.channel ?? null, ts: posted.ts ?? null };
      },
      update: async (channel, ts, message) => {
        await call("chat.update", { channel, ts, text: message.text, blocks: message.blocks });
      },
      tell: async (slackUserId, message) => {
        await call("chat.postMessage", { channel: slackUserId, text: message.text, blocks: message.blocks });
      },
      publishHome: async (slackUserId, view) => {
        await call("views.publish", { user_id: slackUserId, view });
      },
      openModal: async (triggerId, view) => {
        await call("views.open", { trigger_id: triggerId, view });
      },
      updateModal: async (viewId, view) => {
        await call("views.update", { view_id: viewId, view });
      },
      joinChannel: async (channel) => {
        await call("conversations.join", { channel });
      },
      user: async (slackUserId) => (await call<webApi.UsersInfoResponse>("users.info", { user: slackUserId })).user,
      userByEmail: async (email) => {
        try {
          return (await call<webApi.UsersLookupByEmailResponse>("users.lookupByEmail", { email })).user as SlackUser | undefined;
        } catch (error) {
          if (error instanceof SlackCallFailed && error.failure.kind === "refused" && error.failure.code === "users_not_found") return undefined;
          throw error;
        }
      },
    };
  }

  /** Answers through a response URL (a slash command's, or a message button's). */
  async answer(responseUrl: string, answer: ResponseUrlAnswer): Promise<void> {
    const body = {
      response_type: answer.visibility ?? "ephemeral",
      ...(answer.replaceOriginal === undefined ? {} : { replace_original: answer.replaceOriginal }),
      text: answer.text,
      ...(answer.blocks === undefined ? {} : { blocks: answer.blocks }),
    };
    const json = JSON.stringify(body);
    await this.withRetries(async () => {
      let response: { status: number; retryAfter: string | undefined };
      try {
        response = await postJson(responseUrl, json, responseUrlTimeoutMs);
      } catch (error) {
        throw new SlackCallFailed({ kind: "unreachable", detail: (error as Error).message }, "the response URL", { cause: error });
      }
      if (response.status === 429) throw new SlackCallFailed({ kind: "rate_limited", retryAfterMs: retryAfterMs(response.retryAfter ?? null) }, "the response URL");
      if (response.status < 200 || response.status > 299) throw new SlackCallFailed({ kind: "http", status: response.status }, "the response URL");
    });
  }

  /** Runs `attempt` until it succeeds, fails for good, or the policy's tries are spent. */
  private async withRetries<T>(attempt: () => Promise<T>): Promise<T> {
    const { retries, firstBackoffMs, maxBackoffMs, maxRetryAfterMs } = this.policy;
    for (let tried = 0; ; tried += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof SlackCallFailed) || !error.transient || tried >= retries) throw error;
        const { failure } = error;
        const waitMs = failure.kind === "rate_limited" ? failure.retryAfterMs : Math.min(maxBackoffMs, firstBackoffMs * 2 ** tried);
        if (waitMs > maxRetryAfterMs) throw error;
        await sleep(waitMs);
      }
    }
  }

  private clientFor(token: string): webApi.WebClient {
    let client = this.clients.get(token);
    if (!client) {
      if (this.clients.size >= maxClients) this.clients.clear();
      client = new webApi.WebClient(token, {
        ...(this.options.apiUrl ? { slackApiUrl: this.options.apiUrl } : {}),
        // The policy owns retries and rate-limit waits: the client makes exactly one request per try.
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: this.policy.timeoutMs,
        logLevel: webApi.LogLevel.ERROR,
      });
      this.clients.set(token, client);
    }
    return client;
  }
}

function isTransient(failure: SlackFailure): boolean {
  switch (failure.kind) {
    case "rate_limited":
    case "unreachable":
      return true;
    case "http":
      return failure.status >= 500 || failure.status === 408;
    case "refused":
      return strugglingCodes.has(failure.code);
  }
}

function describeFailure(failure: SlackFailure): string {
  switch (failure.kind) {
    case "rate_limited":
      return `rate limited: retry after ${failure.retryAfterMs / 1000}s`;
    case "http":
      return `HTTP ${failure.status} from Slack`;
    case "unreachable":
      return `could not reach Slack: ${failure.detail}`;
    case "refused":
      return `Slack answered ${failure.code}`;
  }
}

/** What a Web API client's error says went wrong. */
function webApiFailure(error: unknown): SlackFailure {
  const failure = error as { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string }; message?: string };
  switch (failure.code) {
    case webApi.ErrorCode.RateLimitedError:
      return { kind: "rate_limited", retryAfterMs: Math.max(1, failure.retryAfter ?? 1) * 1000 };
    case webApi.ErrorCode.HTTPError:
      return { kind: "http", status: failure.statusCode ?? 0 };
    case webApi.ErrorCode.PlatformError:
      return { kind: "refused", code: failure.data?.error ?? "unknown_error" };
    default:
      return { kind: "unreachable", detail: failure.message ?? String(error) };
  }
}

/**
 * POSTs a JSON body and resolves with the answer's status once its body has been read. Node's
 * http client rather than fetch: on the answer path of every command, fetch cost edgebot a
 * sixth of its closed-loop throughput in the Slack benchmark (docs/BENCHMARKS.md).
 */
function postJson(url: string, json: string, timeoutMs: number): Promise<{ status: number; retryAfter: string | undefined }> {
  const target = new URL(url);
  if (target.protocol !== "https:" && target.protocol !== "http:") return Promise.reject(new Error(`not an HTTP URL: ${target.protocol}`));
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(target, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(json) }, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, retryAfter: headerText(response.headers["retry-after"]) }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end(json);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds, as Slack sends it; a second when absent or unreadable. */
function retryAfterMs(header: string | null): number {
  const seconds = Number(header);
  return Math.max(1, Number.isFinite(seconds) ? seconds : 1) * 1000;
}
