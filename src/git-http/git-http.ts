import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { requireRepository } from "../core/access.ts";
import { CoreError } from "../core/errors.ts";
import { databaseUnreachableMessage, isDatabaseUnreachable } from "../core/outages.ts";
import { newRequestId, failureAnswer, withRequestId } from "../core/request-ids.ts";
import type { Platform } from "../core/platform.ts";
import { authorizeGitClient, authorizePush } from "../core/pushes.ts";
import { answer, protocolHeader } from "./http-messages.ts";
import { ReceivePack } from "./receive-pack.ts";
import { UploadPack } from "./upload-pack.ts";
import { gitHttpRequests } from "../metrics.ts";

const realm = 'Basic realm="edgebot"';
// Only git's smart protocol is served: its two services and their ref advertisement.
const requestPath = /^\/git\/([a-z0-9][a-z0-9-]{0,38})\/([a-z0-9][a-z0-9-]{0,38})\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;
const services = new Set(["git-upload-pack", "git-receive-pack"]);

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
 * Git's smart HTTP protocol for real git clients, as a plain Node request handler mounted on
 * edgebot's HTTP server (Slack HTTP mode) or on a server of its own (the shell; see
 * standalone-server.ts).
 *
 * Every request is routed and authenticated here (Basic auth, a personal access token as the
 * password) and authorized from the token owner's role in the application's org; git then
 * serves it, the request body streamed in and git's output streamed back: clones and fetches by
 * upload-pack.ts, pushes by receive-pack.ts. Nothing the client sends reaches git as an
 * argument: the repository comes from the application's id and the service is one of two names.
 */
export class GitHttp {
  /** The last authorization found on each open connection (see `authorize`). */
  private readonly connectionAuthorizations = new WeakMap<Socket, { authorization: string; org: string; app: string; client: GitClient; until: number }>();
  private readonly uploadPack: UploadPack;
  private readonly receivePack: ReceivePack;

  constructor(private readonly options: GitHttpOptions) {
    this.uploadPack = new UploadPack(options.platform.repositories, options.logger);
    this.receivePack = new ReceivePack({
      platform: options.platform,
      logger: options.logger,
      maxPushBytes: options.maxPushBytes ?? defaultMaxPushBytes,
      ...(options.onPushed ? { onPushed: options.onPushed } : {}),
    });
  }

  /** Serves one request under `/git/`, as a request of its own id (core/request-ids.ts); anything else there is a 404. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    response.once("finish", () => gitHttpRequests.inc({ service: serviceOf(request.url), status: String(response.statusCode) }));
    void withRequestId(newRequestId(), () => this.serve(request, response).catch((error: unknown) => {
      const unreachable = isDatabaseUnreachable(error);
      if (unreachable) this.options.logger.warn({ reason: (error as Error).message }, "git over HTTP: the database cannot be reached");
      else this.options.logger.error({ err: error }, "git over HTTP failed");
      // 503 tells git clients and load balancers that this passes: the same request will work later.
      if (response.headersSent) response.destroy();
      else if (unreachable) answer(response, 503, `edgebot: ${databaseUnreachableMessage}`, { "retry-after": "60" });
      else answer(response, 500, `edgebot: ${failureAnswer("something went wrong on our side; nothing was changed. Try again.")}`);
    }));
  };

  /** Stops the push hooks' socket and removes its directory; pushes in flight are refused by their hooks. */
  close(): Promise<void> {
    return this.receivePack.close();
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

    const asked = { advertise: endpoint === "info/refs", protocol: protocolHeader(request) };
    if (service === "git-upload-pack") return this.uploadPack.serve(request, response, { applicationId: client.access.application.id, ...asked });
    return this.receivePack.serve(request, response, client, asked);
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
}

/** The password of a Basic Authorization header; the username is ignored. */
function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]{1,1000})$/i.exec(header?.trim() ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** The git service a request is for, for the metrics: `upload-pack` (clone, fetch), `receive-pack` (push), or `other`. */
function serviceOf(url: string | undefined): string {
  const found = /git-(upload|receive)-pack/.exec(url ?? "");
  return found ? `${found[1]}-pack` : "other";
}
