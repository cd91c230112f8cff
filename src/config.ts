import path from "node:path";
import { isIP } from "node:net";
import { z } from "zod";

/** Thrown when an environment variable holds a value edgebot cannot run with. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .optional();

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional();

const resolverAddress = z.string().refine((entry) => {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(entry);
  if (!match) return false;
  const host = match[1] ?? match[2] ?? "";
  const port = match[3] === undefined ? 53 : Number(match[3]);
  return isIP(host) !== 0 && port >= 1 && port <= 65535;
}, "each entry must be ip or ip:port");

const environmentSchema = z.object({
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
  ),
  DATA_DIR: optionalText,
  GIT_ROOT: optionalText,
  EDGE_CNAME_SUFFIX: optionalText.pipe(
    z
      .string()
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        "must be a lowercase DNS name such as edge.example.net",
      )
      .optional(),
  ),
  EDGE_IPV4: optionalText.pipe(
    z
      .string()
      .refine(
        (list) => list.split(",").every((ip) => isIP(ip.trim()) === 4),
        "must be a comma-separated list of IPv4 addresses",
      )
      .optional(),
  ),
  DNS_SERVERS: optionalText.pipe(
    z
      .string()
      .refine(
        (list) => list.split(",").every((entry) => resolverAddress.safeParse(entry.trim()).success),
        "must be a comma-separated list of ip[:port]",
      )
      .optional(),
  ),
  DNS_TIMEOUT_MS: optionalText.pipe(wholeNumber(50, 60_000)),
  DNS_CONCURRENCY: optionalText.pipe(wholeNumber(1, 10_000)),
  DATABASE_CONNECT_TIMEOUT_S: optionalText.pipe(wholeNumber(0, 86_400)),
  PORT: optionalText.pipe(wholeNumber(0, 65_535)),
  GIT_HTTP_PORT: optionalText.pipe(wholeNumber(0, 65_535)),
  // In bytes; a push of one small commit is well under a kilobyte, and git's own sizes are 64-bit.
  GIT_MAX_PUSH_BYTES: optionalText.pipe(wholeNumber(1024, 2 ** 40)),
  SLASH_COMMAND: optionalText.pipe(
    z.string().regex(/^\/[a-z0-9_-]{1,31}$/, "must look like /edge").optional(),
  ),
  SHUTDOWN_TIMEOUT_S: optionalText.pipe(wholeNumber(0, 3600)),
  LOG_LEVEL: optionalText.pipe(
    z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "must be one of fatal, error, warn, info, debug, trace, silent",
      })
      .optional(),
  ),
  EDGEBOT_USER: optionalText.pipe(
    z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, . _ or -").optional(),
  ),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_BOT_TOKEN: optionalText.pipe(z.string().startsWith("xoxb-", "must be a bot token, starting with xoxb- (OAuth & Permissions, Bot User OAuth Token)").optional()),
  SLACK_APP_TOKEN: optionalText.pipe(z.string().startsWith("xapp-", "must be an app-level token, starting with xapp- (Basic Information, App-Level Tokens)").optional()),
  SLACK_CLIENT_ID: optionalText,
  SLACK_CLIENT_SECRET: optionalText,
  SLACK_STATE_SECRET: optionalText,
  SLACK_TOKEN_KEYS: optionalText.pipe(
    z
      .string()
      .transform((list, context) => {
        // Entries are named by position: the message never quotes a key.
        const keys: Buffer[] = [];
        for (const [index, entry] of list.split(",").entries()) {
          const key = tokenKeyBytes(entry.trim());
          const same = key === undefined ? -1 : keys.findIndex((earlier) => earlier.equals(key));
          const problem = key === undefined ? tokenKeyRule : same >= 0 ? `is the same key as the ${ordinal(same + 1)}` : undefined;
          if (problem !== undefined) {
            context.addIssue({ code: "custom", message: `the ${ordinal(index + 1)} entry ${problem}` });
            return z.NEVER;
          }
          keys.push(key!);
        }
        return keys;
      })
      .optional(),
  ),
  // Before SLACK_TOKEN_KEYS: one key, read as a list of one.
  SLACK_TOKEN_KEY: optionalText.pipe(
    z
      .string()
      .transform((text, context) => {
        const key = tokenKeyBytes(text);
        if (key === undefined) context.addIssue({ code: "custom", message: tokenKeyRule });
        return key ?? z.NEVER;
      })
      .optional(),
  ),
  SLACK_API_URL: optionalText.pipe(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional()),
  METRICS_PORT: optionalText.pipe(wholeNumber(0, 65_535)),
  METRICS_HOST: optionalText.pipe(z.string().refine((host) => isIP(host) !== 0, "must be an IP address to bind to, like 127.0.0.1").optional()),
  METRICS_TOKEN: optionalText.pipe(z.string().min(16, "must be at least 16 characters (make one with: openssl rand -hex 32)").optional()),
});

export interface Config {
  /** Postgres connection string; undefined means the embedded PGlite database. */
  databaseUrl: string | undefined;
  /** How long to wait at start for a Postgres server that cannot be reached yet. */
  databaseConnectTimeoutSeconds: number;
  /** Where the embedded database and, by default, the repositories live. */
  dataDir: string;
  /** Directory holding one bare repository per application. */
  gitRoot: string;
  edgeCnameSuffix: string;
  edgeIpv4: string[];
  dnsServers: string[];
  dnsTimeoutMs: number;
  dnsConcurrency: number;
  port: number;
  /** The shell's git over HTTP port on 127.0.0.1 (default `port`; 0 picks a free one). In Slack HTTP mode git is served on `port`. */
  gitHttpPort: number;
  slashCommand: string;
  /** The largest pack a push over HTTP may send, in bytes (default 10 MiB). */
  gitMaxPushBytes: number;
  /** How long a stop waits for the commands in progress before it closes anyway. */
  shutdownTimeoutS: number;
  /** LOG_LEVEL as set; each mode picks its own default when unset. */
  logLevel: string | undefined;
  /** The local shell's user id (team `local`). */
  localUser: string;
  /**
   * Where Prometheus scrapes `/metrics`: on a port of its own (`port`, bound to `host`, 127.0.0.1
   * unless METRICS_HOST says), or, with only `token`, on the main port behind that bearer token.
   * Undefined: metrics are not served. `token`, when set, is asked for on either.
   */
  metrics: { port: number | undefined; host: string; token: string | undefined } | undefined;
  slack: {
    signingSecret: string | undefined;
    botToken: string | undefined;
    appToken: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    stateSecret: string | undefined;
    /**
     * The AES-256 keys of each workspace's bot token at rest (multi-workspace mode), newest first:
     * the first seals, any opens what it sealed. From SLACK_TOKEN_KEYS, or SLACK_TOKEN_KEY as a
     * list of one.
     */
    tokenKeys: readonly Buffer[] | undefined;
    apiUrl: string | undefined;
  };
}

/** Which way edgebot talks to Slack, decided by which SLACK_* variables are set. */
export type SlackMode = "shell" | "http" | "socket" | "oauth";

export function slackMode(slack: Config["slack"]): SlackMode {
  if (slack.clientId !== undefined) return "oauth";
  if (slack.signingSecret === undefined || slack.botToken === undefined) return "shell";
  return slack.appToken === undefined ? "http" : "socket";
}

const tokenKeyRule = "must be 32 bytes as 64 hex characters or base64 (make one with: openssl rand -hex 32)";

/** 1st, 2nd, 3rd, 4th… 11th, 12th, 13th… 21st. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** A 32-byte key written as 64 hex characters or as base64; undefined for anything else. */
function tokenKeyBytes(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text)) return undefined;
  const key = Buffer.from(text, "base64");
  return key.length === 32 ? key : undefined;
}

// Refused values are quoted back in the error, except these: a secret never reaches a log.
const secretVariables = new Set(["METRICS_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "SLACK_TOKEN_KEYS", "SLACK_TOKEN_KEY"]);

const splitList = (list: string | undefined): string[] =>
  list === undefined ? [] : list.split(",").map((item) => item.trim()).filter(Boolean);

// A URL's user and password never reach the log, even in a value that was refused.
export const withoutCredentials = (value: string): string => value.replace(/\/\/[^/@\s]*@/g, "//***@");

/**
 * One workspace over HTTP (or Socket Mode) needs both the signing secret and the bot token;
 * with only part of them set, names what is missing.
 */
function checkSlackHttpPair(values: z.infer<typeof environmentSchema>): void {
  const pair = { SLACK_SIGNING_SECRET: values.SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN: values.SLACK_BOT_TOKEN };
  const missing = Object.keys(pair).filter((name) => pair[name as keyof typeof pair] === undefined);
  const partly = missing.length === 1 || (missing.length === 2 && values.SLACK_APP_TOKEN !== undefined);
  if (partly) {
    const why = values.SLACK_APP_TOKEN ? "Socket Mode needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN besides SLACK_APP_TOKEN" : "Slack HTTP mode needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN together";
    throw new ConfigError(`${missing[0]}: is not set (${why})`);
  }
}

const multiWorkspaceVariables = ["SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET", "SLACK_SIGNING_SECRET", "SLACK_TOKEN_KEYS"] as const;

/**
 * Multi-workspace OAuth needs the three SLACK_CLIENT_ID/SECRET/STATE_SECRET variables, the signing
 * secret and the token keys (SLACK_TOKEN_KEY still stands for SLACK_TOKEN_KEYS) together; each
 * workspace's bot token comes from its installation, so a single SLACK_BOT_TOKEN (or Socket
 * Mode's app token) would be ambiguous and is refused.
 */
function checkSlackMultiWorkspace(values: z.infer<typeof environmentSchema>): void {
  const missing = multiWorkspaceVariables.find((name) => (name === "SLACK_TOKEN_KEYS" ? tokenKeys(values) : values[name]) === undefined);
  if (missing) throw new ConfigError(`${missing}: is not set (multi-workspace Slack needs ${multiWorkspaceVariables.slice(0, -1).join(", ")} and ${multiWorkspaceVariables.at(-1)} together)`);
  for (const name of ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"] as const) {
    if (values[name] !== undefined) throw new ConfigError(`${name}: must not be set with SLACK_CLIENT_ID (in multi-workspace mode each workspace's token comes from its installation)`);
  }
}

/** SLACK_TOKEN_KEYS, or SLACK_TOKEN_KEY as a list of one; both at once would leave unsaid which key is newest. */
function tokenKeys(values: z.infer<typeof environmentSchema>): Buffer[] | undefined {
  if (values.SLACK_TOKEN_KEY && values.SLACK_TOKEN_KEYS) throw new ConfigError("SLACK_TOKEN_KEY: must not be set with SLACK_TOKEN_KEYS (list every key in SLACK_TOKEN_KEYS, newest first)");
  return values.SLACK_TOKEN_KEYS ?? (values.SLACK_TOKEN_KEY ? [values.SLACK_TOKEN_KEY] : undefined);
}

/** Reads and validates the environment; a bad value throws one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "environment");
    const got = secretVariables.has(variable) ? "" : ` (got ${JSON.stringify(withoutCredentials(env[variable] ?? ""))})`;
    throw new ConfigError(`${variable}: ${issue.message}${got}`);
  }
  const values = parsed.data;
  if (values.SLACK_CLIENT_ID || values.SLACK_CLIENT_SECRET || values.SLACK_STATE_SECRET) checkSlackMultiWorkspace(values);
  else checkSlackHttpPair(values);
  if (values.METRICS_HOST !== undefined && values.METRICS_PORT === undefined) throw new ConfigError("METRICS_HOST: set METRICS_PORT too: the host is where that port is bound");
  const dataDir = path.resolve(values.DATA_DIR ?? ".edgebot");
  return {
    databaseUrl: values.DATABASE_URL,
    databaseConnectTimeoutSeconds: values.DATABASE_CONNECT_TIMEOUT_S ?? 60,
    dataDir,
    gitRoot: path.resolve(values.GIT_ROOT ?? path.join(dataDir, "repos")),
    edgeCnameSuffix: values.EDGE_CNAME_SUFFIX ?? "edge.example.net",
    edgeIpv4: splitList(values.EDGE_IPV4),
    dnsServers: splitList(values.DNS_SERVERS),
    dnsTimeoutMs: values.DNS_TIMEOUT_MS ?? 2000,
    dnsConcurrency: values.DNS_CONCURRENCY ?? 200,
    port: values.PORT ?? 3000,
    gitHttpPort: values.GIT_HTTP_PORT ?? values.PORT ?? 3000,
    slashCommand: values.SLASH_COMMAND ?? "/edge",
    gitMaxPushBytes: values.GIT_MAX_PUSH_BYTES ?? 10 * 1024 * 1024,
    shutdownTimeoutS: values.SHUTDOWN_TIMEOUT_S ?? 10,
    logLevel: values.LOG_LEVEL,
    localUser: values.EDGEBOT_USER ?? "local",
    metrics:
      values.METRICS_PORT === undefined && values.METRICS_TOKEN === undefined
        ? undefined
        : { port: values.METRICS_PORT, host: values.METRICS_HOST ?? "127.0.0.1", token: values.METRICS_TOKEN },
    slack: {
      signingSecret: values.SLACK_SIGNING_SECRET,
      botToken: values.SLACK_BOT_TOKEN,
      appToken: values.SLACK_APP_TOKEN,
      clientId: values.SLACK_CLIENT_ID,
      clientSecret: values.SLACK_CLIENT_SECRET,
      stateSecret: values.SLACK_STATE_SECRET,
      tokenKeys: tokenKeys(values),
      apiUrl: values.SLACK_API_URL,
    },
  };
}
