import type { Logger } from "pino";
import { deliverDueNotifications, findPostedMessage, hasNewerEdit, isMessageEdit, type DeliveryOutcome, type MessageEditKind, type Notification } from "../../core/notifications.ts";
import { OutageLog } from "../../core/outages.ts";
import type { Platform } from "../../core/platform.ts";
import { notificationMessage } from "../blocks/notifications.ts";
import type { Message } from "../message.ts";
import { SlackCallFailed, SlackSpeaker, type SlackBot } from "./speaker.ts";

/**
 * The bot token that posts in a workspace (`teamId`, null for a channel set before workspaces
 * were recorded); undefined when edgebot is not installed there.
 */
export type BotTokenLookup = (teamId: string | null) => Promise<string | undefined>;

/** One workspace: its one bot token posts every notification. */
export const singleWorkspaceToken = (botToken: string): BotTokenLookup => async () => botToken;

export interface OutboxWorkerOptions {
  /** Where the outbox is kept. */
  platform: Pick<Platform, "db">;
  botTokenFor: BotTokenLookup;
  /** The Web API's base URL (SLACK_API_URL); Slack's own when unset. */
  slackApiUrl?: string;
  logger: Logger;
  /** How often to look for due messages (default 1 s). */
  pollMs?: number;
  /** Delay after the first failure; it doubles with each attempt (default 2 s). */
  backoffBaseMs?: number;
  /** The longest delay between attempts (default 5 min). */
  backoffMaxMs?: number;
  /** Attempts before a message is given up, with its last error kept (default 8). */
  maxAttempts?: number;
  /** Messages one pass delivers at most before yielding to the next poll (default 100). */
  batchSize?: number;
  /** While the database cannot be reached, the longest pause between passes; it grows from `pollMs` (default 5 s). */
  outagePollMaxMs?: number;
}

export interface OutboxWorker {
  /** Delivers what is due now; resolves with how many were delivered. */
  deliverDue(): Promise<number>;
  /**
   * Something was written to the outbox (a NOTIFY from the committing transaction): a pass starts
   * now instead of at the next poll, or, during one, right after it.
   */
  wake(): void;
  /** Stops polling and waits for the pass in progress, so no row is left half-handled. */
  stop(): Promise<void>;
}

/**
 * Posts the outbox's messages to Slack, each exactly once as far as Slack lets us: a row is
 * claimed with a lease (`deliverDueNotifications`), posted, and marked delivered, so no other
 * worker (in this process or another) takes it while it is in flight. One window is left: a
 * crash or lost database connection after Slack accepted the post but before the mark leaves
 * the row undelivered, and it is posted again when its lease ends. The mark is the very next
 * statement, so that window is one message wide and one round trip long.
 */
export function startOutboxWorker(options: OutboxWorkerOptions): OutboxWorker {
  const pollMs = options.pollMs ?? 1000;
  const backoffBaseMs = options.backoffBaseMs ?? 2000;
  const backoffMaxMs = options.backoffMaxMs ?? 5 * 60_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const { logger } = options;
  const { db } = options.platform;
  // One try per attempt: the worker owns retries and rate-limit waits (a speaker retrying on its
  // own would outlast the delivery lease), and a request times out well inside the lease.
  const speaker = new SlackSpeaker({ apiUrl: options.slackApiUrl, policy: { retries: 0, timeoutMs: 10_000 } });
  // Slack's rate limits are per workspace: a 429 pauses that workspace until its Retry-After
  // ends, and this worker leaves its notifications due but unclaimed; other workspaces go on.
  const pausedUntil = new Map<string | null, number>();
  const pausedWorkspaces = (): Array<string | null> => {
    const now = Date.now();
    for (const [teamId, until] of pausedUntil) if (until <= now) pausedUntil.delete(teamId);
    return [...pausedUntil.keys()];
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> = Promise.resolve();

  const retryLater = (notification: Notification, error: string): DeliveryOutcome => {
    const delay = Math.min(backoffMaxMs, backoffBaseMs * 2 ** notification.attempts);
    return { delivered: false, error, retryAt: new Date(Date.now() + delay) };
  };

  const deliver = async (notification: Notification): Promise<DeliveryOutcome> => {
    let token: string | undefined;
    try {
      token = await options.botTokenFor(notification.teamId);
    } catch (error) {
      // The installation could not be read (database, or a token the key does not open): not the message's fault.
      return retryLater(notification, `could not read the workspace's bot token: ${(error as Error).message}`);
    }
    if (token === undefined) return { delivered: false, error: notInstalled(notification) };
    return post(speaker.bot(token), notification, false);
  };

  const post = async (bot: SlackBot, notification: Notification, joined: boolean): Promise<DeliveryOutcome> => {
    const message = notificationMessage(notification);
    try {
      if (isMessageEdit(notification)) return await editCopy(bot, notification, message);
      const posted = await bot.post(notification.channelId, message, { unfurl: false });
      return { delivered: true, messageTs: posted.ts, messageChannelId: posted.channel };
    } catch (error) {
      if (!(error instanceof SlackCallFailed)) return retryLater(notification, (error as Error).message ?? String(error));
      const { failure } = error;
      switch (failure.kind) {
        case "rate_limited": {
          const until = Math.max(pausedUntil.get(notification.teamId) ?? 0, Date.now() + failure.retryAfterMs);
          pausedUntil.set(notification.teamId, until);
          logger.warn({ outboxId: notification.id, teamId: notification.teamId, retryAfterSeconds: failure.retryAfterMs / 1000 }, "Slack rate limited the outbox in a workspace; pausing that workspace");
          return { delivered: false, error: `rate limited: retry after ${failure.retryAfterMs / 1000}s`, retryAt: new Date(until), countsAsAttempt: false };
        }
        case "http":
          if (error.transient) return retryLater(notification, `HTTP ${failure.status} from Slack`);
          return { delivered: false, error: `HTTP ${failure.status} from Slack` };
        case "unreachable":
          return retryLater(notification, `could not reach Slack: ${failure.detail}`);
        case "refused":
          if (failure.code === "not_in_channel" && !joined) return joinThenPost(bot, notification);
          if (error.transient) return retryLater(notification, `Slack answered ${failure.code}`);
          return { delivered: false, error: undeliverable(notification.channelId, failure.code) };
      }
    }
  };

  // An edit of a message posted earlier: it waits for that message, and is moot without it or
  // once a later edit of it exists (that one shows more).
  const editCopy = async (bot: SlackBot, notification: Extract<Notification, { kind: MessageEditKind }>, message: Message): Promise<DeliveryOutcome> => {
    if (await hasNewerEdit(db, { id: notification.id, copy: notification.payload.copy })) return { delivered: true, messageTs: null };
    const copy = await findPostedMessage(db, notification.payload.copy);
    if (copy.state === "pending") return retryLater(notification, "the message to edit is not posted yet");
    if (copy.state === "never") return { delivered: false, error: "the message to edit was never posted" };
    await bot.update(copy.channelId, copy.ts, message);
    return { delivered: true, messageTs: copy.ts, messageChannelId: copy.channelId };
  };

  // Public channels can be joined; a private one answers an error and someone must invite the bot:
  // the person whose change it was is told so, since nobody reads last_error.
  const joinThenPost = async (bot: SlackBot, notification: Notification): Promise<DeliveryOutcome> => {
    try {
      await bot.joinChannel(notification.channelId);
    } catch (error) {
      const code = error instanceof SlackCallFailed && error.failure.kind === "refused" ? error.failure.code : undefined;
      if (code === undefined) return retryLater(notification, `could not join the channel: ${(error as Error).message}`);
      return {
        delivered: false,
        error: `the bot is not in channel ${notification.channelId} and cannot join it (${code}): invite it to the channel, then set the channel again`,
        tellActor: notification.kind !== "channel.unreachable",
      };
    }
    return post(bot, notification, true);
  };

  const deliverDue = (): Promise<number> =>
    deliverDueNotifications(db, deliver, { maxAttempts, limit: options.batchSize ?? 100, shouldStop: () => stopped, heldWorkspaces: pausedWorkspaces });

  // Paused workspaces do not stretch the poll: others may have messages due. A pass that finds
  // only paused workspaces' messages costs one claim query, like a pass that finds none.
  // A database that cannot be reached does: the outbox waits for it, logging once, and the
  // messages stay in it to be delivered when it is back.
  const outage = new OutageLog(logger, "the outbox");
  const outagePollMaxMs = Math.max(pollMs, options.outagePollMaxMs ?? 5000);
  const nextPollMs = () => (outage.ongoing ? Math.min(outagePollMaxMs, pollMs * 2 ** outage.consecutiveFailures) : pollMs);
  let passing = false;
  let wokenDuringPass = false;
  const runPass = () => {
    passing = true;
    wokenDuringPass = false;
    pass = deliverDue()
      .then(
        () => outage.succeeded(),
        (error: unknown) => {
          if (!outage.failed(error)) logger.error({ err: error }, "outbox delivery pass failed");
        },
      )
      .finally(() => {
        passing = false;
        // Woken while passing: what was written may have come after this pass's last claim.
        if (wokenDuringPass && !outage.ongoing) runNow();
        else schedule();
      });
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(runPass, nextPollMs());
  };
  const runNow = () => {
    if (stopped) return;
    clearTimeout(timer);
    runPass();
  };
  schedule();

  return {
    deliverDue,
    wake() {
      if (passing) wokenDuringPass = true;
      else runNow();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}

function notInstalled(notification: Notification): string {
  if (notification.teamId === null) return `channel ${notification.channelId} was set before edgebot recorded workspaces: set the channel again`;
  return `edgebot is not installed in workspace ${notification.teamId} (or was uninstalled): install it again, then set the channel again`;
}

function undeliverable(channelId: string, code: string): string {
  switch (code) {
    case "channel_not_found":
      return `channel ${channelId} does not exist or the bot cannot see it (channel_not_found): set the channel again`;
    case "is_archived":
      return `channel ${channelId} is archived (is_archived): set another channel`;
    default:
      return `Slack refused the message (${code})`;
  }
}
