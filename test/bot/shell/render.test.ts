import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { code, sayError, when } from "../../../src/bot/message.ts";
import { emojiSymbols, formatDate, personStyle, plainText, scriptStyle, terminalText } from "../../../src/bot/shell/render.ts";

const person = personStyle("Europe/Paris");
// 2026-11-29 14:05 UTC, 15:05 in Paris.
const seconds = Date.UTC(2026, 10, 29, 14, 5) / 1000;

describe("messages rendered for a terminal", () => {
  it("drops bold, italic and strike markers", () => {
    const text = "*acme/www* staging is _not_ live, ~was~ (_really_).";
    expect(terminalText(text, person)).toBe("acme/www staging is not live, was (really).");
    expect(terminalText(text, scriptStyle)).toBe("acme/www staging is not live, was (really).");
  });

  it("shows inline code plain to a person and between backticks to a script, markup inside it untouched", () => {
    const text = `Next: ${code("app create <hostname> --org acme")} or \`*not bold* :rocket:\``;
    expect(terminalText(text, person)).toBe("Next: app create <hostname> --org acme or *not bold* :rocket:");
    expect(terminalText(text, scriptStyle)).toBe("Next: `app create <hostname> --org acme` or `*not bold* :rocket:`");
  });

  it("indents fenced code and gives back what Slack's escaping changed inside it", () => {
    const text = "`section.config.json` · 80 B\n```\n{\n  \"origin\": \"a&amp;b &lt;x&gt;\",\n  \"note\": \"`\u200b`` *kept*\"\n}\n```\n…2 more lines";
    expect(terminalText(text, person)).toBe('section.config.json · 80 B\n    {\n      "origin": "a&b <x>",\n      "note": "``` *kept*"\n    }\n…2 more lines');
  });

  it("shows a date in the reader's time zone, or in UTC with its suffix for a script", () => {
    const text = `Created ${when(new Date(seconds * 1000))}`;
    expect(terminalText(text, person)).toBe("Created 2026-11-29 15:05");
    expect(terminalText(text, personStyle("Asia/Kolkata"))).toBe("Created 2026-11-29 19:35");
    expect(terminalText(text, scriptStyle)).toBe("Created 2026-11-29 14:05 UTC");
    expect(formatDate(seconds)).toBe("2026-11-29 14:05 UTC");
    // Midnight is 00, not 24.
    expect(formatDate(Date.UTC(2026, 0, 1, 23, 30) / 1000, "Europe/Paris")).toBe("2026-01-02 00:30");
  });

  it("turns every emoji code edgebot uses into a symbol for a person, and drops one it does not know", () => {
    expect(terminalText(":rocket: *acme/www production is live.*", person)).toBe("🚀 acme/www production is live.");
    expect(terminalText(":white_check_mark: Created org acme", person)).toBe("✓ Created org acme");
    expect(terminalText(":warning: frobnicate is not a command", person)).toBe("⚠ frobnicate is not a command");
    expect(terminalText("• www.acme.example — :hourglass_flowing_sand: pending", person)).toBe("• www.acme.example — ⏳ pending");
    expect(terminalText(":unicorn_face: Hello :sparkles:", person)).toBe("Hello ");
  });

  it("keeps a script's two marks, ✓ and !, and drops the pictures", () => {
    expect(terminalText(":white_check_mark: done", scriptStyle)).toBe("✓ done");
    expect(terminalText(":wastebasket: Deleted", scriptStyle)).toBe("✓ Deleted");
    expect(terminalText(":warning: no", scriptStyle)).toBe("! no");
    expect(terminalText("[<#C1>] :rocket: *acme/www* was created", scriptStyle)).toBe("[#C1] acme/www was created");
    expect(terminalText("• www.acme.example — :hourglass_flowing_sand: pending", scriptStyle)).toBe("• www.acme.example — pending");
  });

  it("has a symbol for every emoji code in edgebot's messages", async () => {
    const source = fileURLToPath(new URL("../../../src/", import.meta.url));
    const used = new Set<string>();
    for (const file of await readdir(source, { recursive: true })) {
      if (!file.endsWith(".ts")) continue;
      for (const match of (await readFile(path.join(source, file), "utf8")).matchAll(/(?:^|[\s"'`])\\?:([a-z][a-z0-9_+-]*):(?=[\s"'`]|$)/gm)) used.add(match[1]!);
    }
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !(name in emojiSymbols))).toEqual([]);
  });

  it("names channels and people by their label, else by their id", () => {
    expect(terminalText("Notifications go to <#C0ACME|ops> and <#C0OTHER>.", person)).toBe("Notifications go to #ops and #C0OTHER.");
    expect(terminalText("Ask <@U123|ana> or <@U456>; <!here>", person)).toBe("Ask @ana or @U456; @here");
  });

  it("shows a link's label with its address, and an address alone when the label repeats it", () => {
    expect(terminalText("See <https://docs.example/edge|the docs> and <http://www.acme.example|www.acme.example>.", person)).toBe(
      "See the docs (https://docs.example/edge) and http://www.acme.example.",
    );
    expect(terminalText("Write to <mailto:ana@acme.example|ana@acme.example>.", person)).toBe("Write to ana@acme.example.");
  });

  it("decodes Slack's entities once", () => {
    expect(terminalText("a &lt;b&gt; &amp;lt; c", person)).toBe("a <b> &lt; c");
  });

  it("reads a refusal the way every surface's tests read it", () => {
    expect(plainText(sayError("<hostname> is missing", "app create <hostname>"))).toBe("! <hostname> is missing\nUsage: `app create <hostname>`");
  });
});
