import type { Logger } from "pino";
import { AlreadyDone, Conflict, CoreError, Invalid } from "../../core/errors.ts";
import { explainFailure } from "../failures.ts";
import { Arguments } from "../grammar.ts";
import { sayError, type Message } from "../message.ts";
import type { Command, CommandContext, FormText } from "./command.ts";
import { commands, findCommand } from "./index.ts";
import { argumentKey, maxLengthOf, type Parameter } from "./parameters.ts";

/**
 * A form is a command filled in field by field instead of typed: Slack shows it as a modal
 * when the command comes without its arguments, or from a button. Submitting it runs the
 * command itself, so both ways share every rule and every answer. Forms are derived from the
 * commands that declare `form` texts: one field per argument and option (two for a person).
 */
export interface Form extends FormText {
  /** The command the form fills in, like `app create`. */
  command: string;
  fields: FormField[];
  /**
   * For a command that destroys, the options that repeat an argument (`--confirm`): no field
   * asks for them; once the person confirmed, each is given the value of the argument it repeats.
   */
  repeats?: Array<{ argument: string; from: string }>;
}

export interface FormField {
  /** The command's argument the field fills in: a positional's key, or `--option`. */
  argument: string;
  /** The declared parameter's name: core's input field name, which core's errors (`Invalid.field`) use. */
  name: string;
  /**
   * The field's id in the form, when it is not the argument's key: a person is picked or their
   * email typed, two fields for one argument, and exactly one of them must be filled in.
   */
  block?: string;
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

/** A picked person's value, `<@U…>`, is never longer than this. */
const pickedPersonLength = 40;

/** The form of a command, when it has one. */
export function formFor(command: string): Form | undefined {
  const declared = commands.find((candidate) => candidate.name === command);
  if (declared?.form === undefined) return undefined;
  const repeats = declared.parameters.flatMap((parameter) => {
    const repeated = declared.parameters.find((other) => other.position === "argument" && other.name === parameter.repeats);
    return repeated === undefined ? [] : [{ argument: argumentKey(parameter), from: argumentKey(repeated) }];
  });
  const fields = declared.parameters.filter((parameter) => parameter.repeats === undefined).flatMap(fieldsOf);
  return { command: declared.name, ...declared.form, fields, ...(repeats.length > 0 ? { repeats } : {}) };
}

function fieldsOf(parameter: Parameter): FormField[] {
  const field = parameter.field!;
  const base = {
    argument: argumentKey(parameter),
    name: parameter.name,
    label: field.label,
    ...(field.placeholder === undefined ? {} : { placeholder: field.placeholder }),
    ...(field.hint === undefined ? {} : { hint: field.hint }),
    ...((parameter.position === "argument" ? parameter.optional : !parameter.required) ? { optional: true } : {}),
    maxLength: maxLengthOf(parameter)!,
  };
  if (parameter.kind === "person") {
    const email = parameter.emailField!;
    return [
      { ...base, kind: "user", optional: true, maxLength: pickedPersonLength },
      {
        argument: base.argument,
        name: base.name,
        block: `${base.argument}-email`,
        label: email.label,
        kind: "text",
        optional: true,
        ...(email.placeholder === undefined ? {} : { placeholder: email.placeholder }),
        ...(email.hint === undefined ? {} : { hint: email.hint }),
        maxLength: base.maxLength,
      },
    ];
  }
  return [{ ...base, kind: parameter.kind === "org" || parameter.kind === "app" ? parameter.kind : "text" }];
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
  /** A command that destroys, its fields in order: nothing ran; the person is asked to confirm these values. */
  | { kind: "confirm"; values: FormValues }
  /** The form stays open with these messages under the fields they concern, by argument. */
  | { kind: "field_errors"; errors: Record<string, string> }
  /** The same submission was carried out before; nothing changed now. */
  | { kind: "already_done" }
  | { kind: "failed"; message: Message };

/**
 * Runs a form's command with the submitted values. Errors that concern a field come back on
 * that field (or on the first field when core names none that the form has); nothing throws.
 */
export async function submitForm(
  context: CommandContext,
  form: Form,
  values: FormValues,
  options: {
    log: Logger;
    /** The person confirmed a command that destroys (Slack's confirmation view): it runs, with what it repeats filled in. */
    confirmed?: boolean;
  },
): Promise<FormOutcome> {
  const refused = checkFields(form, values);
  if (refused !== undefined) return { kind: "field_errors", errors: refused };
  if (form.confirm !== undefined && !options.confirmed) return { kind: "confirm", values };

  const command = findCommand(form.command.split(" "))?.command;
  if (command === undefined) throw new Error(`form for unknown command ${form.command}`);
  const given: Record<string, string> = Object.fromEntries(form.fields.flatMap((field) => (values[blockOf(field)] ? [[field.argument, values[blockOf(field)]!]] : [])));
  // What the person confirmed stands for typing the name again; core still checks it.
  if (options.confirmed) for (const repeat of form.repeats ?? []) if (given[repeat.from] !== undefined) given[repeat.argument] = given[repeat.from]!;
  const args = Arguments.fromValues(given);
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
      // The ellipsis is escaped: the production bundle stays ASCII (scripts/build.mjs).
      const filled = twins.filter((twin) => (values[blockOf(twin)] ?? "") !== "");
      if (field === twins[0] && filled.length === 0) errors[blockOf(field)] = `choose one: ${twins.map((twin) => twin.label.replace(/^\u2026/, "")).join(", or ")}`;
      if (field === twins[1] && filled.length > 1) errors[blockOf(field)] = `give one: ${twins[0]!.label}, or ${field.label.replace(/^\u2026or /, "")}, not both`;
    } else if (!field.optional && value.trim() === "") {
      errors[blockOf(field)] = `${field.label} is required`;
    }
    if (value.length > field.maxLength) errors[blockOf(field)] = `${field.label} is longer than ${field.maxLength} characters`;
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/** The form field a core error names (core's field names are the declared ones); of twins, the one filled in. */
function fieldOf(form: Form, values: FormValues, name: string | undefined): string {
  const named = form.fields.filter((candidate) => candidate.name === name);
  return blockOf(named.find((field) => values[blockOf(field)] !== undefined) ?? named[0] ?? form.fields[0]!);
}
