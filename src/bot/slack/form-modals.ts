import { z } from "zod";
import { formView } from "../blocks/modals.ts";
import type { Form, FormValues } from "../commands/command-forms.ts";
import type { SlackBot } from "./speaker.ts";

/**
 * Where a form was opened, kept in the modal's private metadata: its answer goes back there.
 * From a slash command (or a message button), the response URL answers in that channel;
 * from the Home tab, the modal itself shows the answer.
 */
export type FormOrigin = { from: "command"; responseUrl: string } | { from: "home" };

const originSchema = z.discriminatedUnion("from", [
  z.object({ from: z.literal("command"), responseUrl: z.url({ protocol: /^https?$/ }).max(500) }),
  z.object({ from: z.literal("home") }),
]);

/** The origin a submitted modal carries; metadata that does not read as one counts as Home. */
export function readFormOrigin(metadata: string): FormOrigin {
  try {
    const parsed = originSchema.safeParse(JSON.parse(metadata));
    return parsed.success ? parsed.data : { from: "home" };
  } catch {
    return { from: "home" };
  }
}

/** A destructive form's submission waiting for its confirmation: kept in the confirmation's private metadata. */
export interface PendingForm {
  origin: FormOrigin;
  values: FormValues;
}

const pendingSchema = z.strictObject({
  origin: originSchema,
  // Field ids and values as a form has them; each value is checked again against its field when confirmed.
  values: z.record(z.string().regex(/^[a-z-]{1,40}$/), z.string().max(3000)),
});

/** The pending submission a confirmation carries; undefined when the metadata is not one edgebot wrote. */
export function readPendingForm(metadata: string): PendingForm | undefined {
  try {
    const parsed = pendingSchema.safeParse(JSON.parse(metadata));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Opens a form as a modal for the person whose click or command gave `triggerId`. */
export async function openForm(bot: SlackBot, input: { triggerId: string; form: Form; prefill: FormValues; origin: FormOrigin }): Promise<void> {
  await bot.openModal(input.triggerId, formView(input.form, { prefill: input.prefill, metadata: JSON.stringify(input.origin) }));
}
