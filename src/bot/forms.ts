import { AlreadyDone, Conflict, CoreError, Invalid } from "../core/errors.ts";
import { findCommand } from "./commands/index.ts";
import type { Command, CommandContext } from "./commands/command.ts";
import { Arguments } from "./grammar.ts";
import { sayError, type Message } from "./message.ts";

/**
 * A form is a command filled in field by field instead of typed: Slack shows it as a modal
 * when the command comes without its arguments, or from a button. Submitting it runs the
 * command itself, so both ways share every rule and every answer.
 */
export interface Form {
  /** The command the form fills in, like `app create`. */
  command: string;
  /** The modal's title (24 characters at most). */
  title: string;
  /** The submit button's label. */
  submit: string;
  /** What the form does, above the fields. */
  intro: string;
  fields: FormField[];
}

export interface FormField {
  /** The command's argument the field fills in: a positional's name, or `--option`. */
  argument: string;
  /** The names core gives this field in its errors (`Invalid.field`), besides the argument's own. */
  errorNames?: string[];
  label: string;
  /** `org` and `app` pick one of the person's orgs or applications; `text` is typed. */
  kind: "text" | "org" | "app";
  optional?: boolean;
  placeholder?: string;
  hint?: string;
  /** Longest value the field takes. */
  maxLength: number;
}

/** The values of a submitted form by argument; fields left empty are absent. */
export type FormValues = Record<string, string>;

/** Every form, one per command that has one. */
export const forms: Form[] = [
  {
    command: "app create",
    title: "New application",
    submit: "Create",
    intro: "An application is one client website. Its first hostname becomes the production environment, with a repository of proxy configuration.",
    fields: [
      { argument: "hostname", label: "Hostname", kind: "text", placeholder: "www.example.com", hint: "A pasted URL is fine: edgebot keeps its hostname.", maxLength: 2048 },
      { argument: "--org", label: "Org", kind: "org", optional: true, maxLength: 39, hint: "The client account it belongs to. Leave empty to use your only org, or name a new one below." },
      { argument: "--new-org", errorNames: ["newOrg"], label: "…or a new org", kind: "text", optional: true, placeholder: "acme", hint: "A slug for a new org, of which you become the owner.", maxLength: 39 },
      { argument: "--name", label: "Application name", kind: "text", optional: true, placeholder: "www-example-com", hint: "A slug; made from the hostname when left empty.", maxLength: 63 },
      { argument: "--origin", label: "Origin", kind: "text", optional: true, placeholder: "origin.example.com", hint: "Where the edge fetches content from; the hostname when left empty.", maxLength: 300 },
    ],
  },
  {
    command: "org create",
    title: "New org",
    submit: "Create",
    intro: "An org is a client account: the boundary of access and billing. You become its owner.",
    fields: [
      { argument: "slug", label: "Slug", kind: "text", placeholder: "acme", hint: "Lowercase letters, digits and dashes, used in commands.", maxLength: 39 },
      { argument: "--name", label: "Display name", kind: "text", optional: true, placeholder: "Acme Corp", maxLength: 100 },
      { argument: "--billing-email", errorNames: ["billingEmail"], label: "Billing email", kind: "text", optional: true, placeholder: "billing@acme.example", maxLength: 254 },
    ],
  },
  {
    command: "env create",
    title: "New environment",
    submit: "Create",
    intro: "An environment is a branch of the application's configuration, with its own domains.",
    fields: [
      { argument: "app", label: "Application", kind: "app", maxLength: 103 },
      { argument: "env", label: "Environment name", kind: "text", placeholder: "staging", maxLength: 63 },
      { argument: "--from", label: "Copy configuration from", kind: "text", optional: true, placeholder: "production", hint: "The environment to branch from; production when left empty.", maxLength: 63 },
      { argument: "--domain", label: "Domain", kind: "text", optional: true, placeholder: "staging.example.com", maxLength: 2048 },
    ],
  },
  {
    command: "domain add",
    title: "Add a domain",
    submit: "Add",
    intro: "A domain goes live when its DNS points at the edge.",
    fields: [
      { argument: "app", label: "Application", kind: "app", maxLength: 103 },
      { argument: "env", label: "Environment", kind: "text", placeholder: "production", maxLength: 63 },
      { argument: "hostname", label: "Hostname", kind: "text", placeholder: "shop.example.com", maxLength: 2048 },
    ],
  },
];

/** The form of a command, when it has one. */
export function formFor(command: string): Form | undefined {
  return forms.find((form) => form.command === command);
}

/** The values to show in a form first: what the person already typed, limited to its fields. */
export function formPrefill(form: Form, given: Record<string, string>): FormValues {
  const prefill: FormValues = {};
  for (const field of form.fields) {
    const value = given[field.argument];
    if (value !== undefined && value.length <= field.maxLength) prefill[field.argument] = value;
  }
  return prefill;
}

/** What submitting a form came to. */
export type FormOutcome =
  | { kind: "done"; message: Message; command: Command }
  /** The form stays open with these messages under the fields they concern, by argument. */
  | { kind: "field_errors"; errors: Record<string, string> }
  /** The same submission was carried out before; nothing changed now. */
  | { kind: "already_done" }
  | { kind: "failed"; message: Message };

/**
 * Runs a form's command with the submitted values. Errors that concern a field come back on
 * that field (or on the first field when core names none that the form has); nothing throws.
 */
export async function submitForm(context: CommandContext, form: Form, values: FormValues, options: { onUnexpected: (error: unknown) => void }): Promise<FormOutcome> {
  const missing = form.fields.filter((field) => !field.optional && (values[field.argument] ?? "").trim() === "");
  if (missing.length > 0) return { kind: "field_errors", errors: Object.fromEntries(missing.map((field) => [field.argument, `${field.label} is required`])) };
  const tooLong = form.fields.filter((field) => (values[field.argument] ?? "").length > field.maxLength);
  if (tooLong.length > 0) return { kind: "field_errors", errors: Object.fromEntries(tooLong.map((field) => [field.argument, `${field.label} is longer than ${field.maxLength} characters`])) };

  const command = findCommand(form.command.split(" "))?.command;
  if (command === undefined) throw new Error(`form for unknown command ${form.command}`);
  const known = new Set(form.fields.map((field) => field.argument));
  const args = Arguments.fromValues(Object.fromEntries(Object.entries(values).filter(([argument, value]) => known.has(argument) && value.trim() !== "")));
  try {
    return { kind: "done", message: await command.run(context, args), command };
  } catch (error) {
    if (error instanceof AlreadyDone) return { kind: "already_done" };
    if (error instanceof Invalid || error instanceof Conflict) return { kind: "field_errors", errors: { [fieldOf(form, error.field)]: error.message } };
    // Not found or not allowed: about the org or application picked, when the form picks one.
    if (error instanceof CoreError) return { kind: "field_errors", errors: { [(form.fields.find((field) => field.kind !== "text") ?? form.fields[0]!).argument]: error.message } };
    options.onUnexpected(error);
    return { kind: "failed", message: sayError("something went wrong on our side; nothing was changed. Try again, and tell your edgebot admins if it keeps happening.") };
  }
}

/** The form field a core error names, by the argument's name or one of the field's error names. */
function fieldOf(form: Form, name: string | undefined): string {
  const bare = name?.replace(/^--/, "");
  const field = form.fields.find((candidate) => candidate.argument.replace(/^--/, "") === bare || candidate.errorNames?.includes(bare ?? ""));
  return (field ?? form.fields[0]!).argument;
}
