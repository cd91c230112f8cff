import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { TokenCipher } from "../../../src/bot/slack/token-cipher.ts";

const token = "xoxb-1234-5678-abcdefghijklmnop";

describe("the bot token cipher", () => {
  it("gives back the token it encrypted, and never the same bytes twice", () => {
    const cipher = new TokenCipher(randomBytes(32));
    const [once, twice] = [cipher.encrypt(token), cipher.encrypt(token)];
    expect(cipher.decrypt(once)).toBe(token);
    expect(cipher.decrypt(twice)).toBe(token);
    // A fresh IV for each value: equal tokens do not look equal at rest.
    expect(once.equals(twice)).toBe(false);
    expect(once.toString("latin1")).not.toContain(token);
  });

  it("refuses a value altered at rest instead of returning a wrong token", () => {
    const cipher = new TokenCipher(randomBytes(32));
    const stored = cipher.encrypt(token);
    stored[stored.length - 1]! ^= 1;
    expect(() => cipher.decrypt(stored)).toThrow();
  });

  it("refuses a value encrypted under another key", () => {
    const stored = new TokenCipher(randomBytes(32)).encrypt(token);
    expect(() => new TokenCipher(randomBytes(32)).decrypt(stored)).toThrow();
  });

  it("takes only a 32-byte key", () => {
    expect(() => new TokenCipher(randomBytes(16))).toThrow(/32 bytes/);
  });
});
