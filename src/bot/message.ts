import type { ActionsBlock, KnownBlock } from "@slack/types";

/** What a handler returns: Block Kit blocks for Slack and a text the shell prints. */
export interface Message {
  /** Fallback text: notifications, screen readers, and the local shell. */
  text: string;
  blocks: KnownBlock[];
  /** True for an answer that reports a refusal or a mistake. */
  error?: boolean;
  /** True for an answer everyone in the conversation where the command ran sees, not only its author. */
  inChannel?: boolean;
}

// Slack's limits: 50 blocks a message, 3000 characters in a section's text.
export const maxBlocks = 50;
export const maxSectionText = 3000;
/** A modal or the Home tab holds at most 100 blocks. */
export const maxViewBlocks = 100;

/** Builds a message within Block Kit's limits; the text mirrors the blocks line by line. */
export class MessageBuilder {
  private readonly blocks: KnownBlock[] = [];
  private readonly lines: string[] = [];
  private dropped = 0;

  /** A paragraph of mrkdwn; over-long text is cut with a note. */
  section(text: string): this {
    this.lines.push(text);
    return this.push({ type: "section", text: { type: "mrkdwn", text: fit(text, maxSectionText) } });
  }

  /** Small grey text under the main content. */
  context(text: string): this {
    this.lines.push(text);
    return this.push({ type: "context", elements: [{ type: "mrkdwn", text: fit(text, maxSectionText) }] });
  }

  /** Blocks made by a renderer of their own (like a table of section fields), with the text that stands for them in the fallback. */
  add(blocks: KnownBlock[], text: string): this {
    this.lines.push(text);
    for (const block of blocks) this.push(block);
    return this;
  }

  /**
   * A bulleted list in as few sections as fit; beyond `limit` items it says how many more.
   */
  list(items: string[], options: { limit?: number; noun?: string } = {}): this {
    const limit = options.limit ?? 100;
    const shown = items.slice(0, limit).map((item) => `• ${item}`);
    const more = items.length - shown.length;
    if (more > 0) shown.push(`…and ${more} more ${options.noun ?? "items"}`);
    for (const chunk of linesWithin(shown, maxSectionText)) this.section(chunk);
    return this;
  }

  /** A row of buttons; it is kept even when text before it was left out. */
  actions(block: ActionsBlock): this {
    if (this.blocks.length >= maxBlocks - 1) {
      this.blocks.pop();
      this.dropped += 1;
    }
    this.blocks.push(block);
    return this;
  }

  build(options: { error?: boolean } = {}): Message {
    const blocks = [...this.blocks];
    if (this.dropped > 0) {
      blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: `…${this.dropped} more not shown` }] });
    }
    return { text: this.lines.join("\n"), blocks, ...(options.error ? { error: true } : {}) };
  }

  private push(block: KnownBlock): this {
    // Keep one block free for the "more not shown" note.
    if (this.blocks.length >= maxBlocks - 1) this.dropped += 1;
    else this.blocks.push(block);
    return this;
  }
}

/** Text cut to `limit` characters with a note saying how much was cut. */
/** Lines joined in as few texts as fit `limit` characters each, in order; a longer line is a text of its own. */
export function linesWithin(lines: string[], limit: number): string[] {
  const texts: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > limit && chunk.length > 0) {
      texts.push(chunk.join("\n"));
      chunk = [];
      size = 0;
    }
    chunk.push(line);
    size += line.length + 1;
  }
  if (chunk.length > 0) texts.push(chunk.join("\n"));
  return texts;
}

export function fit(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = `\n…(${text.length - limit + 40} more characters cut)`;
  return text.slice(0, limit - note.length) + note;
}

/** A one-paragraph message. */
export function say(text: string): Message {
  return new MessageBuilder().section(text).build();
}

/** A refusal or mistake, with the usage line when it helps. */
export function sayError(problem: string, usage?: string): Message {
  const builder = new MessageBuilder().section(`:warning: ${escapeText(problem)}`);
  if (usage !== undefined) builder.context(`Usage: \`${usage}\``);
  return builder.build({ error: true });
}

/** User-supplied text made safe for mrkdwn: Slack reads &, < and > as markup. */
export function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Text Slack would render as formatting, shown literally. */
export function code(text: string): string {
  return `\`${escapeText(text).replace(/`/g, "'")}\``;
}

/** A date as Slack shows it to each reader in their own time zone, with a UTC fallback. */
export function when(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000);
  const fallback = date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  return `<!date^${seconds}^{date_short_pretty} {time}|${fallback}>`;
}
