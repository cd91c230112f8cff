import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from "@slack/types";
import { applicationSlug, orgSlug } from "../../core/names.ts";
import { blockOf, formFor, type Form, type FormField, type FormValues } from "../commands/command-forms.ts";
import { code, escapeText, maxViewBlocks, sayError, type Message } from "../message.ts";

/** A form's callback id: which form a submission belongs to. */
export const formCallbackPrefix = "form:";

/** The callback id of a destructive form's confirmation, which the form's view becomes once submitted. */
export const formConfirmationCallbackPrefix = "form_confirm:";

/** Action ids of the pickers, whose options Slack asks edgebot for as the person types. */
export const pickerActions = { org: "pick_org", app: "pick_app" } as const;

/** The action id of a person picker (Slack lists the workspace's people itself). */
const userAction = "pick_user";

/**
 * The action id of the buttons and menu entries that open a form (within one block, a suffix
 * tells them apart: `open_form:org`); the value names the form (`formButtonValue`).
 */
export const openFormAction = "open_form";

/** The action id of a typed field's input. */
const textAction = "value";

// Slack's limits for a modal's title and buttons, and for option texts and placeholders.
const maxTitle = 24;
const maxOptionText = 75;
const maxPlaceholder = 150;

/** A form as a modal, filled in with `prefill`; `metadata` comes back with the submission. */
export function formView(form: Form, options: { prefill: FormValues; metadata: string }): ModalView {
  const blocks: KnownBlock[] = [{ type: "section", text: { type: "mrkdwn", text: form.intro } }];
  for (const field of form.fields) blocks.push(fieldBlock(field, options.prefill[blockOf(field)]));
  return {
    type: "modal",
    callback_id: `${formCallbackPrefix}${form.command}`,
    title: plain(form.title, maxTitle),
    // A form that destroys asks for a confirmation next: its submit says there is one more step.
    submit: plain(form.confirm === undefined ? form.submit : `${form.submit}…`, maxTitle),
    close: plain("Cancel", maxTitle),
    private_metadata: options.metadata,
    blocks,
  };
}

/**
 * The confirmation of a command that destroys, which the submitted form becomes: the question,
 * with the values given, and a submit that runs the command; Cancel closes it and nothing happens.
 * A modal's submit has no danger style, so the warning is in its words.
 */
export function formConfirmationView(form: Form, values: FormValues, metadata: string): ModalView {
  return {
    type: "modal",
    callback_id: `${formConfirmationCallbackPrefix}${form.command}`,
    title: plain(form.title, maxTitle),
    submit: plain(form.submit, maxTitle),
    close: plain("Cancel", maxTitle),
    private_metadata: metadata,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `:warning: *${confirmationQuestion(form, values)}*`.slice(0, 3000) } },
      { type: "context", elements: [{ type: "mrkdwn", text: `This cannot be undone. *${escapeText(form.submit)}* goes ahead; *Cancel* changes nothing.` }] },
    ],
  };
}

/** The form's question with the values given: `{app}` is the application chosen; a person picked is mentioned. */
export function confirmationQuestion(form: Form, values: FormValues): string {
  return (form.confirm ?? "").replace(/\{([a-z-]+)\}/g, (placeholder, argument: string) => {
    const field = form.fields.find((candidate) => candidate.argument === argument && values[blockOf(candidate)] !== undefined);
    if (field === undefined) return placeholder;
    const value = values[blockOf(field)]!;
    return field.kind === "user" && /^<@[UW][A-Z0-9]{2,20}>$/.test(value) ? value : escapeText(value);
  });
}

/** The confirmation, once its command was refused: why, and nothing was changed. */
export function formRefusedView(form: Form, problem: string): ModalView {
  return formDoneView(form, sayError(`${problem.trim().replace(/\.?$/, ".")} Nothing was changed.`));
}

/** What the modal shows once the form's command ran: the command's answer, and a Done button. */
export function formDoneView(form: Form, message: Message): ModalView {
  return messageView(form.title, message);
}

/** What a submitted modal edgebot has no form for shows (one an earlier edgebot opened): nothing was changed, and what to type instead. */
export function outdatedFormView(instead: string): ModalView {
  return messageView("edgebot", sayError(`This form is not one edgebot made, or it is out of date: nothing was changed. Type ${code(instead)} instead.`));
}

/** A modal that only shows a message, with a Done button. */
function messageView(title: string, message: Message): ModalView {
  return { type: "modal", title: plain(title, maxTitle), close: plain("Done", maxTitle), blocks: message.blocks.slice(0, maxViewBlocks) };
}

/** An option of a picker: the org slug or `org/app` is both its text and its value. */
export function pickerOption(value: string): PlainTextOption {
  return { text: plain(value, maxOptionText), value };
}

/**
 * The values of a submitted form, read from the view's state by field. Anything not shaped as
 * the form's own inputs produce (a field missing, another element type) counts as empty.
 */
export function readFormValues(form: Form, state: Record<string, Record<string, StateValue> | undefined>): FormValues {
  const values: FormValues = {};
  for (const field of form.fields) {
    const input = state[blockOf(field)];
    const value =
      field.kind === "text" ? textValue(input?.[textAction]) : field.kind === "user" ? selectedUser(input?.[userAction]) : selectedValue(input?.[pickerActions[field.kind]]);
    if (value !== undefined && value.trim() !== "") values[blockOf(field)] = value.trim();
  }
  return values;
}

type StateValue = { type?: unknown; value?: unknown; selected_option?: unknown; selected_user?: unknown };

/** A person picked, as the grammar reads a mention. */
function selectedUser(element: StateValue | undefined): string | undefined {
  if (element?.type !== "users_select" || typeof element.selected_user !== "string" || !/^[UW][A-Z0-9]{2,20}$/.test(element.selected_user)) return undefined;
  return `<@${element.selected_user}>`;
}

function textValue(element: StateValue | undefined): string | undefined {
  return element?.type === "plain_text_input" && typeof element.value === "string" ? element.value : undefined;
}

function selectedValue(element: StateValue | undefined): string | undefined {
  if (element?.type !== "external_select") return undefined;
  const selected = element.selected_option as { value?: unknown } | null | undefined;
  return typeof selected?.value === "string" ? selected.value : undefined;
}

function fieldBlock(field: FormField, initial: string | undefined): InputBlock {
  const base = {
    type: "input" as const,
    block_id: blockOf(field),
    label: plain(field.label, 2000),
    optional: field.optional ?? false,
    ...(field.hint === undefined ? {} : { hint: plain(field.hint, 2000) }),
  };
  if (field.kind === "text") {
    return {
      ...base,
      element: {
        type: "plain_text_input",
        action_id: textAction,
        max_length: field.maxLength,
        ...(field.placeholder === undefined ? {} : { placeholder: plain(field.placeholder, maxPlaceholder) }),
        ...(initial === undefined ? {} : { initial_value: initial }),
      },
    };
  }
  if (field.kind === "user") return { ...base, element: { type: "users_select", action_id: userAction, placeholder: plain("Choose a person", maxPlaceholder) } };
  return {
    ...base,
    element: {
      type: "external_select",
      action_id: pickerActions[field.kind],
      min_query_length: 0,
      placeholder: plain(field.kind === "org" ? "Choose an org" : "Choose an application", maxPlaceholder),
      ...(initial === undefined ? {} : { initial_option: pickerOption(initial) }),
    },
  };
}

// Short plain texts are cut with an ellipsis; `fit`'s note is for long mrkdwn.
function plain(text: string, limit: number): { type: "plain_text"; text: string } {
  return { type: "plain_text", text: text.length <= limit ? text : `${text.slice(0, limit - 1)}…` };
}

/**
 * A button's value naming the form it opens: the command, then optionally `:` and the org or
 * application to fill in the form's picker with, like `env create:acme/www`.
 */
export function formButtonValue(command: string, subject?: string): string {
  return subject === undefined ? command : `${command}:${subject}`;
}

/** Reads a button's value back; undefined when it names no form or carries a malformed subject. */
export function readFormButton(value: string): { form: Form; prefill: FormValues } | undefined {
  const [command, subject, ...rest] = value.split(":");
  const form = formFor(command ?? "");
  if (form === undefined || rest.length > 0) return undefined;
  if (subject === undefined) return { form, prefill: {} };
  const picker = form.fields.find((field) => field.kind === "org" || field.kind === "app");
  if (picker === undefined || !namesAn(picker.kind, subject)) return undefined;
  return { form, prefill: { [blockOf(picker)]: subject } };
}

function namesAn(kind: FormField["kind"], subject: string): boolean {
  if (kind === "org") return orgSlug.safeParse(subject).success;
  const [org, app, ...rest] = subject.split("/");
  return kind === "app" && rest.length === 0 && orgSlug.safeParse(org).success && applicationSlug.safeParse(app).success;
}
