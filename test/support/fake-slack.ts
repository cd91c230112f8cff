import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Arrivals } from "./arrivals.ts";

/** One Web API call the bot made, as the fake Slack received it. */
export interface RecordedCall {
  method: string;
  /** Form or JSON body, parsed into an object. */
  args: Record<string, unknown>;
  /** The bearer token it was made with. */
  token: string | undefined;
  at: number;
}

/** What the fake answers for one call: a JSON body and an HTTP status (200 by default). */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

type Responder = (call: RecordedCall) => FakeReply | undefined;

/** A workspace that installs the app through OAuth: `oauth.v2.access` with `code` grants `botToken`. */
export interface FakeWorkspace {
  teamId: string;
  /** The code Slack hands the installer's browser on its way back to the redirect URL. */
  code: string;
  botToken: string;
  botUserId: string;
  botId: string;
  /** Who clicked Allow. */
  installerUserId: string;
}

/**
 * A fake Slack Web API on loopback: records every call and answers `{ ok: true }`, or what a
 * test scripted for that method. Point the bot at it with SLACK_API_URL = `apiUrl`.
 * It also receives what the bot posts to response URLs (`responseUrl(id)`).
 */
export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  /** Bodies posted to response URLs, by the id in the URL. */
  readonly responses = new Map<string, Array<Record<string, unknown>>>();
  /** Posts to response URLs, taken or not, by the id in the URL. */
  readonly responseUrlAttempts = new Map<string, number>();
  private readonly responders = new Map<string, Responder[]>();
  private readonly users = new Map<string, { id: string; team_id: string; name: string; real_name: string; is_email_confirmed: boolean; profile: { email: string; display_name: string; real_name: string } }>();
  private server: Server | undefined;
  private port = 0;
  private readonly arrivals = new Arrivals("the fake Slack");
  private readonly delays = new Map<string, number>();
  private readonly workspaces: FakeWorkspace[] = [];
  private readonly responseUrlReplies = new Map<string, FakeReply[]>();

  /** Base URL for the Web API, with the trailing slash the Slack client expects. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** A response URL the bot can post to, as Slack puts in slash commands and interactions. */
  responseUrl(id: string): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /** Listens on 127.0.0.1, on `port` when given (a Slack that comes up where edgebot was already told to look). */
  async start(port = 0): Promise<this> {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      if (url.pathname.startsWith("/response/")) {
        const id = url.pathname.slice("/response/".length);
        const scripted = this.responseUrlReplies.get(id)?.shift();
        this.responseUrlAttempts.set(id, (this.responseUrlAttempts.get(id) ?? 0) + 1);
        // A scripted failure is not an answer the person sees.
        if (scripted === undefined) this.responses.set(id, [...(this.responses.get(id) ?? []), JSON.parse(body || "{}")]);
        response.writeHead(scripted?.status ?? 200, { "content-type": "application/json", ...(scripted?.headers ?? {}) }).end(JSON.stringify(scripted?.body ?? { ok: true }));
        this.arrivals.arrived();
        return;
      }
      const method = url.pathname.replace(/^\/api\//, "");
      const args = parseArgs(request.headers["content-type"], body);
      const authorization = request.headers.authorization;
      const token = authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : (args.token as string | undefined);
      const call: RecordedCall = { method, args, token, at: Date.now() };
      this.calls.push(call);
      const reply = this.reply(call);
      const delay = this.delays.get(method);
      if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
      response.writeHead(reply.status ?? 200, { "content-type": "application/json", ...(reply.headers ?? {}) }).end(JSON.stringify(reply.body ?? { ok: true }));
      this.arrivals.arrived();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A Slack user that users.info will describe; `emailConfirmed: false` as Slack marks an address its owner has not confirmed. */
  addUser(user: { id: string; teamId: string; email: string; name: string; emailConfirmed?: boolean }): void {
    this.users.set(user.id, {
      id: user.id,
      team_id: user.teamId,
      name: user.name,
      real_name: user.name,
      is_email_confirmed: user.emailConfirmed ?? true,
      profile: { email: user.email, display_name: user.name, real_name: user.name },
    });
  }

  /** A workspace whose installation `oauth.v2.access` grants, and whose bot token `auth.test` describes. */
  addWorkspace(workspace: FakeWorkspace): void {
    this.workspaces.push(workspace);
  }

  /** Answers the next call of `method` with `reply` (once per call to this, in order). */
  replyOnce(method: string, reply: FakeReply): void {
    let used = false;
    this.on(method, () => {
      if (used) return undefined;
      used = true;
      return reply;
    });
  }

  /** Answers the next post to response URL `id` with `reply` instead of taking it (once per call to this, in order). */
  replyOnceAtResponseUrl(id: string, reply: FakeReply): void {
    this.responseUrlReplies.set(id, [...(this.responseUrlReplies.get(id) ?? []), reply]);
  }

  /** Answers calls of `method` with whatever `responder` returns (undefined: the default). */
  on(method: string, responder: Responder): void {
    this.responders.set(method, [...(this.responders.get(method) ?? []), responder]);
  }

  /** Makes every call of `method` wait `ms` before its answer (a slow Slack). */
  delay(method: string, ms: number): void {
    this.delays.set(method, ms);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves once `condition` holds, checking after every call the fake receives. */
  waitFor<T>(condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    return this.arrivals.waitFor(condition, timeoutMs);
  }

  private reply(call: RecordedCall): FakeReply {
    for (const responder of this.responders.get(call.method) ?? []) {
      const reply = responder(call);
      if (reply) return reply;
    }
    if (call.method === "users.info") {
      const user = this.users.get(String(call.args.user));
      return { body: user ? { ok: true, user } : { ok: false, error: "user_not_found" } };
    }
    if (call.method === "oauth.v2.access") {
      const workspace = this.workspaces.find((candidate) => candidate.code === call.args.code);
      if (!workspace) return { body: { ok: false, error: "invalid_code" } };
      return {
        body: {
          ok: true,
          app_id: "A0EDGEBOT",
          authed_user: { id: workspace.installerUserId },
          scope: "commands,chat:write,channels:join,users:read,users:read.email",
          token_type: "bot",
          access_token: workspace.botToken,
          bot_user_id: workspace.botUserId,
          team: { id: workspace.teamId, name: `Workspace ${workspace.teamId}` },
          enterprise: null,
          is_enterprise_install: false,
        },
      };
    }
    if (call.method === "users.lookupByEmail") {
      const wanted = String(call.args.email).toLowerCase();
      // A workspace's own token finds only that workspace's people.
      const team = this.workspaces.find((workspace) => workspace.botToken === call.token)?.teamId;
      const user = [...this.users.values()].find((candidate) => candidate.profile.email.toLowerCase() === wanted && (team === undefined || candidate.team_id === team));
      return { body: user ? { ok: true, user } : { ok: false, error: "users_not_found" } };
    }
    if (call.method === "auth.test") {
      const workspace = this.workspaces.find((candidate) => candidate.botToken === call.token);
      if (workspace) return { body: { ok: true, team_id: workspace.teamId, user_id: workspace.botUserId, bot_id: workspace.botId } };
      return { body: { ok: true, team_id: "T0TEST", user_id: "UBOT", bot_id: "BBOT" } };
    }
    if (call.method === "chat.postMessage" || call.method === "chat.postEphemeral") {
      // A message to a user lands in the direct message channel with them, which has an id of its own.
      const channel = String(call.args.channel);
      return { body: { ok: true, channel: /^U/.test(channel) ? `D${channel.slice(1)}` : channel, ts: `${Math.floor(call.at / 1000)}.${String(this.calls.length).padStart(6, "0")}` } };
    }
    if (call.method === "views.open" || call.method === "views.publish" || call.method === "views.update") {
      return { body: { ok: true, view: { id: `V${this.calls.length}` } } };
    }
    return { body: { ok: true } };
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

function parseArgs(contentType: string | undefined, body: string): Record<string, unknown> {
  if (body === "") return {};
  if (contentType?.includes("application/json")) return JSON.parse(body) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    // The Web API client sends arrays and objects as JSON strings in form bodies.
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
