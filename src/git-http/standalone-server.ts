import { createServer, type Server } from "node:http";
import { gitPathPrefix } from "../core/clone-urls.ts";
import type { GitHttp } from "./git-http.ts";
import { answer } from "./http-messages.ts";

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
