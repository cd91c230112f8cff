import type { Logger } from "pino";
import { AlreadyDone, Conflict, CoreError, Invalid } from "../core/errors.ts";
import { findCommand } from "./commands/index.ts";
import type { Command, CommandContext } from "./commands/command.ts";
import { explainFailure } from "./failures.ts";
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
  /**
   * The field's id in the form, when it is not the argument's name: two fields may fill the
   * same argument in two ways (a person picked, or an email typed), and exactly one of them must.
   */
  block?: string;
  /** The names core gives this field in its errors (`Invalid.field`), besides the argument's own. */
  errorNames?: string[];
  label: string;
  /** `org` and `app` pick one of the person's orgs or applications, `user` a person in the workspace; `text` is typed. */
  kind: "text" | "org" | "app" | "user";
  optional?: boolean;
  placeholder?: string;
  hint?: string;
  /** Longest value the field takes. */
  maxLength: number;
}

/** The values of a form by field (`blockOf`); fields left empty are absent. */
export type FormValues = Record<string, string>;

/** A field's id in the form. */
export function blockOf(field: FormField): string {
  return field.block ?? field.argument;
}

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
    command: "member invite",
    title: "Invite someone",
    submit: "Invite",
    intro: "Add a person to an org. An owner's or admin's invitation takes effect at once; a developer's waits for an owner or admin to approve it.",
    fields: [
      { argument: "org", label: "Org", kind: "org", maxLength: 39 },
      { argument: "invitee", label: "Person", kind: "user", optional: true, hint: "Someone in this workspace…", maxLength: 40 },
      { argument: "invitee", block: "invitee-email", label: "…or their email", kind: "text", optional: true, placeholder: "ana@client.example", hint: "For someone not in this workspace: they join with a one-time code.", maxLength: 254 },
      { argument: "--role", label: "Role", kind: "text", optional: true, placeholder: "viewer", hint: "admin, developer or viewer (the usual role of a client user, and the default).", maxLength: 20 },
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
    command: "app split",
    title: "Split an application",
    submit: "Split",
    intro: "A new application for one URL prefix of an application's domains, starting from its production configuration.",
    fields: [
      { argument: "app", label: "Application to split", kind: "app", maxLength: 103 },
      { argument: "--prefix", label: "URL prefix", kind: "text", placeholder: "/blog/", hint: "Path segments between slashes, like /blog/ or /shop/en/.", maxLength: 100 },
      { argument: "--name", label: "New application's name", kind: "text", placeholder: "blog", maxLength: 39 },
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

/** The values to show in a form first: what the person already typed, limited to its typed fields and pickers. */
export function formPrefill(form: Form, given: Record<string, string>): FormValues {
  const prefill: FormValues = {};
  for (const field of form.fields) {
    const value = given[field.argument];
    if (value === undefined || value.length > field.maxLength || field.kind === "user") continue;
    // Of two ways to give one argument, the first that takes it.
    if (form.fields.some((other) => other !== field && other.argument === field.argument && prefill[blockOf(other)] !== undefined)) continue;
    prefill[blockOf(field)] = value;
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
export async function submitForm(context: CommandContext, form: Form, values: FormValues, options: { log: Logger }): Promise<FormOutcome> {
  const refused = checkFields(form, values);
  if (refused !== undefined) return { kind: "field_errors", errors: refused };

  const command = findCommand(form.command.split(" "))?.command;
  if (command === undefined) throw new Error(`form for unknown command ${form.command}`);
  const args = Arguments.fromValues(Object.fromEntries(form.fields.flatMap((field) => (values[blockOf(field)] ? [[field.argument, values[blockOf(field)]!]] : []))));
  try {
    return { kind: "done", message: await command.run(context, args), command };
  } catch (error) {
    if (error instanceof AlreadyDone) return { kind: "already_done" };
    if (error instanceof Invalid || error instanceof Conflict) return { kind: "field_errors", errors: { [fieldOf(form, values, error.field)]: error.message } };
    // Not found or not allowed: about the org or application picked, when the form picks one.
    if (error instanceof CoreError) return { kind: "field_errors", errors: { [blockOf(form.fields.find((field) => field.kind !== "text") ?? form.fields[0]!)]: error.message } };
    const said = explainFailure(error, options.log, { what: "form failed", otherwise: "something went wrong on our side; nothing was changed. Try again, and tell your edgebot admins if it keeps happening." });
    return { kind: "failed", message: sayError(said) };
  }
}

/** Required fields, lengths, and arguments given two ways: exactly one of their fields. Errors by field. */
function checkFields(form: Form, values: FormValues): Record<string, string> | undefined {
  const errors: Record<string, string> = {};
  for (const field of form.fields) {
    const value = values[blockOf(field)] ?? "";
    const twins = form.fields.filter((other) => other.argument === field.argument);
    if (twins.length > 1) {
      const filled = twins.filter((twin) => (values[blockOf(twin)] ?? "") !== "");
      if (field === twins[0] && filled.length === 0) errors[blockOf(field)] = `choose one: ${twins.map((twin) => twin.label.replace(/^…/, "")).join(", or ")}`;
      if (field === twins[1] && filled.length > 1) errors[blockOf(field)] = `give one: ${twins[0]!.label}, or ${field.label.replace(/^…or /, "")}, not both`;
    } else if (!field.optional && value.trim() === "") {
      errors[blockOf(field)] = `${field.label} is required`;
    }
    if (value.length > field.maxLength) errors[blockOf(field)] = `${field.label} is longer than ${field.maxLength} characters`;
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/** The form field a core error names, by the argument's name or one of the field's error names; of twins, the one filled in. */
function fieldOf(form: Form, values: FormValues, name: string | undefined): string {
  const bare = name?.replace(/^--/, "");
  const named = form.fields.filter((candidate) => candidate.argument.replace(/^--/, "") === bare || candidate.errorNames?.includes(bare ?? ""));
  return blockOf(named.find((field) => values[blockOf(field)] !== undefined) ?? named[0] ?? form.fields[0]!);
}
