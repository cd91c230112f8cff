/**
 * The Slack benchmark's fake Slack (the Web API methods a slash command needs, and the response
 * URLs), on its own thread of the driver's process (bench/slack-driver.ts): answers posted to
 * response URLs are received here, so that their work never delays the driver's sending of
 * commands nor its reading of their acknowledgements. Each answer is passed to the driver's
 * thread with the time it arrived, on the clock both threads share.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { text } from "node:stream/consumers";
import { parentPort, workerData } from "node:worker_threads";

/** What the fake Slack tells the driver's thread. */
export type FakeSlackMessage =
  | { type: "listening"; port: number }
  /** An answer posted to `/response/<id>`; `at` in ms since the Unix epoch (`performance.timeOrigin` + `now()`), its text when it had one. */
  | { type: "answer"; id: string; at: number; text: string | undefined };

export interface FakeSlackData {
  users: Record<string, { email: string; name: string; teamId: string }>;
}

const { users } = workerData as FakeSlackData;
const port = parentPort!;

const server = createServer((request, response) => {
  void text(request).then((body) => {
    const path = request.url ?? "/";
    let answer: Record<string, unknown> = { ok: true };
    if (path.startsWith("/response/")) {
      const at = performance.timeOrigin + performance.now();
      const posted = JSON.parse(body || "{}") as { text?: unknown };
      port.postMessage({ type: "answer", id: path.slice("/response/".length), at, text: typeof posted.text === "string" ? posted.text : undefined } satisfies FakeSlackMessage);
    } else if (path.startsWith("/api/users.info")) {
      const userId = new URLSearchParams(body).get("user") ?? "";
      const user = users[userId];
      answer = user
        ? { ok: true, user: { id: userId, team_id: user.teamId, name: user.name, real_name: user.name, profile: { email: user.email, display_name: user.name, real_name: user.name } } }
        : { ok: false, error: "user_not_found" };
    } else if (path.startsWith("/api/auth.test")) {
      answer = { ok: true, team_id: "T0BENCH", user_id: "UBOT", bot_id: "BBOT" };
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
  });
});
server.listen(0, "127.0.0.1", () => port.postMessage({ type: "listening", port: (server.address() as AddressInfo).port } satisfies FakeSlackMessage));
port.on("message", (message: { type: "stop" }) => {
  if (message.type !== "stop") return;
  server.close();
  server.closeAllConnections();
  port.close();
});
