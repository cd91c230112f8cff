import type { AllMiddlewareArgs, AnyMiddlewareArgs, Context, Middleware } from "@slack/bolt";
import type { Logger } from "pino";
import { onceForRequest, type Actor, type Platform } from "../../core/platform.ts";
import type { CommandContext } from "../commands/command.ts";
import type { Message } from "../message.ts";
import { openConfigEditor } from "./config-editor.ts";
import type { SlackIdentities } from "./identities.ts";
import type { SlackBot, SlackSpeaker } from "./speaker.ts";

/** Who a person is to edgebot, or why that cannot be told. */
export type Identity =
  /** Registered (now, if they are new): `command` is what a command they run works with. */
  | { kind: "known"; actor: Actor; command: CommandContext }
  /** Their Slack profile shows no email (the app lacks users:read.email, or the profile hides it). */
  | { kind: "no_email" }
  /** Not now: Slack or the database did not answer. */
  | { kind: "unavailable"; error: unknown };

/** The person acting in a request, and what listeners need to act for them: put on Bolt's context as `acting`. */
export interface Acting {
  /** The workspace the request came from. */
  teamId: string;
  /** The person's Slack user id. */
  slackUserId: string;
  /** The workspace's bot, speaking through the speaker. */
  bot: SlackBot;
  /**
   * The platform for this request: people named by email are looked for in this workspace, then
   * in the others edgebot is installed in; a submitted modal's change takes effect once.
   */
  platform: Platform;
  /** Tells another person something directly, now, in this workspace. */
  tellNow: (person: Actor, message: Message) => Promise<void>;
  /** The response URL the request came with (a slash command's, a message button's), where its answer goes. */
  responseUrl: string | undefined;
  /** Registers the people `text` mentions (`<@U…>`), as a command line naming them does. */
  introduceMentioned(text: string): Promise<void>;
  /**
   * Who the person is. Asked (of the database, and of Slack for someone new or not seen for a
   * while) on the first call, so a listener acknowledges before the lookup; later calls share it.
   */
  who(): Promise<Identity>;
  /** A logger naming the workspace and the person. */
  log: Logger;
}

export interface ActingDependencies {
  platform: Platform;
  identities: SlackIdentities;
  speaker: SlackSpeaker;
  logger: Logger;
}

/**
 * The global middleware that tells who is acting, for every listener: a slash command, a
 * button, a modal submitted, a picker's options, the Home tab opened. Requests no person makes
 * (an uninstall) pass without `acting`.
 */
export function actingMiddleware(dependencies: ActingDependencies): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const request = requestOf(args);
    const token = args.context.botToken;
    if (request !== undefined && token !== undefined) args.context.acting = actingFor(dependencies, request, dependencies.speaker.bot(token));
    await args.next();
  };
}

/** Where a request comes from and what it carries that acting for its person needs. */
interface PersonRequest {
  teamId: string;
  slackUserId: string;
  responseUrl?: string | undefined;
  /** A slash command's trigger, with which its editor opens. */
  commandTrigger?: string;
  /** A submitted modal's id: its change takes effect once however often it arrives. */
  submittedViewId?: string;
  /** The conversation a command was typed in or a button clicked in, for what goes where it came from. */
  conversation?: CommandContext["conversation"];
}

function actingFor(dependencies: ActingDependencies, request: PersonRequest, bot: SlackBot): Acting {
  const { identities } = dependencies;
  const { teamId, slackUserId, responseUrl, commandTrigger, submittedViewId, conversation } = request;
  const forWorkspace = identities.platformFor(bot, teamId);
  const platform = submittedViewId === undefined ? forWorkspace : onceForRequest(forWorkspace, `slack:view:${submittedViewId}`);
  const tellNow = identities.tellerFor(bot, teamId);
  const openEditor =
    commandTrigger !== undefined && responseUrl !== undefined
      ? { openEditor: (file: Parameters<NonNullable<CommandContext["openEditor"]>>[0]) => openConfigEditor(bot, { triggerId: commandTrigger, file, responseUrl }) }
      : {};
  let identity: Promise<Identity> | undefined;
  const lookUp = async (): Promise<Identity> => {
    try {
      const found = await identities.resolve(bot, teamId, slackUserId);
      if (found.kind === "no_email") return found;
      return { kind: "known", actor: found.actor, command: { platform, actor: found.actor, teamId, tellNow, ...openEditor, ...(conversation ? { conversation } : {}) } };
    } catch (error) {
      return { kind: "unavailable", error };
    }
  };
  return {
    teamId,
    slackUserId,
    bot,
    platform,
    tellNow,
    responseUrl,
    introduceMentioned: (text) => identities.introduceMentioned(bot, teamId, text),
    who: () => (identity ??= lookUp()),
    log: dependencies.logger.child({ team: teamId, user: slackUserId }),
  };
}

/** The person behind a request and their workspace, read as each kind of request carries them. */
function requestOf(args: AnyMiddlewareArgs & AllMiddlewareArgs): PersonRequest | undefined {
  const body = args.body as Record<string, unknown> & {
    type?: string;
    team?: { id?: string } | null;
    user?: { id: string; team_id?: string };
    view?: { id: string; team_id: string };
    response_url?: string;
    channel?: { id?: string } | null;
  };
  if ("command" in args && args.command) {
    const { command } = args;
    return {
      teamId: command.team_id,
      slackUserId: command.user_id,
      responseUrl: command.response_url,
      commandTrigger: command.trigger_id,
      conversation: commandConversation(command, command.user_id),
    };
  }
  if ("event" in args && args.event) {
    const user = (args.event as { user?: unknown }).user;
    if (typeof user !== "string") return undefined;
    return { teamId: args.context.teamId ?? String(body.team_id ?? ""), slackUserId: user };
  }
  if (!body.user) return undefined;
  if (body.type === "view_submission" || body.type === "view_closed") {
    return {
      teamId: body.user.team_id ?? body.view?.team_id ?? "",
      slackUserId: body.user.id,
      ...(body.type === "view_submission" && body.view ? { submittedViewId: body.view.id } : {}),
    };
  }
  // A button in a message: that message's conversation, which the bot is in (it posted there).
  const channelId = body.channel?.id;
  return { teamId: body.team?.id ?? body.user.team_id ?? "", slackUserId: body.user.id, responseUrl: body.response_url, ...(channelId ? { conversation: { channelId } } : {}) };
}

/**
 * Where what a slash command posts goes: the channel it was typed in. A direct message (`D…`)
 * or a group one (`mpdm-…`) may be between people edgebot cannot post to or join, so there the
 * person is written to directly, in their conversation with edgebot.
 */
function commandConversation(command: { channel_id?: string; channel_name?: string }, slackUserId: string): CommandContext["conversation"] {
  const channelId = command.channel_id;
  if (!channelId) return undefined;
  const direct = channelId.startsWith("D") || command.channel_name === "directmessage" || (command.channel_name ?? "").startsWith("mpdm-");
  return direct ? { channelId: slackUserId, direct: true } : { channelId };
}

/** The person acting in a request (see `actingMiddleware`). */
export function actingIn(context: Context): Acting {
  const acting = context.acting as Acting | undefined;
  if (!acting) throw new Error("no person is acting in this request");
  return acting;
}
