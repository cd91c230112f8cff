import type { EditableFile } from "../../core/configs.ts";
import type { Actor, Platform } from "../../core/platform.ts";
import type { Arguments, CommandSyntax } from "../grammar.ts";
import type { Message } from "../message.ts";
import type { Parameter } from "./parameters.ts";

/** Who runs a command, from where. */
export interface CommandContext {
  platform: Platform;
  actor: Actor;
  /** The chat workspace the command came from; mentions are read in it. */
  teamId: string;
  /**
   * The conversation the command was typed in (a channel, a direct message; the shell's own),
   * where results go when no channel is set. Absent where there is none (a form, the App Home).
   */
  conversation?: {
    channelId: string;
    /** True when `channelId` is the person's direct conversation with edgebot, standing in for a direct message edgebot may not be in. */
    direct?: boolean;
  };
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

/** Who may run a command, as help says it; core decides, this only tells. */
export type Permission = "anyone" | "member" | "developer" | "admin" | "owner";

/** What a command's modal says around its fields, for a command that has one. */
export interface FormText {
  /** The modal's title (24 characters at most). */
  title: string;
  /** The submit button's label. */
  submit: string;
  /** What the form does, above the fields. */
  intro: string;
  /**
   * For a command that destroys: the question a confirmation asks once the form is submitted,
   * with `{argument}` for a value given, like `Delete {app} and its repository?`. Nothing is
   * typed twice: the confirmation's submit runs the command.
   */
  confirm?: string;
}

/**
 * One command of the grammar, as `defineCommand` builds it from a declaration: everything a
 * surface needs (how to read it, its usage, its help, its form) is derived from the declaration.
 */
export interface Command {
  /** The command's words, like `app create`. */
  name: string;
  /** The usage line, like `app list [<org>]`. */
  usage: string;
  summary: string;
  /** Who may run it, for help; core enforces it. */
  permission: Permission;
  /** Command lines that show it in use. */
  examples: string[];
  /** Its arguments (positionals first, in order) and options, as declared. */
  parameters: Parameter[];
  /** How the grammar reads it. */
  syntax: CommandSyntax;
  /** The modal's texts, when the command has a form. */
  form?: FormText;
  /** True for a command that only reads: answering it changes nothing anyone sees elsewhere. */
  readOnly?: boolean;
  run(context: CommandContext, args: Arguments): Promise<Message>;
}
