import type { Actor, Platform } from "../../core/platform.ts";
import { chatIdentityIn, identityOwner, registerUser } from "../../core/users.ts";
import { tokenize, type Token } from "../grammar.ts";
import type { Message } from "../message.ts";
import type { SlackBot } from "./speaker.ts";

/** Who a Slack user is to edgebot, or why they cannot act yet. */
export type SlackIdentity =
  | { kind: "registered"; actor: Actor }
  /** Their profile shows no email (the app lacks users:read.email, or the profile hides it). */
  | { kind: "no_email" };

/**
 * Registers Slack users on their first interaction from their profile (users.info), and asks
 * again only once a while (`ttlMs`), so a known user costs no Web API call per command. Which
 * edgebot user an identity belongs to is read from the database every time: `link` may have
 * moved it, in this process or another.
 */
export class SlackIdentities {
  /** When each identity's profile was last read from Slack, and until when it is trusted. */
  private readonly profileFreshUntil = new Map<string, number>();
  private readonly pending = new Map<string, Promise<SlackIdentity>>();

  constructor(
    private readonly platform: Platform,
    private readonly options: {
      /** How long a profile is trusted before users.info is asked again. */
      ttlMs?: number;
      /** Identities remembered at most; the oldest are forgotten first. */
      maxEntries?: number;
      now?: () => number;
      /**
       * The other workspaces where edgebot is installed (multi-workspace mode), each with a
       * bot of its own, where people named by email are looked for too.
       */
      otherWorkspaces?: (except: string) => Promise<Array<{ teamId: string; bot: SlackBot }>>;
    } = {},
  ) {}

  /** The edgebot user behind a Slack user, registering them when they are new. */
  async resolve(bot: SlackBot, teamId: string, slackUserId: string): Promise<SlackIdentity> {
    const key = `${teamId}:${slackUserId}`;
    if ((this.profileFreshUntil.get(key) ?? 0) > this.now()) {
      const userId = await identityOwner(this.platform, teamId, slackUserId);
      if (userId !== undefined) return { kind: "registered", actor: { userId } };
    }
    // Two commands at once from a new user ask Slack once.
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const lookup = this.lookUp(bot, teamId, slackUserId).finally(() => this.pending.delete(key));
    this.pending.set(key, lookup);
    return lookup;
  }

  /**
   * The platform for a request from `teamId`: people it names by email are looked up in that
   * workspace first, then in the other workspaces where edgebot is installed.
   */
  platformFor(bot: SlackBot, teamId: string): Platform {
    const introduce = async (email: string): Promise<void> => {
      if (await this.introduceByEmail(bot, teamId, email)) return;
      for (const other of (await this.options.otherWorkspaces?.(teamId)) ?? []) {
        if (await this.introduceByEmail(other.bot, other.teamId, email).catch(() => false)) return;
      }
    };
    return { ...this.platform, directory: { introduce } };
  }

  /** Tells a person something directly, now, in workspace `teamId`, where they have an identity. */
  tellerFor(bot: SlackBot, teamId: string): (person: Actor, message: Message) => Promise<void> {
    return async (person, message) => {
      const chatUserId = await chatIdentityIn(this.platform.db, person, teamId);
      if (chatUserId !== undefined) await bot.tell(chatUserId, message);
    };
  }

  /**
   * Registers the people a command line mentions (`<@U…>`), so that a command about someone
   * who never used edgebot finds them; at most a few, and a failed lookup is left to the command.
   */
  async introduceMentioned(bot: SlackBot, teamId: string, text: string): Promise<void> {
    let tokens: Token[];
    try {
      tokens = tokenize(text);
    } catch {
      return; // A line the grammar cannot read gets its answer from the command.
    }
    const mentioned = [...new Set(tokens.flatMap((token) => (token.kind === "user" && /^[UW][A-Z0-9]{2,20}$/.test(token.userId) ? [token.userId] : [])))].slice(0, 3);
    await Promise.all(mentioned.map((id) => this.resolve(bot, teamId, id).catch(() => undefined)));
  }

  /**
   * Registers the person the workspace knows by `email` (users.lookupByEmail), if it knows one;
   * says whether it did.
   */
  async introduceByEmail(bot: SlackBot, teamId: string, email: string): Promise<boolean> {
    const found = await bot.userByEmail(email);
    if (!found?.id || found.deleted || found.is_bot) return false;
    await this.resolve(bot, teamId, found.id);
    return true;
  }

  private async lookUp(bot: SlackBot, teamId: string, slackUserId: string): Promise<SlackIdentity> {
    const found = await bot.user(slackUserId);
    const profile = found?.profile;
    const email = profile?.email;
    if (!email) return { kind: "no_email" };
    const name = [profile?.display_name, profile?.real_name, found?.real_name, found?.name].map((candidate) => plainName(candidate ?? "")).find(Boolean);
    // Slack says so when the person has not confirmed the address; such an email matches no invitation.
    const emailConfirmed = found?.is_email_confirmed !== false;
    const user = await registerUser(this.platform, { teamId, chatUserId: slackUserId, email, emailConfirmed, displayName: name ?? slackUserId });
    this.remember(`${teamId}:${slackUserId}`);
    return { kind: "registered", actor: { userId: user.id } };
  }

  private remember(key: string): void {
    this.profileFreshUntil.delete(key);
    this.profileFreshUntil.set(key, this.now() + (this.options.ttlMs ?? 10 * 60_000));
    // A Map iterates in insertion order: the first key is the oldest.
    while (this.profileFreshUntil.size > (this.options.maxEntries ?? 10_000)) this.profileFreshUntil.delete(this.profileFreshUntil.keys().next().value!);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

/** A Slack name as edgebot stores it: without control characters or Slack markup, 80 characters at most. */
function plainName(name: string): string {
  return name.replace(/[\p{Cc}<>*_~`]/gu, " ").replace(/\s+/g, " ").trim().slice(0, 80).trim();
}
