import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { requireRepository } from "../core/applications.ts";
import { configurationProblems } from "../core/configs.ts";
import { databaseUnreachableMessage, isDatabaseUnreachable } from "../core/outages.ts";
import { gitPathPrefix } from "../core/clone-urls.ts";
import { CoreError } from "../core/errors.ts";
import type { Actor, Platform } from "../core/platform.ts";
import { isolatedGitEnvironment } from "../repos/repositories.ts";
import { holdsFirstPacket, lsRefsAnswer, parseLsRefsRequest, requestCommand } from "./ls-refs.ts";
import { authorizeGitClient, authorizePush, recordPush, reviewPush, type RefUpdate, type RepositoryAccess } from "../core/pushes.ts";

const realm = 'Basic realm="edgebot"';
const relayScript = fileURLToPath(new URL("./hook-relay.mjs", import.meta.url));
// Only git's smart protocol is served: its two services and their ref advertisement.
const requestPath = /^\/git\/([a-z0-9][a-z0-9-]{0,38})\/([a-z0-9][a-z0-9-]{0,38})\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const services = new Set(["git-upload-pack", "git-receive-pack"]);
// How many commits of a push the announcement names; the count covers the rest.
const announcedCommits = 10;

/** The HTTP status of a refusal: a repository missing from disk is the server's trouble, not the client's. */
function statusOf(error: CoreError): number {
  if (error.kind === "not_found") return 404;
  if (error.kind === "unavailable") return 503;
  return 403;
}

/** Whose token a request carries, and what they may do with the repository. */
type GitClient = NonNullable<Awaited<ReturnType<typeof authorizeGitClient>>>;

/** How long a connection's authorization is reused by its next requests (see `GitHttp.authorize`). */
const connectionAuthorizationMs = 5000;

/** A push in progress: who made it, to which repository; its hooks find it by its id. */
interface PushInProgress {
  actor: Actor;
  access: RepositoryAccess;
}

export interface GitHttpOptions {
  platform: Platform;
  logger: Logger;
  /** Called once an accepted push has been recorded and announced (the shell prints the announcement). */
  onPushed?: () => void;
  /** The largest pack a push may send (GIT_MAX_PUSH_BYTES); 10 MiB when unset. */
  maxPushBytes?: number;
}

/** GIT_MAX_PUSH_BYTES's default (SPEC §6). */
export const defaultMaxPushBytes = 10 * 1024 * 1024;

/**
 * Every object a push sends is checked by git's fsck before the hooks run, and what fsck only
 * warns about by default (or ignores) in a tree is an error here: a path git itself would refuse
 * to check out (`.git`, `..`, `git~1`, `.GIT.`), a bad .gitmodules or mode, a link as .gitignore.
 */
const receiveFsck: Record<string, string> = {
  "receive.fsckObjects": "true",
  ...Object.fromEntries(
    [
      "hasDotgit",
      "hasDot",
      "hasDotdot",
      "emptyName",
      "fullPathname",
      "nullSha1",
      "zeroPaddedFilemode",
      "badFilemode",
      "nulInCommit",
      "gitmodulesParse",
      "gitignoreSymlink",
      "gitattributesSymlink",
      "mailmapSymlink",
    ].map((id) => [`receive.fsck.${id}`, "error"]),
  ),
};

/**
 * Git's smart HTTP protocol for real git clients, as a plain Node request handler mounted on
 * edgebot's HTTP server (Slack HTTP mode) or on a server of its own (the shell).
 *
 * Every request is authenticated here (Basic auth, a personal access token as the password)
 * and authorized from the token owner's role in the application's org; git then serves it,
 * the request body streamed in and git's output streamed back. Pushes go through git's own
 * `git http-backend` as a CGI child; clones and fetches run `git upload-pack` directly, as
 * http-backend would (see `runUploadPack` for why). Nothing the client sends reaches git as an
 * argument: the repository comes from the application's id and the service is one of two names.
 *
 * Pushes are checked where only git can see them: in a pre-receive hook, after the pack
 * has arrived (quarantined) and before any ref moves. `core.hooksPath` is set for the
 * receive-pack through GIT_CONFIG_COUNT/KEY/VALUE, so the repositories carry no hooks of their
 * own and a push that did not come through here runs none. The hook (hook-relay.mjs) relays
 * the ref updates to this process over a Unix socket in a private directory, with the push's
 * random id; the rules run here (src/core/pushes.ts) with the token owner's identity, and the
 * answer goes back to the client as "remote:" lines. The post-receive hook reports the refs
 * that did move, so the announcement and the audit name exactly what the push changed.
 * git itself refuses deletions and non-fast-forward updates (receive.denyDeletes,
 * receive.denyNonFastForwards): an environment's history is never rewritten by a push.
 */
export class GitHttp {
  private readonly pushes = new Map<string, PushInProgress>();
  /**
   * upload-pack's protocol v2 capability list. It names no refs and depends only on git's version
   * and configuration, the same for every repository edgebot creates (sha1, no per-repository
   * settings), so it is asked of git once and then answered without starting a process.
   */
  private capabilities: Buffer | undefined;
  private hooks: Promise<{ directory: string; socket: string; server: Server }> | undefined;
  /** The last authorization found on each open connection (see `authorize`). */
  private readonly connectionAuthorizations = new WeakMap<Socket, { authorization: string; org: string; app: string; client: GitClient; until: number }>();

  private readonly maxPushBytes: number;

  constructor(private readonly options: GitHttpOptions) {
    this.maxPushBytes = options.maxPushBytes ?? defaultMaxPushBytes;
  }

  /** Serves one request under `/git/`; anything else there is a 404. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    this.serve(request, response).catch((error: unknown) => {
      const unreachable = isDatabaseUnreachable(error);
      if (unreachable) this.options.logger.warn({ reason: (error as Error).message }, "git over HTTP: the database cannot be reached");
      else this.options.logger.error({ err: error }, "git over HTTP failed");
      // 503 tells git clients and load balancers that this passes: the same request will work later.
      if (response.headersSent) response.destroy();
      else if (unreachable) answer(response, 503, `edgebot: ${databaseUnreachableMessage}`, { "retry-after": "60" });
      else answer(response, 500, "edgebot: something went wrong on our side; nothing was changed. Try again.");
    });
  };

  /** Stops the hook socket and removes its directory; pushes in flight are refused by their hooks. */
  async close(): Promise<void> {
    const hooks = await this.hooks?.catch(() => undefined);
    this.hooks = undefined;
    if (!hooks) return;
    await new Promise<void>((resolve) => hooks.server.close(() => resolve()));
    await rm(hooks.directory, { recursive: true, force: true });
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://edgebot.invalid");
    const match = requestPath.exec(url.pathname);
    if (!match) return answer(response, 404, "edgebot: not found. Clone from /git/<org>/<app>.git");
    const [, org, app, endpoint] = match as unknown as [string, string, string, string];
    const service = endpoint === "info/refs" ? url.searchParams.get("service") : endpoint;
    if (service === null || !services.has(service)) return answer(response, 404, "edgebot serves git's smart HTTP protocol only: use git 1.6.6 or newer");
    const method = endpoint === "info/refs" ? "GET" : "POST";
    if (request.method !== method) return answer(response, 405, `edgebot: ${endpoint} takes ${method}`, { allow: method });

    let client: GitClient | undefined;
    try {
      client = await this.authorize(request, org, app);
      if (client && service === "git-receive-pack") authorizePush(client.access);
      if (client) await requireRepository(this.options.platform, client.access.application);
    } catch (error) {
      if (error instanceof CoreError) return answer(response, statusOf(error), `edgebot: ${error.message}`);
      throw error;
    }
    if (!client) {
      return answer(response, 401, "edgebot: sign in with a personal access token as the password (any username). Make one with `token create`.", { "www-authenticate": realm });
    }
    const { actor, access } = client;

    const protocol = protocolHeader(request);
    if (service === "git-upload-pack") return this.runUploadPack(request, response, access, { advertise: endpoint === "info/refs", protocol });

    const env: Record<string, string> = {
      ...isolatedGitEnvironment(),
      GIT_PROJECT_ROOT: this.options.platform.repositories.root,
      PATH_INFO: `/${path.basename(this.options.platform.repositories.pathOf(access.application.id))}/${endpoint}`,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: actor.email,
      REMOTE_ADDR: request.socket.remoteAddress ?? "",
      REQUEST_METHOD: method,
      QUERY_STRING: endpoint === "info/refs" ? `service=${service}` : "",
      CONTENT_TYPE: headerValue(request.headers["content-type"]) ?? "",
      ...optional("CONTENT_LENGTH", headerValue(request.headers["content-length"]), /^\d{1,12}$/),
      // http-backend inflates a gzipped request body itself.
      ...optional("HTTP_CONTENT_ENCODING", headerValue(request.headers["content-encoding"]), /^(gzip|x-gzip|identity)$/i),
      // The protocol version is asked for in this header, which http-backend passes on to git.
      ...(protocol === undefined ? {} : { HTTP_GIT_PROTOCOL: protocol }),
    };
    if (endpoint === "info/refs") return this.runBackend(request, response, env);

    const hooks = await this.startHooks();
    const pushId = randomBytes(24).toString("base64url");
    this.pushes.set(pushId, { actor, access });
    try {
      await this.runBackend(request, response, {
        ...env,
        ...gitConfig({
          "core.hooksPath": hooks.directory,
          "receive.denyDeletes": "true",
          "receive.denyNonFastForwards": "true",
          "receive.maxInputSize": String(this.maxPushBytes),
          ...receiveFsck,
        }),
        EDGEBOT_HOOK_SOCKET: hooks.socket,
        EDGEBOT_PUSH_ID: pushId,
      });
    } finally {
      this.pushes.delete(pushId);
    }
  }

  /**
   * Who the request's token belongs to and their access to `org/app`. A git command makes its
   * requests one after another on one connection (three for a clone), so an answer found for a
   * connection is reused by its next requests with the same credentials for a few seconds: a
   * token revoked meanwhile stops working on new connections at once, and on one already open
   * within `connectionAuthorizationMs`.
   */
  private async authorize(request: IncomingMessage, org: string, app: string): Promise<GitClient | undefined> {
    const authorization = request.headers.authorization ?? "";
    const recent = this.connectionAuthorizations.get(request.socket);
    if (recent && recent.authorization === authorization && recent.org === org && recent.app === app && performance.now() < recent.until) return recent.client;
    const client = await authorizeGitClient(this.options.platform.db, { token: basicPassword(authorization) ?? "", org, app });
    if (client) this.connectionAuthorizations.set(request.socket, { authorization, org, app, client, until: performance.now() + connectionAuthorizationMs });
    return client;
  }

  /**
   * Serves a clone or fetch with `git upload-pack` run directly, as http-backend would run it
   * (same arguments, headers and pkt-lines). On the machines edgebot runs on, starting a process
   * costs 10–40 ms; http-backend would add one for each of a clone's three requests and make a
   * clone over HTTP twice as slow as a local one (see docs/BENCHMARKS.md). Of protocol v2's three
   * requests, the capability list and `ls-refs` are answered here without a process (see
   * ls-refs.ts); only the `fetch` that sends the pack runs git. Pushes still go through
   * http-backend, whose receive-pack runs edgebot's hooks.
   */
  private async runUploadPack(request: IncomingMessage, response: ServerResponse, access: RepositoryAccess, options: { advertise: boolean; protocol: string | undefined }): Promise<void> {
    const version2 = options.protocol !== undefined && /(^|:)version=2(:|$)/.test(options.protocol);
    if (options.advertise) {
      if (version2 && this.capabilities !== undefined) {
        response.writeHead(200, { "content-type": "application/x-git-upload-pack-advertisement", ...noCache }).end(this.capabilities);
        return;
      }
      return this.spawnUploadPack(response, access, { advertise: true, version2, protocol: options.protocol, input: undefined });
    }
    if (headerValue(request.headers["content-type"]) !== "application/x-git-upload-pack-request") {
      return answer(response, 415, "edgebot: expected application/x-git-upload-pack-request");
    }
    const encoding = headerValue(request.headers["content-encoding"])?.toLowerCase();
    if (encoding !== undefined && !["gzip", "x-gzip", "identity"].includes(encoding)) {
      return answer(response, 415, `edgebot: cannot read a request body in ${encoding.slice(0, 20)}`);
    }
    let body: Readable = request;
    if (encoding === "gzip" || encoding === "x-gzip") {
      const gunzip = createGunzip();
      gunzip.on("error", () => request.destroy());
      body = request.pipe(gunzip);
    }
    if (!version2) return this.spawnUploadPack(response, access, { advertise: false, version2, protocol: options.protocol, input: { read: Buffer.alloc(0), rest: body } });
    const start = await readUntil(body, holdsFirstPacket, maxLsRefsRequestBytes);
    if (requestCommand(start.read) !== "ls-refs") {
      return this.spawnUploadPack(response, access, { advertise: false, version2, protocol: options.protocol, input: { read: start.read, rest: start.ended ? undefined : body } });
    }
    const whole = start.ended ? start : await readUntil(body, () => false, maxLsRefsRequestBytes, start.read);
    const lsRefs = whole.ended ? parseLsRefsRequest(whole.read) : undefined;
    // Anything not understood (or too large to be an ls-refs) is git's to answer, as it came.
    if (lsRefs === undefined) return this.spawnUploadPack(response, access, { advertise: false, version2, protocol: options.protocol, input: { read: whole.read, rest: whole.ended ? undefined : body } });
    const refs = await this.options.platform.repositories.advertisedRefs(access.application.id);
    response.writeHead(200, { "content-type": "application/x-git-upload-pack-result", ...noCache }).end(lsRefsAnswer(lsRefs, refs));
  }

  /** Runs `git upload-pack` for one request: `input` is what was read of the body already, then the rest of it. */
  private spawnUploadPack(
    response: ServerResponse,
    access: RepositoryAccess,
    options: { advertise: boolean; version2: boolean; protocol: string | undefined; input: { read: Buffer; rest: Readable | undefined } | undefined },
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const uploadPack = spawn(gitProgram("git-upload-pack"), options.advertise ? ["--stateless-rpc", "--http-backend-info-refs", "."] : ["--stateless-rpc", "."], {
        cwd: this.options.platform.repositories.pathOf(access.application.id),
        env: { ...isolatedGitEnvironment(), ...(options.protocol === undefined ? {} : { GIT_PROTOCOL: options.protocol }) },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stderr = "";
      uploadPack.stderr.setEncoding("utf8");
      uploadPack.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
      uploadPack.stdin.on("error", () => undefined);
      response.on("close", () => {
        if (!response.writableFinished) uploadPack.kill();
      });
      response.writeHead(200, {
        "content-type": `application/x-git-upload-pack-${options.advertise ? "advertisement" : "result"}`,
        ...noCache,
      });
      if (options.input === undefined) {
        // Protocol v0 and v1 advertisements start with the service line; v2's capability list does not.
        if (!options.version2) response.write("001e# service=git-upload-pack\n0000");
        uploadPack.stdin.end();
      } else if (options.input.rest === undefined) {
        uploadPack.stdin.end(options.input.read);
      } else {
        uploadPack.stdin.write(options.input.read);
        options.input.rest.pipe(uploadPack.stdin);
      }
      const output: Buffer[] = [];
      const advertisesCapabilities = options.advertise && options.version2;
      if (advertisesCapabilities) uploadPack.stdout.on("data", (chunk: Buffer) => output.push(chunk));
      uploadPack.stdout.pipe(response);
      uploadPack.on("error", reject);
      uploadPack.on("close", (code) => {
        if (code !== 0 && code !== null) this.options.logger.warn({ code, stderr }, "git upload-pack failed");
        else if (advertisesCapabilities) this.capabilities = Buffer.concat(output);
        resolve();
      });
    });
  }

  /** Runs `git http-backend` for one request: the body streamed in, its CGI answer streamed out. */
  private runBackend(request: IncomingMessage, response: ServerResponse, env: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      const backend = spawn(gitProgram("git-http-backend"), [], { env, stdio: ["pipe", "pipe", "pipe"] });
      let stderr = "";
      backend.stderr.setEncoding("utf8");
      backend.stderr.on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
      backend.stdin.on("error", () => undefined); // git may answer before reading all of a refused body
      request.pipe(backend.stdin);
      // A client that goes away takes its git with it.
      response.on("close", () => {
        if (!response.writableFinished) backend.kill();
      });
      readCgiAnswer(backend.stdout, response).catch((error: unknown) => {
        backend.kill();
        reject(error);
      });
      backend.on("error", reject);
      backend.on("close", (code) => {
        if (code !== 0 && code !== null) this.options.logger.warn({ code, stderr }, "git http-backend failed");
        if (!response.headersSent) answer(response, 500, "edgebot: git could not serve this request; nothing was changed.");
        resolve();
      });
    });
  }

  /** The hook directory and the socket its hooks call back on: made once, on the first push. */
  private startHooks(): Promise<{ directory: string; socket: string; server: Server }> {
    this.hooks ??= (async () => {
      await removeHookDirectoriesOfEndedProcesses();
      // A private directory: only edgebot's user can reach the socket or change the hooks.
      const directory = await mkdtemp(path.join(tmpdir(), `${hookDirectoryPrefix}${process.pid}-`));
      await chmod(directory, 0o700);
      for (const hook of ["pre-receive", "post-receive"]) {
        const script = path.join(directory, hook);
        await writeFile(script, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(relayScript)} ${hook}\n`);
        await chmod(script, 0o700);
      }
      const socket = path.join(directory, "hooks.sock");
      const server = createServer((request, response) => {
        this.answerHook(request, response).catch((error: unknown) => {
          this.options.logger.error({ err: error, hook: request.url }, "git hook failed");
          // After post-receive the refs have moved: only the announcement is missing.
          const said =
            request.url === "/post-receive"
              ? "edgebot: the push went through, but it could not be announced."
              : isDatabaseUnreachable(error)
                ? `edgebot: ${databaseUnreachableMessage}`
                : "edgebot: could not check this push; nothing was changed. Try again.";
          hookAnswer(response, false, [said]);
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(socket, () => resolve());
      });
      return { directory, socket, server };
    })();
    return this.hooks;
  }

  /** One hook's call: pre-receive is answered with the verdict, post-receive records the push. */
  private async answerHook(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const call = parseHookCall(await readBody(request, 1_000_000));
    const push = call && this.pushes.get(call.pushId);
    if (!call || !push) return hookAnswer(response, false, ["edgebot: this push did not come through edgebot's server; nothing was changed."]);
    const { repositories } = this.options.platform;
    const applicationId = push.access.application.id;
    if (call.hook === "pre-receive") {
      const quarantine = call.quarantine;
      const refusals = await reviewPush(push.access, call.updates, (commit) => configurationProblems(repositories, applicationId, commit, quarantine === undefined ? {} : { quarantine }));
      if (refusals.length === 0) return hookAnswer(response, true, []);
      return hookAnswer(response, false, ["edgebot refused this push; nothing was changed:", ...refusals.map((refusal) => `  ${refusal}`)]);
    }
    const branches = [];
    for (const update of call.updates) {
      const branch = /^refs\/heads\/(.+)$/.exec(update.ref)?.[1];
      if (branch === undefined || /^0+$/.test(update.after)) continue;
      branches.push({ branch, before: update.before, after: update.after, ...(await repositories.commitsBetween(applicationId, update.before, update.after, announcedCommits)) });
    }
    await recordPush(this.options.platform, { actor: push.actor, access: push.access, branches });
    this.options.onPushed?.();
    hookAnswer(
      response,
      true,
      branches.map((pushed) => `edgebot: ${push.access.application.ref} ${pushed.branch} now at ${pushed.after.slice(0, 7)} (${pushed.count} new commit${pushed.count === 1 ? "" : "s"}); announced.`),
    );
  }
}

/**
 * Serves git over HTTP on a server of its own, for the local shell: a newcomer clones from
 * `http://<host>:<port>/git/<org>/<app>.git`. Resolves with the port it took.
 */
export async function serveGitHttp(git: GitHttp, listen: { port: number; host: string }): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (new URL(request.url ?? "/", "http://edgebot.invalid").pathname.startsWith(gitPathPrefix)) git.handle(request, response);
    else answer(response, 404, "edgebot: not found. Clone from /git/<org>/<app>.git");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : listen.port;
  return {
    server,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const hookDirectoryPrefix = "edgebot-hooks-";

/**
 * A process that crashed left its hook directory behind; `close` removes it otherwise. Each is
 * named after the process that made it, and one is removed only once that process has ended,
 * so edgebot processes sharing the machine leave each other's alone.
 */
async function removeHookDirectoriesOfEndedProcesses(): Promise<void> {
  const pattern = new RegExp(`^${hookDirectoryPrefix}(\\d+)-[A-Za-z0-9]{6}$`);
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !isRunning(pid)) {
      await rm(path.join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

let gitExecPath: string | undefined;

/**
 * One of git's programs, from git's exec path: `git http-backend` would start one more
 * process (the `git` wrapper) for every request.
 */
function gitProgram(name: "git-http-backend" | "git-upload-pack"): string {
  gitExecPath ??= execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim();
  return path.join(gitExecPath, name);
}

const noCache = { expires: "Fri, 01 Jan 1980 00:00:00 GMT", pragma: "no-cache", "cache-control": "no-cache, max-age=0, must-revalidate" };

/** The Git-Protocol header (protocol version), when it holds what git would accept. */
function protocolHeader(request: IncomingMessage): string | undefined {
  const value = headerValue(request.headers["git-protocol"]);
  return value !== undefined && /^[A-Za-z0-9=:._-]{1,100}$/.test(value) ? value : undefined;
}

/** Reads the CGI header block from http-backend's output, then streams the rest as the response body. */
function readCgiAnswer(output: NodeJS.ReadableStream, response: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = headerEnd(buffered);
      if (end === undefined) {
        if (buffered.length > 64 * 1024) {
          output.off("data", onData);
          reject(new Error("http-backend sent no end of its headers"));
        }
        return;
      }
      output.off("data", onData);
      output.pause();
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of buffered.subarray(0, end.at).toString("latin1").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === "status") status = Number.parseInt(value, 10) || 500;
        else headers[name] = value;
      }
      response.writeHead(status, headers);
      response.write(buffered.subarray(end.at + end.length));
      output.pipe(response);
      resolve();
    };
    output.on("data", onData);
    output.on("end", () => {
      if (!response.headersSent) reject(new Error("http-backend ended before its headers"));
    });
  });
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf !== -1) return { at: lf, length: 2 };
  return undefined;
}

/** The password of a Basic Authorization header; the username is ignored. */
function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,1000})$/i.exec(header?.trim() ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A CGI variable from a request header, only when the header holds what it may. */
function optional(name: string, value: string | undefined, shape: RegExp): Record<string, string> {
  return value !== undefined && shape.test(value) ? { [name]: value } : {};
}

/** Configuration for one git run, through the environment: never from the request. */
function gitConfig(settings: Record<string, string>): Record<string, string> {
  const entries = Object.entries(settings);
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return env;
}


function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A short answer git shows its user: text/plain bodies are printed as "remote: …" lines. */
function answer(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache", ...headers }).end(`${text}\n`);
}

function hookAnswer(response: ServerResponse, ok: boolean, messages: string[]): void {
  if (response.headersSent) return;
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok, messages }));
}

interface HookCall {
  pushId: string;
  hook: "pre-receive" | "post-receive";
  updates: RefUpdate[];
  quarantine: string | undefined;
}

function parseHookCall(body: string): HookCall | undefined {
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

/** An ls-refs request is a few short lines; a larger body is a fetch, or not for us to read. */
const maxLsRefsRequestBytes = 64 * 1024;

/**
 * Reads a request body until `enough(read)` says so, it ends, or `limit` bytes are read, and
 * leaves the stream paused there, so that the rest can still be piped on.
 */
function readUntil(body: Readable, enough: (read: Buffer) => boolean, limit: number, already: Buffer = Buffer.alloc(0)): Promise<{ read: Buffer; ended: boolean }> {
  if (body.readableEnded) return Promise.resolve({ read: already, ended: true });
  return new Promise((resolve, reject) => {
    let read = already;
    const finish = (ended: boolean) => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", reject);
      body.pause();
      resolve({ read, ended });
    };
    const onData = (chunk: Buffer) => {
      read = Buffer.concat([read, chunk]);
      if (enough(read) || read.length >= limit) finish(false);
    };
    const onEnd = () => finish(true);
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", reject);
    // A stream paused by an earlier read stays paused when a listener is added.
    body.resume();
  });
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
