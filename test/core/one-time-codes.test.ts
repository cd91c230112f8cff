import { describe, expect, it } from "vitest";
import { oneTimeCode } from "../../src/core/one-time-codes.ts";
import { tokenize } from "../../src/bot/grammar.ts";

describe("one-time codes", () => {
  it("are 16 letters and digits, never read as an option, and do not repeat", () => {
    const codes = Array.from({ length: 2000 }, oneTimeCode);
    for (const code of codes) {
      expect(code).toMatch(/^[A-Za-z0-9]{16}$/);
      // Typed after a command, the code is one plain word of the grammar.
      expect(tokenize(`join ${code}`).map((token) => token.text)).toEqual(["join", code]);
    }
    expect(new Set(codes).size).toBe(codes.length);
  });
});
