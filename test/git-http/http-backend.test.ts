import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCgiHead, readCgiAnswer, runHttpBackend, type BackendRequest } from "../../src/git-http/http-backend.ts";

/** A loopback server whose every request is served by `serve`; `fetch` asks it. */
async function serveWith(serve: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      response.writeHead(599, { "content-type": "text/plain" }).end(`rejected: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("git http-backend as a CGI child", () => {
  let root: string;
  let served: { server: Server; url: string };
  let backend: Omit<BackendRequest, "endpoint">;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "edgebot-http-backend-"));
    await promisify(execFile)("git", ["init", "--quiet", "--bare", path.join(root, "1.git")]);
    backend = { root, repository: path.join(root, "1.git"), service: "git-receive-pack", user: "ana@example.com", protocol: undefined };
    served = await serveWith(async (request, response) => {
      const asked = JSON.parse(request.headers["x-backend"] as string) as Partial<BackendRequest>;
      await runHttpBackend(request, response, { ...backend, endpoint: "info/refs", ...asked }, pino({ level: "silent" }));
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => served?.server.close(resolve));
    if (root) await rm(root, { recursive: true, force: true });
  });

  const ask = (asked: Partial<BackendRequest>) => fetch(`${served.url}/`, { headers: { "x-backend": JSON.stringify(asked) } });

  it("streams git's answer with the status and headers its CGI head gives", async () => {
    const advertised = await ask({});
    expect(advertised.status).toBe(200);
    expect(advertised.headers.get("content-type")).toBe("application/x-git-receive-pack-advertisement");
    expect(advertised.headers.get("cache-control")).toBe("no-cache, max-age=0, must-revalidate");
    expect(await advertised.text()).toMatch(/^001f# service=git-receive-pack\n0000/);
  });

  it("passes git's own refusals on: a repository that is not there, a push by nobody", async () => {
    const missing = await ask({ repository: path.join(root, "2.git") });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("expires")).toBe("Fri, 01 Jan 1980 00:00:00 GMT");
    const anonymous = await ask({ user: "" });
    expect(anonymous.status).toBe(403);
  });
});

describe("reading a CGI answer", () => {
  let served: { server: Server; url: string };
  let output: Buffer[] = [];

  beforeAll(async () => {
    served = await serveWith((_request, response) => readCgiAnswer(Readable.from(output), response));
  });
  afterAll(() => new Promise((resolve) => served?.server.close(resolve)));

  const answerTo = async (chunks: Array<string | Buffer>) => {
    output = chunks.map((chunk) => Buffer.from(chunk));
    const response = await fetch(served.url);
    return { status: response.status, headers: response.headers, body: await response.text() };
  };

  it("takes the head from chunks as they come, CRLF or LF, and the rest as the body unchanged", async () => {
    const crlf = await answerTo(["Status: 201 Cre", "ated\r\nContent-Type: text/plain\r", "\n\r\nfirst\n\nsecond\r\n\r\n", "third"]);
    expect(crlf).toMatchObject({ status: 201, body: "first\n\nsecond\r\n\r\nthird" });
    expect(crlf.headers.get("content-type")).toBe("text/plain");
    const lf = await answerTo(["X-Git: yes\n\nbody"]);
    expect(lf).toMatchObject({ status: 200, body: "body" });
    expect(lf.headers.get("x-git")).toBe("yes");
  });

  it("refuses an answer that ends before its head does, or whose head never ends, sending nothing of it", async () => {
    expect(await answerTo(["Status: 200 OK\r\nContent-Type: text/plain\r\n"])).toMatchObject({ status: 599, body: "rejected: http-backend ended before its headers" });
    expect(await answerTo([])).toMatchObject({ status: 599, body: "rejected: http-backend ended before its headers" });
    const endless = Array.from({ length: 20 }, () => `X-Filler: ${"x".repeat(4096)}\r\n`);
    expect(await answerTo(endless)).toMatchObject({ status: 599, body: "rejected: http-backend sent no end of its headers" });
  });

  it("reads a head's status and headers, and makes the best of lines that are not headers", () => {
    expect(parseCgiHead("Status: 404 Not Found\r\nExpires: never\r\nCONTENT-TYPE:  text/plain ")).toEqual({ status: 404, headers: { expires: "never", "content-type": "text/plain" } });
    expect(parseCgiHead("Content-Type: text/plain")).toEqual({ status: 200, headers: { "content-type": "text/plain" } });
    expect(parseCgiHead("Status: soon\nno colon here\n: no name\nX-Ok: 1")).toEqual({ status: 500, headers: { "x-ok": "1" } });
    expect(parseCgiHead("")).toEqual({ status: 200, headers: {} });
  });
});
