import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Logger } from "pino";
import { startGit } from "../core/git-processes.ts";
import type { Platform } from "../core/platform.ts";
import { answer, headerValue, noCache } from "./http-messages.ts";
import { holdsFirstPacket, lsRefsAnswer, parseLsRefsRequest, requestCommand } from "./ls-refs.ts";

/** What one clone or fetch request asks of upload-pack. */
export interface UploadPackRequest {
  /** The application whose repository is read. */
  applicationId: number;
  /** The ref advertisement (`GET info/refs`) rather than a command (`POST git-upload-pack`). */
  advertise: boolean;
  /** The Git-Protocol header, already checked (see `protocolHeader`). */
  protocol: string | undefined;
}

/**
 * Clones and fetches, served with `git upload-pack` run directly, as http-backend would run it
 * (same arguments, headers and pkt-lines). On the machines edgebot runs on, starting a process
 * costs 10–40 ms; http-backend would add one for each of a clone's three requests and make a
 * clone over HTTP twice as slow as a local one (see docs/BENCHMARKS.md). Of protocol v2's three
 * requests, the capability list and `ls-refs` are answered here without a process (see
 * ls-refs.ts); only the `fetch` that sends the pack runs git, its output streamed to the client.
 */
export class UploadPack {
  /**
   * upload-pack's protocol v2 capability list. It names no refs and depends only on git's version
   * and configuration, the same for every repository edgebot creates (sha1, no per-repository
   * settings), so it is asked of git once and then answered without starting a process.
   */
  private capabilities: Buffer | undefined;

  constructor(
    private readonly repositories: Platform["repositories"],
    private readonly logger: Logger,
  ) {}

  /** Serves one clone or fetch request of an authorized client. */
  async serve(request: IncomingMessage, response: ServerResponse, asked: UploadPackRequest): Promise<void> {
    const version2 = asked.protocol !== undefined && /(^|:)version=2(:|$)/.test(asked.protocol);
    const run = (input: GitInput | undefined) => this.run(response, { ...asked, version2, input });
    if (asked.advertise) {
      if (version2 && this.capabilities !== undefined) {
        response.writeHead(200, { "content-type": "application/x-git-upload-pack-advertisement", ...noCache }).end(this.capabilities);
        return;
      }
      return run(undefined);
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
    if (!version2) return run({ read: Buffer.alloc(0), rest: body });
    const start = await readUntil(body, holdsFirstPacket, maxLsRefsRequestBytes);
    if (requestCommand(start.read) !== "ls-refs") return run({ read: start.read, rest: start.ended ? undefined : body });
    const whole = start.ended ? start : await readUntil(body, () => false, maxLsRefsRequestBytes, start.read);
    const lsRefs = whole.ended ? parseLsRefsRequest(whole.read) : undefined;
    // Anything not understood (or too large to be an ls-refs) is git's to answer, as it came.
    if (lsRefs === undefined) return run({ read: whole.read, rest: whole.ended ? undefined : body });
    const refs = await this.repositories.advertisedRefs(asked.applicationId);
    response.writeHead(200, { "content-type": "application/x-git-upload-pack-result", ...noCache }).end(lsRefsAnswer(lsRefs, refs));
  }

  /** Runs `git upload-pack` for one request, its output streamed to the client as it comes. */
  private async run(response: ServerResponse, asked: UploadPackRequest & { version2: boolean; input: GitInput | undefined }): Promise<void> {
    const git = startGit(asked.advertise ? ["--stateless-rpc", "--http-backend-info-refs", "."] : ["--stateless-rpc", "."], {
      program: "git-upload-pack",
      cwd: this.repositories.pathOf(asked.applicationId),
      env: asked.protocol === undefined ? {} : { GIT_PROTOCOL: asked.protocol },
    });
    // A client that goes away takes its git with it.
    response.on("close", () => {
      if (!response.writableFinished) git.kill();
    });
    response.writeHead(200, {
      "content-type": `application/x-git-upload-pack-${asked.advertise ? "advertisement" : "result"}`,
      ...noCache,
    });
    if (asked.input === undefined) {
      // Protocol v0 and v1 advertisements start with the service line; v2's capability list does not.
      if (!asked.version2) response.write("001e# service=git-upload-pack\n0000");
      git.stdin.end();
    } else if (asked.input.rest === undefined) {
      git.stdin.end(asked.input.read);
    } else {
      git.stdin.write(asked.input.read);
      asked.input.rest.pipe(git.stdin);
    }
    const output: Buffer[] = [];
    const advertisesCapabilities = asked.advertise && asked.version2;
    if (advertisesCapabilities) git.stdout.on("data", (chunk: Buffer) => output.push(chunk));
    git.stdout.pipe(response);
    const { code, stderr } = await git.ended;
    if (code !== 0 && code !== null) this.logger.warn({ code, stderr }, "git upload-pack failed");
    else if (advertisesCapabilities) this.capabilities = Buffer.concat(output);
  }
}

/** A request body as it reaches git: what was read of it already, then the rest, unread (none when it has ended). */
interface GitInput {
  read: Buffer;
  rest: Readable | undefined;
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
