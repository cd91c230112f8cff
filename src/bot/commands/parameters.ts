import { z } from "zod";
import { Invalid } from "../../core/errors.ts";
import type { PersonRef } from "../../core/users.ts";
import type { Arguments } from "../grammar.ts";

/**
 * What a command's argument or option holds: typed `text`, one of the person's orgs or
 * applications (`org`, `app`: a picker in a form), a person (`@mention` or email: a person
 * picker plus an email field in a form) or a channel (`#channel` or its id).
 */
export type ParameterKind = "text" | "org" | "app" | "person" | "channel";

/** What a form shows for one field. */
export interface FieldText {
  label: string;
  placeholder?: string;
  hint?: string;
}

/** One argument or option as a command declares it, before it has a name. `Value` is what `run` receives. */
export interface ParameterSpec<Value = unknown> {
  kind: ParameterKind;
  /** One line for `help <command>`. */
  description: string;
  /** The text's shape at the edge; its maximum length is the form field's. Core checks the meaning. */
  schema: z.ZodString;
  /** What the usage line shows for the value, like `slug` in `--new-org <slug>`; the parameter's name by default. */
  value?: string;
  /** The values it takes, shown in the usage instead of `value` (core checks them). */
  choices?: readonly string[];
  /** An argument that may be left out. */
  optional?: boolean;
  /** An argument that takes every remaining word (the last one). */
  rest?: boolean;
  /**
   * An option core requires: shown without brackets and required in the form. A command line
   * without it still runs, so that core can say what to add (`add --confirm staging`).
   */
  required?: boolean;
  /** Another option of the command that must not be given with this one: the usage shows them as alternatives. */
  exclusiveWith?: string;
  /**
   * The argument this option repeats to say the person means it (`--confirm <app>`): a form
   * leaves it out and fills it in from that argument once the person confirmed in Slack.
   */
  repeats?: string;
  /** The form field, for a command with a form. */
  field?: FieldText;
  /** A person's second form field, for someone named by email. */
  emailField?: FieldText;
  /** Carries `Value` for the types only. */
  readonly valueType?: Value;
}

/** A declared argument or option with its name: core's input field name, camelCase. */
export interface Parameter extends ParameterSpec {
  name: string;
  position: "argument" | "option";
}

type Common = Omit<ParameterSpec, "kind" | "schema" | "valueType" | "optional" | "emailField">;
type Optional = { optional: true };

/** A longest org slug; an application is `org/app`. */
const orgText = z.string().max(39);
const applicationText = z.string().max(103);
const emailText = z.string().max(254);
const channelText = z.string().max(100);

/** Text typed as it is. */
export function text(spec: Common & { schema: z.ZodString } & Optional): ParameterSpec<string | undefined>;
export function text(spec: Common & { schema: z.ZodString }): ParameterSpec<string>;
export function text(spec: Common & { schema: z.ZodString; optional?: boolean }): ParameterSpec<string | undefined> {
  return { kind: "text", ...spec };
}

/** One of the person's orgs, by slug. */
export function org(spec: Common & { schema?: z.ZodString } & Optional): ParameterSpec<string | undefined>;
export function org(spec: Common & { schema?: z.ZodString }): ParameterSpec<string>;
export function org(spec: Common & { schema?: z.ZodString; optional?: boolean }): ParameterSpec<string | undefined> {
  return { kind: "org", schema: orgText, ...spec };
}

/** One of the person's applications, `org/app` or `app`. */
export function app(spec: Common & { schema?: z.ZodString } & Optional): ParameterSpec<string | undefined>;
export function app(spec: Common & { schema?: z.ZodString }): ParameterSpec<string>;
export function app(spec: Common & { schema?: z.ZodString; optional?: boolean }): ParameterSpec<string | undefined> {
  return { kind: "app", schema: applicationText, ...spec };
}

/** A person named by `@mention` or email (an argument). */
export function person(spec: Omit<Common, "choices" | "required" | "exclusiveWith"> & { emailField?: FieldText }): ParameterSpec<PersonRef> {
  return { kind: "person", schema: emailText, value: "@user|email", ...spec };
}

/** A channel named by `#channel` (Slack sends its id) or by its id (an argument). */
export function channel(spec: Omit<Common, "choices" | "required" | "exclusiveWith">): ParameterSpec<string> {
  return { kind: "channel", schema: channelText, value: "#channel", ...spec };
}

/** `newOrg` → `new-org`: the option's flag and the word the grammar and forms use. */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The parameter's key in the grammar's arguments and in a form: `hostname`, or `--new-org` for an option. */
export function argumentKey(parameter: Parameter): string {
  return parameter.position === "option" ? `--${kebab(parameter.name)}` : kebab(parameter.name);
}

/** The value as the usage line shows it: `<hostname>`, `"<display name>"`, `<owner|admin>`, or bare choices after an option. */
export function shownValue(parameter: Parameter): string {
  if (parameter.choices !== undefined) return parameter.position === "option" ? parameter.choices.join("|") : `<${parameter.choices.join("|")}>`;
  const value = parameter.value ?? kebab(parameter.name);
  return value.includes(" ") ? `"<${value}>"` : `<${value}>`;
}

/** The parameter as the usage line shows it, without brackets: `<app>`, `--from <env>`. */
export function shownParameter(parameter: Parameter): string {
  return parameter.position === "option" ? `--${kebab(parameter.name)} ${shownValue(parameter)}` : shownValue(parameter);
}

/** The longest text the parameter takes, from its schema. */
export function maxLengthOf(parameter: Parameter): number | undefined {
  return parameter.schema.maxLength ?? undefined;
}

/**
 * Reads one parameter from the grammar's arguments: its text checked against its schema, a
 * person or channel read from what Slack said it is (a mention in the workspace `teamId`).
 * Missing required arguments were found earlier.
 */
export function readParameter(parameter: Parameter, args: Arguments, where: { teamId: string }): unknown {
  const key = argumentKey(parameter);
  const token = parameter.position === "argument" ? args.token(key) : undefined;
  const given = parameter.position === "argument" ? token?.text : args.option(kebab(parameter.name));
  if (given === undefined) return undefined;
  const max = maxLengthOf(parameter);
  if (max !== undefined && given.length > max) throw new Invalid(`${shownParameter(parameter)} is longer than ${max} characters`, parameter.name);
  const checked = parameter.schema.safeParse(given);
  if (!checked.success) throw new Invalid(`${shownParameter(parameter)}: ${checked.error.issues[0]?.message ?? "is not valid"}`, parameter.name);
  if (parameter.kind === "person") {
    if (token?.kind === "user") return { kind: "chat", teamId: where.teamId, chatUserId: token.userId, label: token.text } satisfies PersonRef;
    if (given.includes("@")) return { kind: "email", email: given } satisfies PersonRef;
    throw new Invalid(`name a person with an @mention or an email address, not ${given.slice(0, 60)}`, parameter.name);
  }
  if (parameter.kind === "channel") {
    if (token?.kind === "channel") return token.channelId;
    if (/^[CG][A-Z0-9]{2,20}$/.test(given)) return given;
    throw new Invalid("name a channel with #, like #client-alerts (in the shell, give its id, like C0123ABCD)", parameter.name);
  }
  return checked.data;
}

/** How a missing argument is named: `<hostname>`, `<@user|email>`; the grammar's key when the command declares no such argument. */
export function missingArgument(command: { parameters: Parameter[] }, key: string): string {
  const parameter = command.parameters.find((candidate) => candidate.position === "argument" && argumentKey(candidate) === key);
  return parameter === undefined ? `<${key}>` : shownValue(parameter).replace(/^"(.*)"$/, "$1");
}
