/**
 * The Slack side of the Slack benchmark, run by bench/slack.ts in a child process so that the
 * load it generates does not share an event loop (or a thread) with the Bolt apps it measures.
 *
 * It holds a small fake Slack on loopback (the Web API methods a slash command needs, and the
 * response URLs) and sends signed slash commands: an open loop on a fixed schedule, or a closed
 * loop of concurrent senders. Every loop is bounded by its duration and by per-request timeouts.
 */
import { createHmac, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import type { FakeSlackData, FakeSlackMessage } from "./slack-driver-api.ts";

/** What bench/slack.ts asks of the driver. */
export type DriverRequest =
  | { type: "start"; users: Record<string, { email: string; name: string; teamId: string }> }
  | { type: "run"; id: number; spec: LoadSpec }
  | { type: "stop" };

/** What the driver answers. */
export type DriverReply = { type: "ready"; apiUrl: string } | { type: "result"; id: number; result: LoadResult } | { type: "failed"; message: string };

export interface LoadSpec {
  /**
   * The App's events URL, like http://127.0.0.1:1234/slack/events; several for several processes
   * of one app: the open loop's requests take them in turn, and each closed-loop sender keeps one
   * (sender i sends to URL i mod n), as a round-robin load balancer spreads connections.
   */
  urls: string[];
  signingSecret: string;
  kind: "open" | "closed";
  seconds: number;
  /** Open loop: requests per second. */
  rate: number;
  /** Closed loop: concurrent senders. */
  concurrency: number;
  /** Wait for (and time) the answer on the response URL; a closed-loop sender only sends again after it. */
  answers: boolean;
  /** Command texts, sent in turn. */
  texts: string[];
  teamId: string;
  userId: string;
  command: string;
}

export interface LoadResult {
  sent: number;
  /** Acknowledgement latencies in ms (request scheduled or sent → HTTP response), ascending. */
  acks: number[];
  /** Answer latencies in ms (request → body posted to the response URL), ascending; empty when not awaited. */
  answers: number[];
  /** Requests without a 200 acknowledgement (error status, connection error or 10 s timeout). */
  failedAcks: number;
  /** Acknowledged requests whose answer did not arrive within the answer timeout. */
  unanswered: number;
  /** Answers that told the user something went wrong. */
  errorAnswers: number;
  /** Closed loop: commands complete within the window (acknowledged, and answered when awaited). */
  completed: number;
  /** The measurement window in seconds. */
  windowSeconds: number;
  /** Open loop: the largest delay between a request's scheduled time and its sending. */
  maxSendLagMs: number;
  /** One answer text per command text, to show the work was real. */
  samples: Record<string, string>;
}

const ackTimeoutMs = 10_000;
const answerTimeoutMs = 10_000;

let fakeSlack: Worker | undefined;
let port = 0;
/** Response URL ids still awaited: resolve with when the answer arrived (this thread's `performance.now()`) and its text. */
const awaited = new Map<string, (answer: { at: number; text: string | undefined }) => void>();

function send(reply: DriverReply): void {
  process.send?.(reply);
}

process.on("message", (message: DriverRequest) => {
  void handle(message).catch((error: unknown) => send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
process.on("disconnect", () => stopFakeSlack());

async function handle(message: DriverRequest): Promise<void> {
  if (message.type === "start") {
    port = await startFakeSlack({ users: message.users });
    send({ type: "ready", apiUrl: `http://127.0.0.1:${port}/api/` });
  } else if (message.type === "run") {
    const result = message.spec.kind === "open" ? await openLoop(message.spec) : await closedLoop(message.spec);
    send({ type: "result", id: message.id, result });
  } else {
    stopFakeSlack();
    process.disconnect?.();
  }
}

/** Starts the fake Slack on its own thread (bench/slack-driver-api.ts); resolves with its port. */
function startFakeSlack(data: FakeSlackData): Promise<number> {
  // A thread's first module is loaded before the --import hook applies: it registers tsx first.
  const api = new URL("./slack-driver-api.ts", import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then(({ register }) => { register(); return import(${JSON.stringify(api)}); });`, { eval: true, workerData: data });
  fakeSlack = worker;
  return new Promise((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: FakeSlackMessage) => {
      if (message.type === "listening") resolve(message.port);
      else {
        const resolveAnswer = awaited.get(message.id);
        awaited.delete(message.id);
        resolveAnswer?.({ at: message.at - performance.timeOrigin, text: message.text });
      }
    });
  });
}

function stopFakeSlack(): void {
  fakeSlack?.postMessage({ type: "stop" });
  fakeSlack = undefined;
}

let sequence = 0;

/** A slash command as Slack posts it, signed with `v0:<timestamp>:<body>` under HMAC-SHA256. */
function signedCommand(spec: LoadSpec, text: string): { init: RequestInit; responseId: string } {
  const responseId = `${process.pid}-${++sequence}-${randomBytes(3).toString("hex")}`;
  const body = new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: spec.teamId,
    team_domain: "bench-agency",
    channel_id: "C0GENERAL",
    channel_name: "general",
    user_id: spec.userId,
    user_name: spec.userId.toLowerCase(),
    command: spec.command,
    text,
    api_app_id: "A0EDGEBOT",
    is_enterprise_install: "false",
    response_url: `http://127.0.0.1:${port}/response/${responseId}`,
    trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", spec.signingSecret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return {
    responseId,
    init: {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(timestamp), "x-slack-signature": signature },
      body,
      signal: AbortSignal.timeout(ackTimeoutMs),
    },
  };
}

/** Sends one command; resolves with the ack latency from `since` (undefined when not acknowledged) and the answer's promise. */
async function sendCommand(
  spec: LoadSpec,
  url: string,
  text: string,
  since: number,
): Promise<{ ack: number | undefined; answer: Promise<{ at: number; text: string | undefined } | undefined> }> {
  const { init, responseId } = signedCommand(spec, text);
  let answer: Promise<{ at: number; text: string | undefined } | undefined> = Promise.resolve(undefined);
  if (spec.answers) {
    answer = new Promise((resolve) => {
      const timer = setTimeout(() => {
        awaited.delete(responseId);
        resolve(undefined);
      }, answerTimeoutMs);
      awaited.set(responseId, (answered) => {
        clearTimeout(timer);
        resolve(answered);
      });
    });
  }
  try {
    const response = await fetch(url, init);
    const ack = performance.now() - since;
    await response.arrayBuffer();
    if (response.status !== 200) {
      awaited.delete(responseId);
      return { ack: undefined, answer: Promise.resolve(undefined) };
    }
    return { ack, answer };
  } catch {
    awaited.delete(responseId);
    return { ack: undefined, answer: Promise.resolve(undefined) };
  }
}

function emptyResult(windowSeconds: number): LoadResult {
  return { sent: 0, acks: [], answers: [], failedAcks: 0, unanswered: 0, errorAnswers: 0, completed: 0, windowSeconds, maxSendLagMs: 0, samples: {} };
}

function noteAnswer(result: LoadResult, text: string, answerText: string | undefined): void {
  const said = answerText ?? "";
  if (/something went wrong/i.test(said)) result.errorAnswers += 1;
  if (!(text in result.samples)) result.samples[text] = said;
}

/**
 * Open loop: request i is sent at start + i / rate whatever became of the earlier ones, and its
 * latencies count from that scheduled time (a late send is not forgiven).
 */
async function openLoop(spec: LoadSpec): Promise<LoadResult> {
  const result = emptyResult(spec.seconds);
  const total = Math.round(spec.seconds * spec.rate);
  const interval = 1000 / spec.rate;
  const start = performance.now() + 20;
  const inFlight: Array<Promise<void>> = [];
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const scheduled = start + next * interval;
        const text = spec.texts[next % spec.texts.length]!;
        result.maxSendLagMs = Math.max(result.maxSendLagMs, now - scheduled);
        result.sent += 1;
        inFlight.push(
          sendCommand(spec, spec.urls[next % spec.urls.length]!, text, scheduled).then(async ({ ack, answer }) => {
            if (ack === undefined) {
              result.failedAcks += 1;
              return;
            }
            result.acks.push(ack);
            const answered = await answer;
            if (!spec.answers) return;
            if (!answered) {
              result.unanswered += 1;
              return;
            }
            result.answers.push(answered.at - scheduled);
            noteAnswer(result, text, answered.text);
          }),
        );
        next += 1;
      }
      if (next >= total) done();
      else setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  await Promise.all(inFlight);
  result.acks.sort((a, b) => a - b);
  result.answers.sort((a, b) => a - b);
  return result;
}

/** Closed loop: `concurrency` senders, each sending its next command once the last one completed. */
async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const result = emptyResult(spec.seconds);
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  let turn = 0;
  const sender = async (index: number) => {
    const url = spec.urls[index % spec.urls.length]!;
    while (performance.now() < end) {
      const text = spec.texts[turn++ % spec.texts.length]!;
      const sentAt = performance.now();
      result.sent += 1;
      const { ack, answer } = await sendCommand(spec, url, text, sentAt);
      if (ack === undefined) {
        result.failedAcks += 1;
        continue;
      }
      result.acks.push(ack);
      let finishedAt = sentAt + ack;
      if (spec.answers) {
        const answered = await answer;
        if (!answered) {
          result.unanswered += 1;
          continue;
        }
        result.answers.push(answered.at - sentAt);
        noteAnswer(result, text, answered.text);
        finishedAt = answered.at;
      }
      if (finishedAt <= end) result.completed += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, (_, index) => sender(index)));
  result.acks.sort((a, b) => a - b);
  result.answers.sort((a, b) => a - b);
  return result;
}
