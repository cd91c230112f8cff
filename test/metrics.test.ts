import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, ConfigError } from "../src/config.ts";
import { logLines, startEdgebot, useEdgebotDataDir, type EdgebotProcess } from "./support/edgebot-process.ts";
import { startDnsServer, type TestDnsServer } from "./support/dns-server.ts";
import { FakeSlack } from "./support/fake-slack.ts";
import { signedRequest, slashCommandBody, testBotToken, testSigningSecret } from "./support/slack-app.ts";
import { until } from "./support/until.ts";

/** One sample of a metric in Prometheus' text format, like `name{a="b"} 3`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const has = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
    if (Object.entries(labels).every(([key, value]) => has[key] === value) && Object.keys(has).length === Object.keys(labels).length) return Number(match[3]);
  }
  return undefined;
}

describe("metrics (Prometheus text format)", () => {
  const home = useEdgebotDataDir("metrics");
  const fake = new FakeSlack();
  const token = "a-metrics-token-for-the-test-0123456789";
  let dns: TestDnsServer;

  beforeAll(async () => {
    dns = await startDnsServer({ records: [{ name: "www.metered.example", type: "CNAME", target: "www.metered.example.edge.test.net" }] });
    await fake.start();
    fake.addUser({ id: "UMETRICS", teamId: "T0TEST", email: "ana@example.com", name: "ana" });
  });
  afterAll(async () => {
    await fake.stop();
    await dns?.close();
  });

  async function type(url: string, text: string): Promise<void> {
    const { body, responseId } = slashCommandBody(fake, { text, userId: "UMETRICS" });
    expect((await signedRequest(url, body)).status).toBe(200);
    await fake.waitFor(() => fake.responses.get(responseId)?.[0]);
  }

  async function stopped(run: EdgebotProcess): Promise<void> {
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  }

  it("on METRICS_PORT (loopback), count a known sequence of commands, git requests, and read the outbox, job queue and process", { timeout: 120_000 }, async () => {
    const run = startEdgebot({ ...home.env(), PORT: "0", METRICS_PORT: "0", DNS_SERVERS: dns.address, EDGE_CNAME_SUFFIX: "edge.test.net", SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken });
    try {
      const url = `http://127.0.0.1:${await run.listening()}`;
      const served = await until(() => logLines(run.stderr()).find((line) => line.msg === "serving metrics")?.metrics as string | undefined, { what: "the metrics address", timeoutMs: 10_000 });
      expect(served).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      // Not on the main port: only METRICS_TOKEN puts them there.
      expect((await fetch(`${url}/metrics`)).status).toBe(404);

      await type(url, "org create metered");
      await type(url, "org create metered");
      await type(url, "org channel metered <#CMETERED|ops>");
      await type(url, "app create www.metered.example --org metered");
      await type(url, "dns check www.metered.example");
      await type(url, "dns check nowhere.metered.example");
      expect((await fetch(`${url}/git/metered/www-metered-example.git/info/refs?service=git-upload-pack`)).status).toBe(401);

      const text = await until(async () => {
        const scraped = await (await fetch(served)).text();
        return sample(scraped, "edgebot_slack_requests_total", { kind: "command", name: "dns check", outcome: "ok" }) === 2 ? scraped : undefined;
      }, { what: "the last command's count", timeoutMs: 10_000 });
      expect(sample(text, "edgebot_slack_requests_total", { kind: "command", name: "org create", outcome: "ok" })).toBe(1);
      expect(sample(text, "edgebot_slack_requests_total", { kind: "command", name: "org create", outcome: "refused" })).toBe(1);
      expect(sample(text, "edgebot_slack_requests_total", { kind: "command", name: "org channel", outcome: "ok" })).toBe(1);
      expect(sample(text, "edgebot_slack_requests_total", { kind: "command", name: "dns check", outcome: "ok" })).toBe(2);
      expect(sample(text, "edgebot_slack_ack_seconds_count")).toBe(6);
      expect(sample(text, "edgebot_slack_answer_seconds_count", { kind: "command" })).toBe(6);
      expect(sample(text, "edgebot_dns_verdicts_total", { verdict: "passes" })).toBe(1);
      expect(sample(text, "edgebot_dns_verdicts_total", { verdict: "fails" })).toBe(1);
      expect(sample(text, "edgebot_dns_queries_total", { outcome: "answered" })).toBeGreaterThanOrEqual(2);
      expect(sample(text, "edgebot_dns_query_seconds_total", { outcome: "answered" })).toBeGreaterThan(0);
      expect(sample(text, "edgebot_git_http_requests_total", { service: "upload-pack", status: "401" })).toBe(1);
      // The application's creation waits in the outbox for its channel (nothing delivers to CMETERED here but the worker, which may have).
      expect(sample(text, "edgebot_outbox_depth")).toEqual(expect.any(Number));
      expect(sample(text, "edgebot_outbox_oldest_age_seconds")).toEqual(expect.any(Number));
      expect(text).toMatch(/^# TYPE edgebot_job_queue_depth gauge$/m);
      expect(sample(text, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
      expect(sample(text, "nodejs_eventloop_lag_p99_seconds")).toEqual(expect.any(Number));
      if (process.env.TEST_DATABASE_URL) expect(sample(text, "edgebot_db_pool_connections", { state: "max" })).toBe(10);
      else expect(text).not.toContain("edgebot_db_pool_connections");
      expect((await fetch(served.replace("/metrics", "/other"))).status).toBe(404);
    } finally {
      await stopped(run);
    }
  });

  it("on the main port only with METRICS_TOKEN as a bearer token", { timeout: 120_000 }, async () => {
    const run = startEdgebot({ ...home.env(), PORT: "0", METRICS_TOKEN: token, SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: testSigningSecret, SLACK_BOT_TOKEN: testBotToken });
    try {
      const url = `http://127.0.0.1:${await run.listening()}`;
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token.slice(0, -1)}x` } })).status).toBe(401);
      const scraped = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get("content-type")).toContain("text/plain");
      expect(await scraped.text()).toContain("# TYPE edgebot_slack_requests_total counter");
      expect(run.stderr()).not.toContain(token);
    } finally {
      await stopped(run);
    }
  });

  it("refuses settings it could not serve them with, naming the variable", () => {
    expect(() => loadConfig({ METRICS_TOKEN: "short" })).toThrow(new ConfigError('METRICS_TOKEN: must be at least 16 characters (make one with: openssl rand -hex 32)'));
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(/METRICS_PORT: must be at most 65535/);
    expect(() => loadConfig({ METRICS_PORT: "9464", METRICS_HOST: "localhost" })).toThrow(/METRICS_HOST: must be an IP address/);
    expect(() => loadConfig({ METRICS_HOST: "0.0.0.0" })).toThrow("METRICS_HOST: set METRICS_PORT too");
    expect(loadConfig({ METRICS_PORT: "9464" }).metrics).toEqual({ port: 9464, host: "127.0.0.1", token: undefined });
    expect(loadConfig({}).metrics).toBeUndefined();
  });
});
