import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { singleWorkspaceToken, startOutboxWorker, type OutboxWorker } from "../src/bot/slack/outbox.ts";
import { createApplication } from "../src/core/applications.ts";
import { addDomain } from "../src/core/domains.ts";
import { outboxChannel } from "../src/core/notifications.ts";
import { createOrg, setOrgChannel } from "../src/core/orgs.ts";
import type { Platform } from "../src/core/platform.ts";
import { registerUser } from "../src/core/users.ts";
import { openDatabase } from "../src/db/connect.ts";
import { Repositories } from "../src/repos/repositories.ts";
import { machineLine } from "./machine.ts";
import { percentile } from "./measure.ts";
import { unservedDns, type BenchContext, type BenchSection, type SectionResult } from "./section.ts";

const targets = { p50Ms: 50, p99Ms: 250 };
const channel = "C0BENCHOUTBOX";

export const outboxSection: BenchSection = {
  id: "outbox",
  title: "Outbox",
  run: runOutbox,
};

/**
 * From a change's commit to its channel message reaching Slack: `domain add` committed through
 * core, then timed until the fake Web API on loopback receives the `chat.postMessage` naming
 * the hostname. Once with the worker woken by the committing transaction (LISTEN/NOTIFY), and,
 * in the same run, with the poll alone (every second), as before.
 */
async function runOutbox(context: BenchContext): Promise<SectionResult> {
  const { progress } = context;
  const changes = context.scale < 1 ? 40 : 200;
  const polledChanges = context.scale < 1 ? 10 : 30;
  const handle = await openDatabase({ databaseUrl: context.databaseUrl, poolSize: 10 });
  const gitRoot = await mkdtemp(path.join(tmpdir(), "edgebot-bench-outbox-repos-"));
  const platform: Platform = { db: handle.db, repositories: new Repositories(gitRoot), dns: unservedDns() };
  const slack = await fakeSlack();
  try {
    const owner = await registerUser(platform, { teamId: "T0BENCH", chatUserId: "U0OUTBOX", email: "olga@bench-agency.example", displayName: "Olga" });
    const actor = { userId: owner.id };
    await createOrg(platform, { actor, slug: "outbox-bench" });
    await setOrgChannel(platform, { actor, org: "outbox-bench", channelId: channel, teamId: "T0BENCH" });
    const { ref } = await createApplication(platform, { actor, hostname: "www.outbox-bench.test", org: "outbox-bench" });

    const measure = async (worker: OutboxWorker, count: number, label: string): Promise<number[]> => {
      const latencies: number[] = [];
      for (let i = 0; i < count; i++) {
        const hostname = `${label}-${i}.outbox-bench.test`;
        await addDomain(platform, { actor, app: ref, env: "production", hostname });
        const committed = performance.now();
        latencies.push((await slack.arrival(hostname)) - committed);
      }
      await worker.stop();
      return latencies.sort((a, b) => a - b);
    };

    progress(`woken by NOTIFY: ${changes} changes, one after another…`);
    const woken = startOutboxWorker({ platform, botTokenFor: singleWorkspaceToken("xoxb-bench"), slackApiUrl: slack.url, logger: pino({ level: "silent" }) });
    const unlisten = await handle.listen(outboxChannel, () => woken.wake());
    const wokenLatencies = await measure(woken, changes, "woken");
    await unlisten();

    progress(`the poll alone (every second): ${polledChanges} changes…`);
    const polled = startOutboxWorker({ platform, botTokenFor: singleWorkspaceToken("xoxb-bench"), slackApiUrl: slack.url, logger: pino({ level: "silent" }) });
    const polledLatencies = await measure(polled, polledChanges, "polled");

    return report(context, { woken: wokenLatencies, polled: polledLatencies });
  } finally {
    await slack.close();
    await handle.close();
    await rm(gitRoot, { recursive: true, force: true });
  }
}

/** A Web API on loopback that records when each `chat.postMessage` arrives, by the hostname its text names. */
async function fakeSlack(): Promise<{ url: string; arrival(hostname: string): Promise<number>; close(): Promise<void> }> {
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  const server: Server = createServer((request, response) => {
    const at = performance.now();
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const text = decodeURIComponent(/(?:^|&)text=([^&]*)/.exec(body)?.[1]?.replace(/\+/g, " ") ?? (JSON.parse(body || "{}") as { text?: string }).text ?? "");
      const hostname = /\*([a-z0-9.-]+\.outbox-bench\.test)\*/.exec(text)?.[1];
      if (hostname !== undefined) {
        arrived.set(hostname, at);
        waiting.get(hostname)?.(at);
      }
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, channel, ts: `${Date.now() / 1000}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    arrival: (hostname) => {
      const at = arrived.get(hostname);
      return at !== undefined ? Promise.resolve(at) : new Promise((resolve) => waiting.set(hostname, resolve));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function report(context: BenchContext, latencies: { woken: number[]; polled: number[] }): SectionResult {
  const stats = (list: number[]) => ({ p50: percentile(list, 0.5), p99: percentile(list, 0.99), max: list.at(-1) ?? NaN });
  const woken = stats(latencies.woken);
  const polled = stats(latencies.polled);
  const missed: string[] = [];
  if (!(woken.p50 <= targets.p50Ms)) missed.push(`commit to post p50 at most ${targets.p50Ms} ms: measured ${woken.p50.toFixed(1)} ms`);
  if (!(woken.p99 <= targets.p99Ms)) missed.push(`commit to post p99 at most ${targets.p99Ms} ms: measured ${woken.p99.toFixed(1)} ms`);
  const table = [
    "| outbox worker | changes | commit → posted p50 ms | p99 ms | max ms |",
    "|---|---:|---:|---:|---:|",
    `| woken by the committing transaction (LISTEN/NOTIFY), poll as fallback | ${latencies.woken.length} | ${woken.p50.toFixed(1)} | ${woken.p99.toFixed(1)} | ${woken.max.toFixed(1)} |`,
    `| the poll alone, every second (before) | ${latencies.polled.length} | ${polled.p50.toFixed(1)} | ${polled.p99.toFixed(1)} | ${polled.max.toFixed(1)} |`,
    `| ratio, woken / poll alone (p50) | | ${(woken.p50 / polled.p50).toFixed(3)}× | | |`,
  ].join("\n");
  const targetTable = [
    "| target | measured | met |",
    "|---|---:|---|",
    `| change committed → its channel message posted, p50 ≤ ${targets.p50Ms} ms | ${woken.p50.toFixed(1)} ms | ${woken.p50 <= targets.p50Ms ? "yes" : "**NO**"} |`,
    `| … p99 ≤ ${targets.p99Ms} ms | ${woken.p99.toFixed(1)} ms | ${woken.p99 <= targets.p99Ms ? "yes" : "**NO**"} |`,
  ].join("\n");
  const markdown = [
    `_${machineLine(context.machine)}_`,
    "",
    "Each change is a `domain add` through core on the benchmark's Postgres database, in an org whose channel is set, one after another; its latency runs from the change's commit to the moment a fake Web API on loopback receives the `chat.postMessage` that names the new hostname. The outbox worker is edgebot's own (`startOutboxWorker`), posting over HTTP. The same run then measures the worker with its poll alone (every second), as it was before the wake-up.",
    "",
    table,
    "",
    targetTable,
  ].join("\n");
  return { rows: [], table: `${table}\n\n${targetTable}`, summary: [machineLine(context.machine)], markdown, missed };
}
