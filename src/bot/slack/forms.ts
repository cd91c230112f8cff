import type { webApi } from "@slack/bolt";
import { z } from "zod";
import { formView } from "../blocks/modals.ts";
import type { Form, FormValues } from "../commands/form-submission.ts";
import type { Message } from "../message.ts";

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

/** Opens a form as a modal for the person whose click or command gave `triggerId`. */
export async function openForm(client: webApi.WebClient, input: { triggerId: string; form: Form; prefill: FormValues; origin: FormOrigin }): Promise<void> {
  await client.views.open({ trigger_id: input.triggerId, view: formView(input.form, { prefill: input.prefill, metadata: JSON.stringify(input.origin) }) });
}

/** An ephemeral answer through a slash command's response URL. */
export async function postToResponseUrl(responseUrl: string, message: Message): Promise<void> {
  const response = await fetch(responseUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ response_type: "ephemeral", text: message.text, blocks: message.blocks }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`the response URL answered HTTP ${response.status}`);
}
