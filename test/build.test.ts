import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plainText } from "../src/bot/shell.ts";
import type { DnsVerifierConfig, VerifierThreadReply } from "../src/dns/verify.ts";
import { startDnsServer } from "./support/dns-server.ts";
import { startEdgebot, useEdgebotDataDir } from "./support/edgebot-process.ts";
import { FakeSlack } from "./support/fake-slack.ts";
import { runGitClient } from "./support/git-client.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "./support/slack-app.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

describe("the production build (npm run build)", () => {
  // Inside the project, so that the compiled code finds node_modules as dist/ does.
  const outDir = path.join(projectRoot, "node_modules", ".cache", `edgebot-build-test-${process.pid}`);
  const edgebotHome = useEdgebotDataDir("build");
  const fake = new FakeSlack();
  let home: string;

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [path.join(projectRoot, "scripts", "build.mjs"), outDir], { cwd: projectRoot });
    await fake.start();
    home = await mkdtemp(path.join(tmpdir(), "edgebot-build-git-"));
  }, 180_000);

  afterAll(async () => {
    await fake.stop();
    await rm(outDir, { recursive: true, force: true });
    if (home) await rm(home, { recursive: true, force: true });
  });

  it("runs with node alone: answers Slack, serves git and takes a push through its hooks", { timeout: 120_000 }, async () => {
    const run = startEdgebot(
      { ...edgebotHome.env(), PORT: "0", SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken },
      { main: path.join(outDir, "main.js") },
    );
    try {
      const url = `http://127.0.0.1:${await run.listening()}`;
      fake.addUser({ id: "UBUILD", teamId: "T0TEST", email: "ana@example.com", name: "ana" });
      const answerTo = async (text: string) => {
        const { body, responseId } = slashCommandBody(fake, { text, userId: "UBUILD" });
        expect((await signedRequest(url, body)).status).toBe(200);
        const answer = await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
        return plainText({ text: String(answer.text), blocks: [] });
      };
      expect(await answerTo("org create acme")).toContain("Created org acme");
      expect(await answerTo("app create www.acme.example --org acme --name www")).toContain("Created acme/www");
      const token = /edgebot_pat_[A-Za-z0-9_-]{43}/.exec(await answerTo("token create"))![0];

      const remote = new URL(`${url}/git/acme/www.git`);
      remote.username = "ana";
      remote.password = token;
      const clone = path.join(home, "www");
      const git = (args: string[], cwd: string) => runGitClient(args, { cwd, home, author: { name: "Ana", email: "ana@example.com" } });
      expect((await git(["clone", "--quiet", remote.toString(), clone], home)).code).toBe(0);
      await writeFile(path.join(clone, "varnish", "default.vcl"), "vcl 4.1;\n# from the built edgebot\nbackend default none;\n");
      expect((await git(["commit", "--quiet", "-am", "Change through the build"], clone)).code).toBe(0);
      const pushed = await git(["push", "--quiet", "origin", "production"], clone);
      expect(pushed.code).toBe(0);
      expect(pushed.stderr).toMatch(/edgebot: acme\/www production now at [0-9a-f]{7} \(1 new commit\)/);
    } finally {
      run.child.kill("SIGTERM");
    }
    expect(await run.exited).toBe(0);
  });

  it("runs the DNS verifier's thread from dns-worker.js beside the bundles", { timeout: 60_000 }, async () => {
    // The bundle that starts the thread looks for it beside itself.
    const bundles = (await readdir(outDir)).filter((name) => name.endsWith(".js") && name !== "dns-worker.js");
    const starters = [];
    for (const name of bundles) if ((await readFile(path.join(outDir, name), "utf8")).includes('new URL("./dns-worker.js",import.meta.url)')) starters.push(name);
    expect(starters).toHaveLength(1);
    const server = await startDnsServer({ records: [{ name: "www.built.example", type: "CNAME", target: "www.built.example.edge.test.net" }] });
    const config: DnsVerifierConfig = { dnsServers: [server.address], dnsTimeoutMs: 1000, dnsConcurrency: 4, edgeCnameSuffix: "edge.test.net", edgeIpv4: [] };
    const worker = new Worker(path.join(outDir, "dns-worker.js"), { workerData: config });
    try {
      const reply = new Promise<VerifierThreadReply>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      worker.postMessage({ id: 7, hostnames: ["www.built.example"] });
      expect(await reply).toMatchObject({ id: 7, verdicts: [{ status: "passes", hostname: "www.built.example" }], tally: { verdicts: { passes: 1 }, queries: { answered: 1 } } });
    } finally {
      await worker.terminate();
      await server.close();
    }
  });
});
