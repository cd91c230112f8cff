import { createHash, randomInt } from "node:crypto";

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A one-time code a person types after a command (`join <code>`, `link <code>`): 16 letters and
 * digits drawn from a secure source (95 bits). No `-` or `_`: a code starting with `-` would
 * read as an option, and one with `_` could turn italic in Slack.
 */
export function oneTimeCode(): string {
  let code = "";
  for (let index = 0; index < 16; index++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** How a one-time code is kept: its SHA-256, in hex. The code itself is shown once and stored nowhere. */
export function hashOneTimeCode(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}
