/**
 * The one parser of edgebot's command grammar (SPEC §4). It accepts what Slack sends with
 * `should_escape: true` (`<@U1|ana>`, `<#C1|ops>`, `<mailto:a@b.c|a@b.c>`, `<http://x|x>`)
 * and the plain text the shell sends alike.
 */

/** One word of a command, with what Slack told us it is. */
export type Token =
  | { kind: "word"; text: string }
  | { kind: "user"; text: string; userId: string }
  | { kind: "channel"; text: string; channelId: string };

/** A command line that cannot be read; the message says why. */
export class GrammarError extends Error {
  override name = "GrammarError";
}

export const maxCommandLength = 4000;

const quotePairs: Record<string, string> = { '"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019" };

/** Splits a command line into tokens, honouring quotes and Slack's escaped entities. */
export function tokenize(line: string): Token[] {
  if (line.length > maxCommandLength) throw new GrammarError(`that command is too long (${maxCommandLength} characters at most)`);
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(line)) throw new GrammarError("that command holds control characters");
  const tokens: Token[] = [];
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const closing = quotePairs[char];
    if (closing !== undefined) {
      const end = line.indexOf(closing, index + 1);
      if (end === -1) throw new GrammarError(`a quote (${char}) is not closed`);
      tokens.push({ kind: "word", text: decodeEntities(line.slice(index + 1, end)) });
      index = end + 1;
      continue;
    }
    let end = index;
    while (end < line.length && !/\s/.test(line[end]!)) end += 1;
    tokens.push(readWord(line.slice(index, end)));
    index = end;
  }
  return tokens;
}

function readWord(raw: string): Token {
  const escaped = /^<([^<>|]+)(?:\|([^<>]*))?>$/.exec(raw);
  if (escaped) {
    const target = escaped[1]!;
    const label = escaped[2];
    if (target.startsWith("@")) {
      const userId = target.slice(1);
      return { kind: "user", userId, text: `@${label ?? userId}` };
    }
    if (target.startsWith("#")) {
      const channelId = target.slice(1);
      return { kind: "channel", channelId, text: `#${label ?? channelId}` };
    }
    if (target.startsWith("mailto:")) return { kind: "word", text: target.slice("mailto:".length) };
    if (target.startsWith("!")) return { kind: "word", text: decodeEntities(label ?? target) };
    // A link Slack made of something that looked like a URL or a domain: keep what the user typed.
    return { kind: "word", text: decodeEntities(label ?? target) };
  }
  const text = decodeEntities(raw);
  if (/^@[A-Za-z0-9._-]{1,64}$/.test(text)) return { kind: "user", userId: text.slice(1), text };
  return { kind: "word", text };
}

// Slack escapes &, < and > in the text it sends.
function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** How a command takes its arguments: derived from its declaration (`defineCommand`), or written out in a test. */
export interface CommandSyntax {
  /** Positional arguments in order; `rest` takes every remaining word. */
  positionals: Array<{ name: string; optional?: boolean; rest?: boolean }>;
  /** Options by name (without `--`): `value` takes the next word, `switch` takes none. */
  options?: Record<string, "value" | "switch">;
}

/** The arguments of one command, read against its syntax. */
export class Arguments {
  constructor(
    private readonly positional: Map<string, Token>,
    private readonly options: Map<string, string | true>,
  ) {}

  /** A required positional argument's text. */
  text(name: string): string {
    const token = this.positional.get(name);
    if (token === undefined) throw new GrammarError(`<${name}> is missing`);
    return token.text;
  }

  /** An optional positional argument's text. */
  optionalText(name: string): string | undefined {
    return this.positional.get(name)?.text;
  }

  token(name: string): Token | undefined {
    return this.positional.get(name);
  }

  option(name: string): string | undefined {
    const value = this.options.get(name);
    return value === true ? undefined : value;
  }

  has(name: string): boolean {
    return this.options.has(name);
  }

  /** The arguments as plain text by name, options keyed `--name`: the inverse of `fromValues`. */
  values(): Record<string, string> {
    const given: Record<string, string> = {};
    for (const [name, token] of this.positional) given[name] = token.text;
    for (const [name, value] of this.options) if (value !== true) given[`--${name}`] = value;
    return given;
  }

  /** Arguments filled in elsewhere than on a command line (a form): `<@U…>` is a person picked; options are keyed `--name`. */
  static fromValues(values: Record<string, string>): Arguments {
    const positional = new Map<string, Token>();
    const options = new Map<string, string>();
    for (const [name, text] of Object.entries(values)) {
      const mention = /^<@([UW][A-Z0-9]{2,20})>$/.exec(text);
      if (name.startsWith("--")) options.set(name.slice(2), text);
      else positional.set(name, mention ? { kind: "user", userId: mention[1]!, text } : { kind: "word", text });
    }
    return new Arguments(positional, options);
  }
}

/** The result of reading arguments: either the arguments, or which required one is missing. */
export type ReadResult =
  | { ok: true; args: Arguments }
  /** `given` holds what was read before the first missing argument. */
  | { ok: false; missing: string; given: Arguments };

/** Reads tokens against a command's syntax; unknown options and extra words are errors. */
export function readArguments(tokens: Token[], syntax: CommandSyntax): ReadResult {
  const options = new Map<string, string | true>();
  const words: Token[] = [];
  // A command that ends in free text and takes no options reads every word as text.
  const freeText = syntax.options === undefined && syntax.positionals.some((argument) => argument.rest);
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (freeText) {
      words.push(token);
      continue;
    }
    const option = token.kind === "word" ? /^(?:--|\u2014)([a-z][a-z-]*)(?:=(.*))?$/s.exec(token.text) : null;
    if (!option) {
      if (token.kind === "word" && token.text.startsWith("-") && token.text.length > 1 && !/^-\d/.test(token.text)) {
        throw new GrammarError(`${abbreviate(token.text)} is not an option here`);
      }
      words.push(token);
      continue;
    }
    const name = option[1]!;
    const kind = syntax.options?.[name];
    if (kind === undefined) throw new GrammarError(`--${abbreviate(name)} is not an option here`);
    if (options.has(name)) throw new GrammarError(`--${name} is given twice`);
    if (kind === "switch") {
      if (option[2] !== undefined) throw new GrammarError(`--${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const inline = option[2];
    if (inline !== undefined) {
      if (inline === "") throw new GrammarError(`--${name} needs a value`);
      options.set(name, inline);
      continue;
    }
    const next = tokens[index + 1];
    if (next === undefined || (next.kind === "word" && /^--[a-z]/.test(next.text))) throw new GrammarError(`--${name} needs a value`);
    options.set(name, next.text);
    index += 1;
  }

  const positional = new Map<string, Token>();
  let cursor = 0;
  for (const argument of syntax.positionals) {
    if (argument.rest) {
      const restWords = words.slice(cursor);
      cursor = words.length;
      if (restWords.length > 0) positional.set(argument.name, { kind: "word", text: restWords.map((word) => word.text).join(" ") });
      else if (!argument.optional) return { ok: false, missing: argument.name, given: new Arguments(positional, options) };
      continue;
    }
    const word = words[cursor];
    if (word === undefined) {
      if (argument.optional) continue;
      return { ok: false, missing: argument.name, given: new Arguments(positional, options) };
    }
    positional.set(argument.name, word);
    cursor += 1;
  }
  if (cursor < words.length) throw new GrammarError(`unexpected ${abbreviate(words[cursor]!.text)}`);
  return { ok: true, args: new Arguments(positional, options) };
}

function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
