import { z } from "zod";
import type { EditableFile } from "../../core/configs.ts";
import { configEditorView, maxEditorCharacters, tooLongToEditMessage } from "../blocks/configs.ts";
import { say, type Message } from "../message.ts";
import type { SlackBot } from "./speaker.ts";

/** What the editor modal carries to its submission: the file, the head the edit started from, where to answer. */
export interface ConfigEditorMetadata {
  app: string;
  env: string;
  path: string;
  base: string;
  responseUrl?: string | undefined;
}

// Checked again on submission: core validates each value before git sees it.
const metadataSchema = z.object({
  app: z.string().max(200),
  env: z.string().max(100),
  path: z.string().max(300),
  base: z.string().max(64),
  responseUrl: z.url({ protocol: /^https?$/ }).max(500).optional(),
});

/** The metadata a submitted editor carries, or undefined when it does not read as ours. */
export function readConfigEditorMetadata(text: string): ConfigEditorMetadata | undefined {
  try {
    const parsed = metadataSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens the editor for a file for the person whose command gave `triggerId`. A file longer
 * than Slack's text input holds is not opened: cut, it would be committed cut.
 */
export async function openConfigEditor(bot: SlackBot, input: { triggerId: string; file: EditableFile; responseUrl: string }): Promise<Message> {
  const { file } = input;
  if (file.content.length > maxEditorCharacters) return tooLongToEditMessage(file);
  const metadata: ConfigEditorMetadata = { app: file.ref, env: file.env, path: file.path, base: file.base, responseUrl: input.responseUrl };
  await bot.openModal(input.triggerId, configEditorView(file, JSON.stringify(metadata)));
  return say(`:pencil2: Editing *${file.path}* of *${file.ref} ${file.env}* in a form.`);
}
