import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { FakeSlack } from "./fake-slack.ts";
import { Arrivals } from "./arrivals.ts";

/** The app-level token (`xapp-…`) tests give the Socket Mode client. */
export const testAppToken = "xapp-1-A0EDGEBOT-0000000000-test-app-token";

/** The kinds of envelope Slack delivers over a Socket Mode connection. */
export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

/** What the client sent back for one envelope: Socket Mode's acknowledgement. */
export interface SocketAck {
  envelope_id: string;
  /** A response payload, when the app answered in the ack itself (empty for a plain ack). */
  payload?: Record<string, unknown>;
  /** When the fake received it, in ms since the epoch. */
  at: number;
}

/** One envelope the fake pushed, and when. */
export interface SentEnvelope {
  envelopeId: string;
  type: EnvelopeType;
  at: number;
}

/**
 * A fake Slack Socket Mode endpoint on loopback. It scripts `apps.connections.open` on a
 * FakeSlack to answer with this server's `ws://` URL, greets every connection with `hello` as
 * Slack does, pushes envelopes, and records the acks the client sends back.
 */
export class FakeSocketMode {
  readonly acks: SocketAck[] = [];
  readonly sent: SentEnvelope[] = [];
  /** The close code of every connection that ended: 1000 is a client's clean close, 1006 a dropped one. */
  readonly closeCodes: number[] = [];
  /** Every connection the client opened, in order (a reconnect adds one). */
  readonly connections: WebSocket[] = [];
  private server: WebSocketServer | undefined;
  private port = 0;
  private readonly arrivals = new Arrivals("the fake Socket Mode server");

  constructor(private readonly slack: FakeSlack) {}

  /** The URL apps.connections.open hands out, as Slack hands out `wss://wss-primary.slack.com/link/?ticket=…`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/link`;
  }

  /** Listens on loopback and answers apps.connections.open (an answer a test scripted on the FakeSlack before this comes first). */
  async start(): Promise<this> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/link" });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    this.port = (server.address() as AddressInfo).port;
    server.on("connection", (socket) => {
      this.connections.push(socket);
      socket.on("message", (data) => {
        const ack = JSON.parse(data.toString()) as Omit<SocketAck, "at">;
        this.acks.push({ ...ack, at: Date.now() });
        this.arrivals.arrived();
      });
      socket.on("close", (code) => {
        this.closeCodes.push(code);
        this.arrivals.arrived();
      });
      socket.on("error", () => undefined);
      socket.send(JSON.stringify({ type: "hello", num_connections: this.connections.length, debug_info: { host: "applink-fake", approximate_connection_time: 18060 }, connection_info: { app_id: "A0EDGEBOT" } }));
      this.arrivals.arrived();
    });
    this.slack.on("apps.connections.open", () => ({ body: { ok: true, url: this.url } }));
    return this;
  }

  /** Drops every connection still open and stops listening. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The connection envelopes go to: the newest one still open. */
  get openConnection(): WebSocket | undefined {
    return [...this.connections].reverse().find((socket) => socket.readyState === socket.OPEN);
  }

  /**
   * Pushes an envelope to the client as Slack does, and returns its envelope id.
   * Slash commands and interactions accept a response payload in the ack; events do not.
   */
  push(type: EnvelopeType, payload: Record<string, unknown>): string {
    const socket = this.openConnection;
    if (!socket) throw new Error("the fake Socket Mode server has no open connection to push to");
    const envelopeId = randomBytes(8).toString("hex");
    const retry = type === "events_api" ? { retry_attempt: 0, retry_reason: "" } : {};
    socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== "events_api", ...retry }));
    this.sent.push({ envelopeId, type, at: Date.now() });
    return envelopeId;
  }

  /** Asks the client to reconnect, as Slack does before it recycles a connection (every few hours). */
  askToReconnect(): void {
    const socket = this.openConnection;
    if (!socket) throw new Error("the fake Socket Mode server has no open connection to refresh");
    socket.send(JSON.stringify({ type: "disconnect", reason: "refresh_requested", debug_info: { host: "applink-fake" } }));
  }

  /** Delivers a slash command over the socket: the fields Slack would post over HTTP (`slashCommandBody`), as a JSON payload. */
  pushSlashCommand(formBody: string): string {
    return this.push("slash_commands", Object.fromEntries(new URLSearchParams(formBody)));
  }

  /** Delivers an Events API callback over the socket: the JSON Slack would post over HTTP (`appHomeOpenedBody`). */
  pushEvent(jsonBody: string): string {
    return this.push("events_api", JSON.parse(jsonBody) as Record<string, unknown>);
  }

  /** The acks received for one envelope. */
  acksOf(envelopeId: string): SocketAck[] {
    return this.acks.filter((ack) => ack.envelope_id === envelopeId);
  }

  /** Resolves once `condition` holds, checking whenever the fake receives something. */
  waitFor<T>(condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    return this.arrivals.waitFor(condition, timeoutMs);
  }
}
