import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { startGit } from "../core/git-processes.ts";
import { answer, headerValue } from "./http-messages.ts";

/**
 * `git http-backend`, git's own CGI program for the smart HTTP protocol, run for one request:
 * the request body streamed into it, its answer (a CGI head, then the body) streamed back.
 * Pushes and their ref advertisement go through it, so that receive-pack runs edgebot's hooks.
 */

/** One request as http-backend is told it. Nothing the client sent reaches git unchecked. */
export interface BackendRequest {
  /** The directory of every repository (GIT_PROJECT_ROOT). */
  root: string;
  /** The repository's directory, inside `root`. */
  repository: string;
  /** What follows the repository in the path: `info/refs` or the service's name. */
  endpoint: "info/refs" | "git-upload-pack" | "git-receive-pack";
  /** The service asked for. */
  service: "git-upload-pack" | "git-receive-pack";
  /** Who makes the request (REMOTE_USER): git names them in the reflog. */
  user: string;
  /** The Git-Protocol header, already checked (see `protocolHeader`). */
  protocol: string | undefined;
  /** More of git's environment: configuration and what the hooks need (see receive-pack.ts). */
  env?: Record<string, string>;
}

/** Runs `git http-backend` for one request and streams its answer; resolves once git has ended. */
export async function runHttpBackend(request: IncomingMessage, response: ServerResponse, backend: BackendRequest, logger: Logger): Promise<void> {
  const method = backend.endpoint === "info/refs" ? "GET" : "POST";
  const git = startGit([], {
    program: "git-http-backend",
    env: {
      GIT_PROJECT_ROOT: backend.root,
      PATH_INFO: `/${path.basename(backend.repository)}/${backend.endpoint}`,
      GIT_HTTP_EXPORT_ALL: "1",
      REMOTE_USER: backend.user,
      REMOTE_ADDR: request.socket.remoteAddress ?? "",
      REQUEST_METHOD: method,
      QUERY_STRING: backend.endpoint === "info/refs" ? `service=${backend.service}` : "",
      CONTENT_TYPE: headerValue(request.headers["content-type"]) ?? "",
      ...optional("CONTENT_LENGTH", headerValue(request.headers["content-length"]), /^\d{1,12}$/),
      // http-backend inflates a gzipped request body itself.
      ...optional("HTTP_CONTENT_ENCODING", headerValue(request.headers["content-encoding"]), /^(gzip|x-gzip|identity)$/i),
      // The protocol version is asked for in this header, which http-backend passes on to git.
      ...(backend.protocol === undefined ? {} : { HTTP_GIT_PROTOCOL: backend.protocol }),
      ...backend.env,
    },
  });
  request.pipe(git.stdin);
  // A client that goes away takes its git with it.
  response.on("close", () => {
    if (!response.writableFinished) git.kill();
  });
  let unreadable: unknown;
  const answered = readCgiAnswer(git.stdout, response).catch((error: unknown) => {
    unreadable = error;
    git.kill();
  });
  const { code, stderr } = await git.ended;
  await answered;
  if (unreadable !== undefined) throw unreadable;
  if (code !== 0 && code !== null) logger.warn({ code, stderr }, "git http-backend failed");
  if (!response.headersSent) answer(response, 500, "edgebot: git could not serve this request; nothing was changed.");
}

/** A CGI variable from a request header, only when the header holds what it may. */
function optional(name: string, value: string | undefined, shape: RegExp): Record<string, string> {
  return value !== undefined && shape.test(value) ? { [name]: value } : {};
}

/** The most a CGI head may take before its blank line: more is not a CGI answer. */
const maxCgiHeadBytes = 64 * 1024;

/**
 * Reads the CGI head from a CGI program's output and writes it as the response's status and
 * headers, then streams the rest as the body. Resolves once the head is written; rejects when
 * the output ends before its head does, or the head is longer than `maxCgiHeadBytes`.
 */
export function readCgiAnswer(output: Readable, response: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = cgiHeadEnd(buffered);
      if (end === undefined) {
        if (buffered.length > maxCgiHeadBytes) {
          output.off("data", onData);
          reject(new Error("http-backend sent no end of its headers"));
        }
        return;
      }
      output.off("data", onData);
      output.pause();
      const head = parseCgiHead(buffered.subarray(0, end.at).toString("latin1"));
      response.writeHead(head.status, head.headers);
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

/** A CGI answer's status and headers (names in lower case). */
export interface CgiHead {
  status: number;
  headers: Record<string, string>;
}

/**
 * Reads a CGI head: `Status: 404 Not Found` gives the status (500 when it holds no number, 200
 * when there is none); every other `Name: value` line is a header; a line without a name is skipped.
 */
export function parseCgiHead(text: string): CgiHead {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "status") status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}

/** Where the blank line that ends a CGI head is (CRLF or LF lines), or undefined while it has not come. */
function cgiHeadEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf("\r\n\r\n");
  const lf = buffer.indexOf("\n\n");
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf !== -1) return { at: lf, length: 2 };
  return undefined;
}
