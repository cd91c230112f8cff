import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type CustomRoute, type Logger as BoltLogger } from "@slack/bolt";
import type { Logger } from "pino";
import { ConfigError, slackMode, type Config } from "../../config.ts";
import type { Platform } from "../../core/platform.ts";
import { migrationsPending } from "../../core/health.ts";
import { currentRequest, newRequestId, withRequestId } from "../../core/request-ids.ts";
import { actingMiddleware } from "./acting.ts";
import type { BotIdentity } from "./credentials.ts";
import { SlackIdentities } from "./identities.ts";
import { SlackInstallations } from "./installations.ts";
import { registerListeners } from "./listeners/index.ts";
import { defaultEditWaitMs } from "./listeners/views/configs.ts";
import { slackEventsPath, slackInstallPath, slackOAuthRedirectPath } from "./paths.ts";
import { botScopes } from "./scopes.ts";
import { SlackSpeaker, type SlackBot } from "./speaker.ts";
import { resultWithin } from "./within.ts";
import { TokenCipher } from "./token-cipher.ts";
import { slackAckSeconds, slackAnswerSeconds, slackRequests } from "../../metrics.ts";

export { slackEventsPath, slackInstallPath, slackOAuthRedirectPath } from "./paths.ts";


/** The running Slack surface. */
export interface SlackApp {
  app: App;
  mode: "http" | "socket" | "oauth";
  /** Multi-workspace mode: the installations, whose bot tokens the outbox posts with. */
  installations: SlackInstallations | undefined;
  /** Starts listening; resolves with the port the HTTP server took. */
  start(listen?: { port?: number; host?: string }): Promise<{ port: number }>;
  /**
   * Stops taking requests, then waits for the work of those already taken (a command is
   * acknowledged at once and answered later) for up to `drainMs` (default: no limit). Resolves
   * with how many were still unfinished when the wait ended; their connections are closed.
   */
  stop(options?: { drainMs?: number }): Promise<{ unfinished: number }>;
}

/** More of the HTTP server, given by whoever composes edgebot (git over HTTP): every request under `pathPrefix`. */
export interface HttpRoute {
  /** Like `/git/`: the route takes every path that starts with it (with `exact`, only this path, like `/metrics`). */
  pathPrefix: string;
  exact?: boolean;
  /** The methods it answers, like `["GET", "POST"]`; it checks paths and anything else itself. */
  methods: string[];
  handle(request: IncomingMessage, response: ServerResponse): void;
}

export interface SlackAppOptions {
  platform: Platform;
  config: Pick<Config, "port" | "slashCommand" | "slack">;
  logger: Logger;
  /** Retries of a failed call to Slack (default 2, within about a second: someone is waiting). */
  clientRetries?: number;
  /** More routes on the same HTTP server (in every mode), beside `/healthz` and `/readyz`. */
  httpRoutes?: HttpRoute[];
  /** The bot token's identity, already asked of Slack (`checkSlackCredentials`); Bolt asks for it itself when absent. */
  botIdentity?: BotIdentity;
  /** How long a config editor's submission waits for its commit before answering that it goes on (default `defaultEditWaitMs`; tests shorten it). */
  editWaitMs?: number;
}

/**
 * The Bolt App. One workspace: HTTP mode with the signing secret and bot token, Socket Mode
 * when an app token is also set. Many workspaces ("oauth"): HTTP mode where each workspace
 * installs edgebot through `/slack/install` and each request is answered with its own
 * workspace's bot token, from the installations kept in Postgres. `GET /healthz` answers on
 * the HTTP server in every mode, and so do the `httpRoutes` given.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { platform, config, logger } = options;
  const { signingSecret, botToken, appToken, clientId, clientSecret, stateSecret, tokenKeys, apiUrl } = config.slack;
  const mode = slackMode(config.slack);
  if (mode === "shell" || !signingSecret) throw new Error("the Slack app needs SLACK_SIGNING_SECRET with SLACK_BOT_TOKEN, or with SLACK_CLIENT_ID");
  const boltLogger = asBoltLogger(logger.child({ component: "bolt" }), [signingSecret, botToken, appToken, clientSecret, stateSecret]);
  // Bolt's own clients (authorizing a request, the OAuth code exchange, opening the socket) are
  // the only ones that do not go through the speaker; they try for about as long as it does.
  const clientOptions = {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    // The client's own default retries for about 30 minutes; a person waits on these calls.
    retryConfig: { retries: options.clientRetries ?? 2, minTimeout: 250, maxTimeout: 1000 },
  };
  const knownIdentity = options.botIdentity ? { botId: options.botIdentity.botId, botUserId: options.botIdentity.botUserId } : {};
  // No conversation store: nothing reads Bolt's context.conversation, and its default store, in
  // memory, would differ between processes. It cost each request a failed lookup (an Error made).
  const convoStore = false;
  const healthz = healthRoute();
  const routes = [healthz, readyRoute(platform, logger), ...(options.httpRoutes ?? []).map(customRoute)];

  let receiver: HTTPReceiver | undefined;
  let socketReceiver: SocketModeReceiver | undefined;
  let healthServer: Server | undefined;
  let httpServer: Server | undefined;
  let installations: SlackInstallations | undefined;
  let app: App;
  if (mode === "oauth") {
    if (!clientId || !clientSecret || !stateSecret || !tokenKeys) throw new Error("multi-workspace Slack needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET and SLACK_TOKEN_KEYS");
    installations = new SlackInstallations(platform.db, new TokenCipher(tokenKeys));
    receiver = new HTTPReceiver({
      signingSecret,
      endpoints: slackEventsPath,
      port: config.port,
      customRoutes: routes,
      logger: boltLogger,
      clientId,
      clientSecret,
      stateSecret,
      installationStore: installations,
      scopes: botScopes,
      installerOptions: {
        installPath: slackInstallPath,
        redirectUriPath: slackOAuthRedirectPath,
        // Straight to Slack's consent page: edgebot has no landing page of its own.
        directInstall: true,
        // The code exchange (oauth.v2.access) and its auth.test go to SLACK_API_URL like every other call.
        clientOptions,
      },
    });
    // No token: Bolt authorizes each request from the installation store.
    app = new App({ receiver, clientOptions, convoStore, logger: boltLogger });
  } else if (mode === "socket") {
    // Socket Mode: Slack delivers over a WebSocket. Its client opens it with apps.connections.open, made with the
    // options in installerOptions (SLACK_API_URL, short retries). /healthz gets a server of its own (see start()).
    socketReceiver = new SocketModeReceiver({ appToken: appToken!, logger: boltLogger, installerOptions: { clientOptions } });
    app = new App({ token: botToken, ...knownIdentity, receiver: socketReceiver, clientOptions, convoStore, logger: boltLogger });
  } else {
    receiver = new HTTPReceiver({ signingSecret, endpoints: slackEventsPath, port: config.port, customRoutes: routes, logger: boltLogger });
    app = new App({ token: botToken, ...knownIdentity, receiver, clientOptions, convoStore, logger: boltLogger });
  }
  app.error(async (error) => logger.error({ err: error }, "Slack listener failed"));
  // First of all middleware: every request's work, from its acknowledgement to its answer, is counted, so a stop can wait for it.
  const inProgress = new Set<Promise<unknown>>();
  app.use(async ({ next, body }) => {
    // Each request gets its id here, and keeps it through everything it leads to (core/request-ids.ts).
    const work = withRequestId(newRequestId(), () => handledAndLogged(next, body, logger));
    inProgress.add(work);
    try {
      await work;
    } finally {
      inProgress.delete(work);
    }
  });
  // Every word to Slack goes through the speaker, with its own tries: Bolt's clients only serve Bolt itself.
  const speaker = new SlackSpeaker({ apiUrl, policy: { retries: options.clientRetries ?? 2 } });
  const identities = new SlackIdentities(platform, installations ? { otherWorkspaces: otherWorkspaces(installations, speaker) } : {});
  // Second: who is acting, for every listener.
  app.use(actingMiddleware({ platform, identities, speaker, logger }));
  registerListeners(app, { platform, slashCommand: config.slashCommand, speaker, installations, logger, editWaitMs: options.editWaitMs ?? defaultEditWaitMs });

  const stopReceiving = async (): Promise<void> => {
    if (!socketReceiver) {
      await app.stop();
      return;
    }
    // Bolt's stop() only asks the socket to close; waiting for the close handshake leaves nothing running.
    const disconnected = new Promise((resolve) => socketReceiver.client.once("disconnected", resolve));
    await app.stop();
    await disconnected;
    await closeServer(healthServer);
  };

  return {
    app,
    mode,
    installations,
    async start(listen = {}) {
      const port = listen.port ?? config.port;
      if (!receiver) {
        // Bolt's socket receiver would serve /healthz on a port it neither reports nor binds to a host, nor closes before stop() returns.
        healthServer = await listenForHealth(routes, options.httpRoutes ?? [], port, listen.host).catch((error: unknown) => {
          throw portRefused(error, port);
        });
        await app.start().catch(async (error: unknown) => {
          await closeServer(healthServer);
          throw error;
        });
        return { port: (healthServer.address() as AddressInfo).port };
      }
      httpServer = (await app.start(listen.host === undefined ? port : { port, host: listen.host }).catch((error: unknown) => {
        throw portRefused(error, port);
      })) as Server;
      timeAcknowledgements(httpServer);
      return { port: (httpServer.address() as AddressInfo).port };
    },
    async stop({ drainMs } = {}) {
      // Not taking requests: the HTTP server closes its listening socket at once and its idle
      // connections; the socket closes once Slack has seen it go. Requests in flight go on.
      const stopped = stopReceiving();
      const drained = async () => {
        await stopped;
        // Requests read before the server closed may still be starting their work: wait until none is left.
        while (inProgress.size > 0) await Promise.allSettled([...inProgress]);
      };
      await settledWithin(drained(), drainMs);
      const unfinished = inProgress.size;
      // Past the deadline: whatever is still open (a slow clone, a hung answer) is cut.
      httpServer?.closeAllConnections();
      healthServer?.closeAllConnections();
      await stopped;
      return { unfinished };
    },
  };
}

/** Every other workspace edgebot is installed in, with its own bot (at most 50 are searched). */
function otherWorkspaces(installations: SlackInstallations, speaker: SlackSpeaker) {
  return async (except: string): Promise<Array<{ teamId: string; bot: SlackBot }>> => {
    const teams = (await installations.installedTeams(50)).filter((teamId) => teamId !== except);
    const found = await Promise.all(teams.map(async (teamId) => ({ teamId, token: await installations.botTokenFor(teamId) })));
    return found.flatMap(({ teamId, token }) => (token === undefined ? [] : [{ teamId, bot: speaker.bot(token) }]));
  };
}

/**
 * `GET /healthz`: the process is alive, its event loop answering: 200 whatever the database's
 * state, so that an orchestrator restarts only a process that is stuck, never one that waits out
 * a database outage (which restarting would not end). Readiness is `/readyz`'s.
 */
function healthRoute(): CustomRoute {
  return { path: "/healthz", method: ["GET"], handler: (_request, response) => reply(response, 200, { ok: true }) };
}

/**
 * `GET /readyz`: whether to send this process traffic. 200 when the database answers within a
 * second and has run every migration this code knows; 503 with the reason otherwise. The Slack
 * token needs no check here: edgebot listens only once Slack has accepted it
 * (`checkSlackCredentials`), so a process that answers at all has had its token checked.
 */
function readyRoute(platform: Platform, logger: Logger): CustomRoute {
  return {
    path: "/readyz",
    method: ["GET"],
    handler: (_request, response) => {
      void migrationsPending(platform, 1000).then(
        (pending) => (pending.length === 0 ? reply(response, 200, { ok: true }) : reply(response, 503, { ok: false, error: `migrations not run: ${pending.join(", ")}` })),
        (error: unknown) => {
          logger.warn({ err: error }, "readiness check: the database does not answer");
          reply(response, 503, { ok: false, error: "database unavailable" });
        },
      );
    },
  };
}

/**
 * Runs a request's listeners, then writes its one access log line: what kind of request, the
 * command or action it was (by name: never arguments, which may hold secrets), how it came out,
 * and how long it took from its arrival to its answer.
 */
async function handledAndLogged(next: () => Promise<void>, body: unknown, logger: Logger): Promise<void> {
  const started = performance.now();
  try {
    await next();
  } finally {
    const ms = performance.now() - started;
    const record = currentRequest();
    const request = requestName(body);
    const name = record?.command ?? request.name;
    const outcome = record?.outcome ?? "ok";
    logger.info({ kind: request.kind, name, outcome, ms: Math.round(ms) }, "request");
    // A button's action id may carry ids (`home_golive:12`): the metric counts the action, not each id.
    slackRequests.inc({ kind: request.kind, name: name?.replace(/:.*$/, "") ?? "", outcome });
    slackAnswerSeconds.observe({ kind: request.kind }, ms / 1000);
  }
}

/** Times each Slack request's acknowledgement: the HTTP answer to a request on the events path. */
function timeAcknowledgements(server: Server): void {
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (!request.url?.startsWith(slackEventsPath)) return;
    const started = performance.now();
    response.once("finish", () => slackAckSeconds.observe((performance.now() - started) / 1000));
  });
}

/** What kind of request Slack sent, and its name: the slash command, the button's action, the form, the event. */
function requestName(body: unknown): { kind: string; name: string | undefined } {
  const sent = body as { command?: string; type?: string; actions?: Array<{ action_id?: string }>; action_id?: string; view?: { callback_id?: string }; event?: { type?: string } };
  if (typeof sent.command === "string") return { kind: "command", name: sent.command };
  switch (sent.type) {
    case "block_actions":
      return { kind: "action", name: sent.actions?.[0]?.action_id };
    case "block_suggestion":
      return { kind: "options", name: sent.action_id };
    case "view_submission":
    case "view_closed":
      return { kind: "view", name: sent.view?.callback_id };
    case "event_callback":
      return { kind: "event", name: sent.event?.type };
    default:
      return { kind: sent.type ?? "other", name: undefined };
  }
}

/** A route the composer gives, as Bolt's HTTP receiver takes it: every path under its prefix. */
function customRoute(route: HttpRoute): CustomRoute {
  return { path: route.exact ? route.pathPrefix : `${route.pathPrefix.replace(/\/*$/, "/")}*path`, method: route.methods, handler: route.handle };
}

/** Socket Mode's HTTP server: `GET /healthz`, `GET /readyz` and the composer's routes, nothing else. */
async function listenForHealth(routes: CustomRoute[], extra: HttpRoute[], port: number, host: string | undefined): Promise<Server> {
  const [healthz, readyz] = routes;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    if (path === healthz!.path && request.method === "GET") healthz!.handler(request, response);
    else if (path === readyz!.path && request.method === "GET") readyz!.handler(request, response);
    else {
      // The route checks methods itself, as it does behind Bolt's receiver for any it does not serve.
      const route = extra.find((candidate) => (candidate.exact ? path === candidate.pathPrefix : path.startsWith(candidate.pathPrefix)));
      if (route) route.handle(request, response);
      else reply(response, 404, { ok: false, error: "not found" });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

/** Waits until `work` has settled, or for `limitMs` when given, whichever comes first. */
async function settledWithin(work: Promise<unknown>, limitMs: number | undefined): Promise<void> {
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  if (limitMs === undefined) return settled;
  await resultWithin(settled, limitMs);
}

/** A port the system will not give: a setting to change, said in one line. */
function portRefused(error: unknown, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new ConfigError(`PORT: ${port} is already in use; stop what holds it or set another PORT`);
  if (code === "EACCES") return new ConfigError(`PORT: ${port} needs privileges this process does not have; set a PORT above 1023`);
  return error;
}

function closeServer(server: Server | undefined): Promise<void> {
  return new Promise((resolve, reject) => (server?.listening ? server.close((error) => (error ? reject(error) : resolve())) : resolve()));
}

function reply(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

const pinoLevels: Record<LogLevel, string> = { [LogLevel.DEBUG]: "debug", [LogLevel.INFO]: "info", [LogLevel.WARN]: "warn", [LogLevel.ERROR]: "error" };

/** Bolt's logger interface on pino; Bolt logs strings, so the secrets and tokens are cut out of them here. */
function asBoltLogger(logger: Logger, secrets: Array<string | undefined>): BoltLogger {
  const known = secrets.filter((secret): secret is string => secret !== undefined && secret.length >= 8);
  const scrub = (parts: unknown[]) => {
    let text = parts.map((part) => (part instanceof Error ? part.message : typeof part === "string" ? part : JSON.stringify(part))).join(" ");
    for (const secret of known) text = text.split(secret).join("[redacted]");
    // Each workspace's bot token is not known here in advance: anything shaped like a Slack token goes too.
    return text.replace(/\bxox[a-z]-[A-Za-z0-9-]+/g, "[redacted]");
  };
  return {
    debug: (...parts: unknown[]) => logger.debug(scrub(parts)),
    info: (...parts: unknown[]) => logger.info(scrub(parts)),
    warn: (...parts: unknown[]) => logger.warn(scrub(parts)),
    error: (...parts: unknown[]) => logger.error(scrub(parts)),
    // edgebot's LOG_LEVEL decides; Bolt's own level requests are ignored.
    setLevel: () => undefined,
    getLevel: () => (Object.entries(pinoLevels).find(([, level]) => level === logger.level)?.[0] as LogLevel | undefined) ?? LogLevel.WARN,
    setName: () => undefined,
  };
}
