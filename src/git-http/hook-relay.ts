import { chmod, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { makePrivateDirectory, removeDirectoriesOfEndedProcesses } from "../core/git-processes.ts";
import { databaseUnreachableMessage, isDatabaseUnreachable } from "../core/outages.ts";
import type { RefUpdate } from "../core/pushes.ts";

/** What a push's hook reports: which hook, for which push, and the ref updates git gave it. */
export interface HookCall {
  /** The push's random id, set in the hook's environment by the process serving it. */
  pushId: string;
  hook: "pre-receive" | "post-receive";
  updates: RefUpdate[];
  /** Where git keeps the push's objects until pre-receive accepts it (GIT_QUARANTINE_PATH), absolute. */
  quarantine: string | undefined;
}

/** The answer a hook relays to git: `ok` accepts (exit 0), and the messages are shown to the pusher as "remote: …" lines. */
export interface HookVerdict {
  ok: boolean;
  messages: string[];
}

/** Where git finds the hooks, and the environment that lets them call this process back about one push. */
export interface PushHooks {
  /** `core.hooksPath` for the push's receive-pack. */
  hooksPath: string;
  env: Record<string, string>;
}

const relayScript = fileURLToPath(new URL("./hook-relay.mjs", import.meta.url));
const hookDirectoryPrefix = "edgebot-hooks-";

/**
 * The pre-receive and post-receive hooks of pushes over HTTP, and the Unix socket they call
 * back on. The hooks (hook-relay.mjs) decide nothing: they send the ref updates git reports to
 * this process with the push's id and relay `answer`'s verdict to git. The hook scripts and the
 * socket live in a private directory (only edgebot's user can reach the socket or change the
 * hooks), made on the first push and removed by `close`.
 */
export class HookRelay {
  private started: Promise<{ directory: string; socket: string; server: Server }> | undefined;

  constructor(
    private readonly answer: (call: HookCall) => Promise<HookVerdict>,
    private readonly logger: Logger,
  ) {}

  /** The hooks for push `pushId`; the first call makes the directory and starts the socket. */
  async hooksFor(pushId: string): Promise<PushHooks> {
    const { directory, socket } = await this.start();
    return { hooksPath: directory, env: { EDGEBOT_HOOK_SOCKET: socket, EDGEBOT_PUSH_ID: pushId } };
  }

  /** Stops the socket and removes the directory; pushes in flight are refused by their hooks. */
  async close(): Promise<void> {
    const started = await this.started?.catch(() => undefined);
    this.started = undefined;
    if (!started) return;
    await new Promise<void>((resolve) => started.server.close(() => resolve()));
    await rm(started.directory, { recursive: true, force: true });
  }

  private start(): Promise<{ directory: string; socket: string; server: Server }> {
    this.started ??= (async () => {
      // What a process that crashed left behind (close removes it otherwise).
      removeDirectoriesOfEndedProcesses(hookDirectoryPrefix, { onlyEmpty: false });
      const directory = await makePrivateDirectory(hookDirectoryPrefix);
      for (const hook of ["pre-receive", "post-receive"]) {
        const script = path.join(directory, hook);
        await writeFile(script, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(relayScript)} ${hook}\n`);
        await chmod(script, 0o700);
      }
      const socket = path.join(directory, "hooks.sock");
      const server = createServer((request, response) => {
        this.relay(request, response).catch((error: unknown) => {
          this.logger.error({ err: error, hook: request.url }, "git hook failed");
          // After post-receive the refs have moved: only the announcement is missing.
          const said =
            request.url === "/post-receive"
              ? "edgebot: the push went through, but it could not be announced."
              : isDatabaseUnreachable(error)
                ? `edgebot: ${databaseUnreachableMessage}`
                : "edgebot: could not check this push; nothing was changed. Try again.";
          hookAnswer(response, { ok: false, messages: [said] });
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socket, () => resolve());
      });
      return { directory, socket, server };
    })();
    return this.started;
  }

  /** One hook's call, answered with the verdict. */
  private async relay(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const call = parseHookCall(await readBody(request, 1_000_000));
    if (!call) return hookAnswer(response, { ok: false, messages: [notThroughEdgebot] });
    hookAnswer(response, await this.answer(call));
  }
}

/** What a hook is told about a push this process did not start. */
export const notThroughEdgebot = "edgebot: this push did not come through edgebot's server; nothing was changed.";

/** A hook's call as hook-relay.mjs sends it (JSON), or undefined when it is not one. */
export function parseHookCall(body: string): HookCall | undefined {
  try {
    const value = JSON.parse(body) as Partial<HookCall>;
    const sha = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
    if (typeof value.pushId !== "string" || (value.hook !== "pre-receive" && value.hook !== "post-receive") || !Array.isArray(value.updates)) return undefined;
    const updates = value.updates.filter((update): update is RefUpdate => typeof update?.ref === "string" && sha.test(String(update.before)) && sha.test(String(update.after)));
    if (updates.length !== value.updates.length) return undefined;
    return { pushId: value.pushId, hook: value.hook, updates, quarantine: typeof value.quarantine === "string" ? value.quarantine : undefined };
  } catch {
    return undefined;
  }
}

function hookAnswer(response: ServerResponse, verdict: HookVerdict): void {
  if (response.headersSent) return;
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(verdict));
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > limit) request.destroy(new Error("hook call too large"));
    });
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
