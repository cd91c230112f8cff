import { describe, expect, it } from "vitest";
import { startEdgebot, useEdgebotDataDir } from "../../support/edgebot-process.ts";

describe("the handover in the local shell", () => {
  const home = useEdgebotDataDir("shell-handover");

  it("clones, moves an application to another org of the local user at once, and refuses the last owner's leave", { timeout: 120_000 }, async () => {
    const script = [
      "org create agency",
      "org create client",
      "app create www.client.example --org agency --name www",
      "app clone agency/www --name template",
      "app move agency/www --to client",
      "app move client/www --to client",
      "member leave client",
      "app list",
      "",
    ].join("\n");
    const edgebot = startEdgebot(home.env(), { input: script });
    expect(await edgebot.exited).toBe(0);
    const out = edgebot.stdout();
    expect(out).toContain("Created agency/template as a copy of agency/www: production with its 1 commit(s) of history, and no domains.");
    expect(out).toContain("Moved agency/www to client: it is now client/www, with its repository and history, 1 environment(s) and 1 domain(s).");
    expect(out).toContain("! client/www is already in client: name another org with --to");
    expect(out).toContain("! you are the last owner of client: make someone else an owner first");
    expect(out).toMatch(/client\/www/);
  });
});
