import { Invalid } from "../../core/errors.ts";
import type { EditableFile } from "../../core/configs.ts";
import type { Actor, Platform } from "../../core/platform.ts";
import type { DnsVerifier } from "../../dns/verify.ts";
import type { PersonRef } from "../../core/users.ts";
import type { Arguments, CommandSyntax } from "../grammar.ts";
import type { Message } from "../message.ts";

/** Who runs a command, from where. */
export interface CommandContext {
  platform: Platform;
  actor: Actor;
  /** The chat workspace the command came from; mentions are read in it. */
  teamId: string;
  /** Checks hostnames against DNS; one for the process, shared by every command. */
  dns: DnsVerifier;
  /**
   * Tells another person something at once and directly, for what must not wait in the outbox
   * (a one-time code is kept nowhere). Absent where nobody else can be reached (the shell).
   */
  tellNow?: (person: Actor, message: Message) => Promise<void>;
  /** Where git clients reach edgebot's git over HTTP (like `http://127.0.0.1:3000`), when this surface knows it. */
  gitBaseUrl?: string;
  /**
   * Opens an editor holding a file, whose submission commits it (`editConfigFile`), and says
   * what to answer. Absent where there is no editor (the shell).
   */
  openEditor?: (file: EditableFile) => Promise<Message>;
}

/** One command of the grammar: its words, how it reads its arguments, and what it does. */
export interface Command {
  /** The command's words, like `app create`. */
  name: string;
  usage: string;
  summary: string;
  syntax: CommandSyntax;
  /** True for a command that only reads: answering it changes nothing anyone sees elsewhere. */
  readOnly?: boolean;
  run(context: CommandContext, args: Arguments): Promise<Message>;
}

/** A person named by `@mention` or email. */
export function personArgument(context: CommandContext, args: Arguments, name: string): PersonRef {
  const token = args.token(name);
  if (token?.kind === "user") return { kind: "chat", teamId: context.teamId, chatUserId: token.userId, label: token.text };
  const text = args.text(name);
  if (text.includes("@")) return { kind: "email", email: text };
  throw new Invalid(`name a person with an @mention or an email address, not ${text.slice(0, 60)}`, name);
}

/** A channel named by `#channel` (Slack sends its id) or by its id. */
export function channelArgument(args: Arguments, name: string): string {
  const token = args.token(name);
  if (token?.kind === "channel") return token.channelId;
  const text = args.text(name);
  if (/^[CG][A-Z0-9]{2,20}$/.test(text)) return text;
  throw new Invalid("name a channel with #, like #client-alerts (in the shell, give its id, like C0123ABCD)", name);
}
