import type { IncomingMessage, ServerResponse } from "node:http";

/** Headers that keep proxies and clients from caching what git serves (as http-backend sends them). */
export const noCache = { expires: "Fri, 01 Jan 1980 00:00:00 GMT", pragma: "no-cache", "cache-control": "no-cache, max-age=0, must-revalidate" };

/** A short answer git shows its user: text/plain bodies are printed as "remote: …" lines. */
export function answer(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache", ...headers }).end(`${text}\n`);
}

/** A request header's value; the first when it came more than once. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The Git-Protocol header (protocol version), when it holds what git would accept. */
export function protocolHeader(request: IncomingMessage): string | undefined {
  const value = headerValue(request.headers["git-protocol"]);
  return value !== undefined && /^[A-Za-z0-9=:._-]{1,100}$/.test(value) ? value : undefined;
}
