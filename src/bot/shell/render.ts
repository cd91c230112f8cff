import type { Message } from "../message.ts";

/**
 * How a terminal shows Slack's mrkdwn. A script reading piped output gets stable text: the two
 * marks that say how a command went (✓ and !), code still between backticks, dates in UTC. A
 * person at a terminal gets every emoji as a symbol, code without backticks, local dates.
 */
export interface TerminalStyle {
  /** The symbol shown for an emoji code (without its colons); a code with none is dropped. */
  symbols: Readonly<Record<string, string>>;
  /** Inline code keeps its backticks, which show where a command to type starts and ends. */
  backticks: boolean;
  /** Dates in this IANA time zone, without a suffix; absent: UTC, with the suffix ` UTC`. */
  timeZone?: string;
}

/** Piped output (scripts, tests): what the shell has always printed. */
export const scriptStyle: TerminalStyle = {
  symbols: { white_check_mark: "✓", wastebasket: "✓", warning: "!" },
  backticks: true,
};

/** Every emoji code edgebot's messages use, as a terminal can show it. */
export const emojiSymbols: Readonly<Record<string, string>> = {
  white_check_mark: "✓",
  ballot_box_with_check: "☑",
  warning: "⚠",
  no_entry: "⛔",
  rocket: "🚀",
  wastebasket: "🗑",
  link: "🔗",
  wave: "👋",
  scissors: "✂",
  key: "🔑",
  envelope: "✉",
  bust_in_silhouette: "👤",
  busts_in_silhouette: "👥",
  truck: "🚚",
  seedling: "🌱",
  pencil2: "✏",
  arrow_up: "⬆",
  arrow_double_up: "⏫",
  globe_with_meridians: "🌐",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  large_green_circle: "🟢",
  red_circle: "🔴",
  grey_question: "❔",
};

/** A person at a terminal: symbols, plain code, dates in `timeZone` (default: the machine's). */
export function personStyle(timeZone: string = Intl.DateTimeFormat().resolvedOptions().timeZone): TerminalStyle {
  return { symbols: emojiSymbols, backticks: false, timeZone };
}

/** A message as piped output shows it (the text every surface's tests read). */
export function plainText(message: Message): string {
  return terminalText(message.text, scriptStyle);
}

// Code is set aside before the markup is read, so a `*` or an emoji code inside it stays as typed.
const stash = (index: number) => `\u0000${index}\u0000`;

/** Slack mrkdwn as text for a terminal, in `style`. */
export function terminalText(mrkdwn: string, style: TerminalStyle): string {
  const code: string[] = [];
  const keep = (text: string) => stash(code.push(text) - 1);
  return (
    mrkdwn
      // A fenced block becomes its lines indented; Slack's escapes inside it are undone.
      .replace(/```\n?([\s\S]*?)\n?```/g, (_match, body: string) => keep(indent(decodeEntities(body.replace(/\u200b/g, "")))))
      .replace(/`([^`\n]+)`/g, (_match, body: string) => keep(style.backticks ? `\`${decodeEntities(body)}\`` : decodeEntities(body)))
      .replace(/<!date\^(\d+)\^[^|>]*\|[^>]*>/g, (_match, seconds: string) => keep(formatDate(Number(seconds), style.timeZone)))
      .replace(/<#([^|>]+)(?:\|([^>]*))?>/g, (_match, id: string, name?: string) => keep(`#${name || id}`))
      .replace(/<@([^|>]+)(?:\|([^>]*))?>/g, (_match, id: string, name?: string) => keep(`@${name || id}`))
      .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, (_match, who: string) => keep(`@${who}`))
      .replace(/<!subteam\^[^|>]+\|([^>]*)>/g, (_match, name: string) => keep(name))
      .replace(/<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>/g, (_match, url: string, label?: string) => keep(link(url, label)))
      .replace(/(^|\s):([a-z][a-z0-9_+-]*):( |$)/gm, (_match, before: string, name: string, after: string) => {
        const symbol = style.symbols[name];
        // An emoji with no symbol says nothing in a terminal: it goes with the space after it.
        return symbol === undefined ? before : `${before}${symbol}${after}`;
      })
      .replace(/\*([^*\n]+)\*/g, "$1")
      .replace(/(^|[\s(])_([^_\n]+)_(?=[\s.,;:!?)]|$)/gm, "$1$2")
      .replace(/(^|[\s(])~([^~\n]+)~(?=[\s.,;:!?)]|$)/gm, "$1$2")
      .replace(/&(lt|gt|amp);/g, (entity) => decodeEntities(entity))
      .replace(/\u0000(\d+)\u0000/g, (_match, index: string) => code[Number(index)]!)
  );
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function indent(body: string): string {
  return body
    .split("\n")
    .map((line) => (line === "" ? line : `    ${line}`))
    .join("\n");
}

/** `label (url)`; a label that only repeats the address (as Slack's escaping makes) is left out. */
function link(url: string, label?: string): string {
  const address = url.startsWith("mailto:") ? url.slice("mailto:".length) : url;
  if (!label || label === address || label === url || `http://${label}` === url || `https://${label}` === url) return address;
  return `${label} (${address})`;
}

/** `2026-11-29 14:05` in `timeZone`, or `2026-11-29 14:05 UTC` without one. */
export function formatDate(seconds: number, timeZone?: string): string {
  const date = new Date(seconds * 1000);
  if (timeZone === undefined) return `${date.toISOString().replace("T", " ").slice(0, 16)} UTC`;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
