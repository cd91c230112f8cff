import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../../../src/bot/shell.ts";
import { logLines, startEdgebot, useEdgebotDataDir } from "../../support/edgebot-process.ts";
import { FakeSlack } from "../../support/fake-slack.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "../../support/slack-app.ts";
import { until } from "../../support/until.ts";

describe("request ids and the access log (edgebot over HTTP, its logs on stderr)", () => {
  const home = useEdgebotDataDir("request-ids");
  const fake = new FakeSlack();

  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it("writes one access line per command, without its arguments, and ties a 'something went wrong' to its log lines by its reference", { timeout: 120_000 }, async () => {
    const gitRoot = path.join(home.dataDir(), "repositories");
    const run = startEdgebot({ ...home.env(), GIT_ROOT: gitRoot, PORT: "0", SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken });
    try {
      const url = `http://127.0.0.1:${await run.listening()}`;
      fake.addUser({ id: "UREQ", teamId: "T0TEST", email: "ana@example.com", name: "ana" });
      const accessLines = () => logLines(run.stderr()).filter((line) => line.msg === "request");
      const type = async (text: string) => {
        const logged = accessLines().length;
        const { body, responseId } = slashCommandBody(fake, { text, userId: "UREQ" });
        expect((await signedRequest(url, body)).status).toBe(200);
        const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
        // A request's access line is written when all its work ends (a Home tab refresh after
        // the answer, say): the next command waits for it, so the lines come in the order typed.
        await until(() => (accessLines().length > logged ? true : undefined), { what: "the command's access line", timeoutMs: 10_000 });
        return plainText({ text: String(answer.text), blocks: [] });
      };

      expect(await type("org create secret-client-name")).toContain("Created org secret-client-name");
      expect(await type("org create secret-client-name")).toContain("the org slug secret-client-name is");
      expect(await type("ap list")).toContain("did you mean");
      const lines = await until(() => (accessLines().length >= 3 ? accessLines() : undefined), { what: "three access lines", timeoutMs: 10_000 });
      expect(lines.map(({ kind, name, outcome }) => ({ kind, name, outcome }))).toEqual([
        { kind: "command", name: "org create", outcome: "ok" },
        { kind: "command", name: "org create", outcome: "refused" },
        { kind: "command", name: "(not a command)", outcome: "unknown_command" },
      ]);
      for (const line of lines) {
        expect(line.ms).toEqual(expect.any(Number));
        expect(line.reqId).toMatch(/^[0-9a-f]{6}$/);
      }
      expect(new Set(lines.map((line) => line.reqId)).size).toBe(3);
      // Arguments may hold secrets: no access line repeats them.
      expect(JSON.stringify(lines)).not.toContain("secret-client-name");

      // A real fault: where repositories are kept is a file now, so creating one fails as nobody foresaw.
      await rm(gitRoot, { recursive: true, force: true });
      await writeFile(gitRoot, "not a directory\n");
      const failed = await type("app create www.client.example --org secret-client-name");
      const reference = /something went wrong on our side[^\n]*\(reference ([0-9a-f]{6})\)/.exec(failed)?.[1];
      expect(reference, failed).toBeDefined();

      const ofRequest = await until(() => {
        const found = logLines(run.stderr()).filter((line) => line.reqId === reference);
        return found.some((line) => line.msg === "request") ? found : undefined;
      }, { what: "the failed request's log lines", timeoutMs: 10_000 });
      expect(ofRequest.find((line) => line.msg === "command failed")).toMatchObject({ level: 50, command: "app create", err: expect.objectContaining({ message: expect.stringContaining(gitRoot) }) });
      expect(ofRequest.find((line) => line.msg === "request")).toMatchObject({ kind: "command", name: "app create", outcome: "failed" });
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
  });
});
