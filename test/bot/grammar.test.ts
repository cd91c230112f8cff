import { describe, expect, it } from "vitest";
import { Arguments, GrammarError, readArguments, tokenize } from "../../src/bot/grammar.ts";

describe("tokenize", () => {
  it("reads Slack's escaped mentions, channels, emails and links like their plain forms", () => {
    expect(tokenize("member role acme <@U0123ABC|ana> admin")).toEqual([
      { kind: "word", text: "member" },
      { kind: "word", text: "role" },
      { kind: "word", text: "acme" },
      { kind: "user", userId: "U0123ABC", text: "@ana" },
      { kind: "word", text: "admin" },
    ]);
    expect(tokenize("org channel acme <#C0ALERTS|client-alerts>")[3]).toEqual({ kind: "channel", channelId: "C0ALERTS", text: "#client-alerts" });
    expect(tokenize("org billing acme <mailto:Pay@Example.com|Pay@Example.com>")[3]).toEqual({ kind: "word", text: "Pay@Example.com" });
    expect(tokenize("app create <http://www.example.com|www.example.com>")[2]).toEqual({ kind: "word", text: "www.example.com" });
    expect(tokenize("app create <https://shop.example.com/cart>")[2]).toEqual({ kind: "word", text: "https://shop.example.com/cart" });
    expect(tokenize("member remove acme @ana")[3]).toEqual({ kind: "user", userId: "ana", text: "@ana" });
  });

  it("keeps quoted text, straight or curly, as one word", () => {
    expect(tokenize('org rename acme "Acme & Sons"').map((token) => token.text)).toEqual(["org", "rename", "acme", "Acme & Sons"]);
    expect(tokenize("org rename acme \u201cAcme Corp\u201d").at(-1)?.text).toBe("Acme Corp");
    expect(tokenize("org rename acme 'Acme Corp'").at(-1)?.text).toBe("Acme Corp");
    expect(tokenize("org rename acme &lt;b&gt;").at(-1)?.text).toBe("<b>");
  });

  it("refuses an unclosed quote, control characters and over-long lines", () => {
    expect(() => tokenize('org rename acme "Acme')).toThrow(GrammarError);
    expect(() => tokenize("org create a\u0007b")).toThrow(/control characters/);
    expect(() => tokenize(`org create ${"a".repeat(5000)}`)).toThrow(/too long/);
  });
});

describe("readArguments", () => {
  const syntax = { positionals: [{ name: "app" }, { name: "env", optional: true }], options: { from: "value" as const, force: "switch" as const } };

  it("reads positionals and options in any order, with = or a separate value", () => {
    const read = readArguments(tokenize("--from staging acme/www qa"), syntax);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect([read.args.text("app"), read.args.optionalText("env"), read.args.option("from")]).toEqual(["acme/www", "qa", "staging"]);
    const inline = readArguments(tokenize("acme/www --from=staging --force"), syntax);
    expect(inline.ok && [inline.args.option("from"), inline.args.has("force")]).toEqual(["staging", true]);
  });

  it("says which required argument is missing, with what was given before it", () => {
    const none = readArguments([], syntax);
    expect(none.ok === false && { missing: none.missing, given: none.given.values() }).toEqual({ missing: "app", given: {} });
    const some = readArguments(tokenize("--from staging"), { positionals: [{ name: "app" }, { name: "env" }], options: { from: "value" } });
    expect(some.ok === false && { missing: some.missing, given: some.given.values() }).toEqual({ missing: "app", given: { "--from": "staging" } });
    const partly = readArguments(tokenize("acme/www"), { positionals: [{ name: "app" }, { name: "env" }] });
    expect(partly.ok === false && { missing: partly.missing, given: partly.given.values() }).toEqual({ missing: "env", given: { app: "acme/www" } });
  });

  it("reads back values given elsewhere than on a command line, as a form gives them", () => {
    const args = Arguments.fromValues({ app: "acme/www", "--from": "staging" });
    expect([args.text("app"), args.option("from"), args.optionalText("env")]).toEqual(["acme/www", "staging", undefined]);
    expect(args.values()).toEqual({ app: "acme/www", "--from": "staging" });
  });

  it.each([
    ["acme/www --upload-pack=evil", /--upload-pack is not an option/],
    ["acme/www -x", /-x is not an option/],
    ["acme/www --from", /--from needs a value/],
    ["acme/www --from a --from b", /--from is given twice/],
    ["acme/www --force=yes", /--force takes no value/],
    ["acme/www qa extra", /unexpected extra/],
  ])("refuses %s", (line, message) => {
    expect(() => readArguments(tokenize(line), syntax)).toThrow(message);
  });
});
