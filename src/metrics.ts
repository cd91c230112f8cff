import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * edgebot's metrics, in Prometheus' text format, from one registry per process (prom-client).
 * Each part of edgebot counts what it does here; the figures read from the database (outbox,
 * job queue, pool) are read when Prometheus scrapes. docs/OPERATIONS.md lists them, with the
 * alerts worth setting.
 */
export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

/** Latency buckets, in seconds, from 1 ms to 10 s. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const slackRequests = new Counter({
  name: "edgebot_slack_requests_total",
  help: "Slack requests handled, by kind (command, action, view, options, event), name (the command, or the action without its ids) and outcome",
  labelNames: ["kind", "name", "outcome"] as const,
  registers,
});

export const slackAckSeconds = new Histogram({
  name: "edgebot_slack_ack_seconds",
  help: "From a Slack request's arrival to its acknowledgement (the HTTP answer Slack waits 3 s for), HTTP mode",
  buckets: latencyBuckets,
  registers,
});

export const slackAnswerSeconds = new Histogram({
  name: "edgebot_slack_answer_seconds",
  help: "From a Slack request's arrival to the end of its handling (the answer posted), by kind",
  labelNames: ["kind"] as const,
  buckets: latencyBuckets,
  registers,
});

/**
 * What the DNS client and verifier count, as plain numbers: they run tens of thousands of times a
 * second (docs/BENCHMARKS.md, DNS), where a prom-client call each (labels hashed, validated) costs
 * a tenth of the throughput. The counters below read them when scraped.
 */
export const dnsTally = {
  verdicts: { passes: 0, fails: 0, could_not_check: 0 } as Record<"passes" | "fails" | "could_not_check", number>,
  queries: { answered: 0, timeout: 0 } as Record<"answered" | "timeout", number>,
  querySeconds: { answered: 0, timeout: 0 } as Record<"answered" | "timeout", number>,
};

export type DnsTally = typeof dnsTally;

/** What `dnsTally` has counted since the last call, which it starts again from zero (a thread's counts, sent to the main thread's). */
export function takeDnsTally(): DnsTally {
  const taken = structuredClone(dnsTally);
  for (const counts of Object.values(dnsTally)) for (const key of Object.keys(counts)) (counts as Record<string, number>)[key] = 0;
  return taken;
}

/** Adds counts taken elsewhere (`takeDnsTally`, in another thread) to this thread's `dnsTally`. */
export function addDnsTally(counted: DnsTally): void {
  for (const [group, counts] of Object.entries(counted)) {
    const into = dnsTally[group as keyof DnsTally] as Record<string, number>;
    for (const [key, value] of Object.entries(counts)) into[key] = (into[key] ?? 0) + value;
  }
}

new Counter({
  name: "edgebot_dns_verdicts_total",
  help: "Hostnames checked against DNS, by verdict (passes, fails, could_not_check)",
  labelNames: ["verdict"] as const,
  registers,
  collect() {
    this.reset();
    for (const [verdict, count] of Object.entries(dnsTally.verdicts)) this.inc({ verdict }, count);
  },
});

new Counter({
  name: "edgebot_dns_queries_total",
  help: "DNS questions asked, by outcome (answered, timeout: no try got an answer)",
  labelNames: ["outcome"] as const,
  registers,
  collect() {
    this.reset();
    for (const [outcome, count] of Object.entries(dnsTally.queries)) this.inc({ outcome }, count);
  },
});

new Counter({
  name: "edgebot_dns_query_seconds_total",
  help: "Time spent on DNS questions, from sending to the answer (retries included), by outcome: divided by edgebot_dns_queries_total, the mean",
  labelNames: ["outcome"] as const,
  registers,
  collect() {
    this.reset();
    for (const [outcome, seconds] of Object.entries(dnsTally.querySeconds)) this.inc({ outcome }, seconds);
  },
});

export const gitHttpRequests = new Counter({
  name: "edgebot_git_http_requests_total",
  help: "Git over HTTP requests, by service (upload-pack: clone and fetch; receive-pack: push) and HTTP status",
  labelNames: ["service", "status"] as const,
  registers,
});

/** A gauge whose values are read when Prometheus scrapes (from the database, a pool): `read` gives each labelled value. */
export function gaugeOnScrape(spec: { name: string; help: string; labelNames?: string[] }, read: () => Promise<Array<{ labels?: Record<string, string>; value: number }>>): void {
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames ?? [],
    registers,
    async collect() {
      this.reset();
      for (const { labels, value } of await read()) {
        if (labels === undefined) this.set(value);
        else this.set(labels, value);
      }
    },
  });
}

/** Turns on prom-client's process metrics (CPU, memory, event loop lag, handles, GC), once per process. */
export function collectProcessMetrics(): void {
  if (metricsRegistry.getSingleMetric("process_cpu_user_seconds_total") === undefined) collectDefaultMetrics({ register: metricsRegistry });
}

/**
 * Answers `GET /metrics` with every metric; given `token`, only to `Authorization: Bearer <token>`
 * (compared in constant time), else 401.
 */
export function metricsHandler(token: string | undefined): (request: IncomingMessage, response: ServerResponse) => void {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`);
  return (request, response) => {
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
      return;
    }
    if (expected !== undefined) {
      const given = Buffer.from(request.headers.authorization ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        response.writeHead(401, { "www-authenticate": 'Bearer realm="edgebot metrics"' }).end("a bearer token is needed: METRICS_TOKEN\n");
        return;
      }
    }
    metricsRegistry.metrics().then(
      (text) => response.writeHead(200, { "content-type": metricsRegistry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`metrics could not be read: ${(error as Error).message}\n`),
    );
  };
}

/** Serves `/metrics` on a port of its own (METRICS_PORT); resolves once it listens. */
export async function serveMetrics(options: { port: number; host: string; token: string | undefined }): Promise<{ server: Server; port: number }> {
  const handle = metricsHandler(options.token);
  const server = createServer((request, response) => {
    if (new URL(request.url ?? "/", "http://metrics.invalid").pathname === "/metrics") handle(request, response);
    else response.writeHead(404, { "content-type": "text/plain" }).end("not found: the metrics are at /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return { server, port: typeof address === "object" && address !== null ? address.port : options.port };
}
