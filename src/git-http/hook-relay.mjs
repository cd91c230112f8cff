// git's pre-receive and post-receive hook for pushes over edgebot's HTTP server.
//
// git runs this (through the small scripts HookRelay writes into its hooks directory) inside
// `git receive-pack`, which `git http-backend` started for one authenticated request. The hook
// decides nothing itself: it hands the ref updates git reports on stdin to the edgebot process
// that started the push, over a Unix socket only that process's user can open, and relays the
// answer: the lines go to stderr, which git shows the pusher as "remote: …", and the exit code
// accepts or refuses the push. So every rule lives once, in edgebot's TypeScript (src/core/pushes.ts).
// Plain JavaScript so that node starts it in tens of milliseconds, without a TypeScript loader.
import { request } from "node:http";
import path from "node:path";

const hook = process.argv[2];
const socketPath = process.env.EDGEBOT_HOOK_SOCKET;
const pushId = process.env.EDGEBOT_PUSH_ID;

function finish(ok, messages) {
  for (const message of messages) process.stderr.write(`${message}\n`);
  process.exit(ok ? 0 : 1);
}

if (!socketPath || !pushId || (hook !== "pre-receive" && hook !== "post-receive")) {
  finish(false, ["edgebot: this push did not come through edgebot's server; nothing was changed."]);
}

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
const updates = input
  .split("\n")
  .filter(Boolean)
  .map((line) => {
    const [before, after, ref] = line.split(" ");
    return { before, after, ref };
  });
// git gives the quarantine relative to the repository, where hooks run; the server needs it whole.
const quarantine = process.env.GIT_QUARANTINE_PATH ? path.resolve(process.env.GIT_QUARANTINE_PATH) : undefined;
const body = JSON.stringify({ pushId, hook, updates, quarantine });

const call = request({ socketPath, path: `/${hook}`, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
  let text = "";
  response.setEncoding("utf8");
  response.on("data", (chunk) => (text += chunk));
  response.on("end", () => {
    try {
      const answer = JSON.parse(text);
      finish(answer.ok === true, Array.isArray(answer.messages) ? answer.messages.map(String) : []);
    } catch {
      finish(false, ["edgebot: could not check this push; nothing was changed. Try again."]);
    }
  });
});
call.on("error", () => finish(false, ["edgebot: could not check this push; nothing was changed. Try again."]));
call.end(body);
