import path from "node:path";
import { mkdir } from "node:fs/promises";
import type { PGlite } from "@electric-sql/pglite";
import { Kysely, PostgresDialect, type LogEvent } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import { ConfigError } from "../config.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import type { Database } from "./schema.ts";

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** "postgres" for a server, "pglite" for the embedded database. */
  kind: "postgres" | "pglite";
  /** The connection string, when a Postgres server is open. */
  url?: string;
  /** The embedded database itself, when that is what is open. */
  pglite?: PGlite;
  /** How the Postgres server's connection pool is used now (the embedded database has none). */
  poolUse?: () => { total: number; idle: number; waiting: number; max: number };
  /**
   * Calls `onNotify` for each NOTIFY on `channel` once its transaction commits, until the
   * returned function is called. On a Postgres server it holds a connection of its own, opened
   * again (with a growing pause) when it breaks; a NOTIFY sent meanwhile is missed, so a
   * listener must have another way to learn of the work (a poll).
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Postgres connection string; when absent the embedded database is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; absent means in memory. */
  pgliteDir?: string | undefined;
  /** A dump (from PGlite's dumpDataDir) to start the embedded database from. */
  pgliteDump?: Blob | undefined;
  /** Called for every statement Kysely runs (benchmarks count statements with it). */
  onQuery?: (event: LogEvent) => void;
  /** Connections in the pool for a Postgres server. */
  poolSize?: number;
  /** Where a Postgres connection that breaks is reported; unreported when absent. */
  logger?: Logger;
}

/**
 * How long a statement waits for a Postgres connection before it fails, so that a command
 * during an outage is answered at once rather than when the operating system gives up on a
 * server that does not answer (minutes). A refused connection fails sooner still.
 */
export const connectTimeoutMs = 5000;

/**
 * The database the configuration names: Postgres at DATABASE_URL, else PGlite in DATA_DIR/pglite,
 * which this process then holds alone (`lockDataDir`) until the handle is closed. Several
 * processes may share one Postgres server; only one may open an embedded database.
 */
export async function openConfiguredDatabase(config: { databaseUrl: string | undefined; dataDir: string }, logger?: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl, ...(logger ? { logger } : {}) });
  await mkdir(config.dataDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`DATA_DIR: cannot create ${config.dataDir} (${error.code ?? error.message})`);
  });
  const lock = lockDataDir(config.dataDir);
  try {
    const handle = await openDatabase({ pgliteDir: path.join(config.dataDir, "pglite") });
    return {
      ...handle,
      close: async () => {
        try {
          await handle.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Opens Postgres when a URL is given, else embedded PGlite; both speak the same SQL. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const log = options.onQuery;
  if (options.databaseUrl) {
    const pool = connectionPool(options.databaseUrl, options.poolSize ?? 10, options.logger);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
    const poolUse = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max });
    const databaseUrl = options.databaseUrl;
    return { db, kind: "postgres", url: databaseUrl, poolUse, listen: (channel, onNotify) => listenOnServer(databaseUrl, channel, onNotify, options.logger), close: () => db.destroy() };
  }
  if (options.pgliteDir) await mkdir(path.dirname(options.pgliteDir), { recursive: true });
  // Loaded only here: a process on a Postgres server never reads the embedded database's code.
  const { PGlite } = await import("@electric-sql/pglite");
  const pglite = await PGlite.create({
    ...(options.pgliteDir ? { dataDir: options.pgliteDir } : {}),
    ...(options.pgliteDump ? { loadDataDir: options.pgliteDump } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite), ...(log ? { log } : {}) });
  return {
    db,
    kind: "pglite",
    pglite,
    listen: async (channel, onNotify) => {
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}

/** LISTEN on a connection of its own to the server, opened again when it breaks (see `DatabaseHandle.listen`). */
async function listenOnServer(connectionString: string, channel: string, onNotify: () => void, logger: Logger | undefined): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const connect = async (pauseMs: number): Promise<void> => {
    const next = new pg.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
    const reopen = () => {
      if (closed || client !== next) return;
      client = undefined;
      retryTimer = setTimeout(() => void connect(Math.min(pauseMs * 2, 5000)), pauseMs);
    };
    next.on("notification", (message) => {
      if (message.channel === channel) onNotify();
    });
    next.on("error", (error) => logger?.warn({ reason: error.message, channel }, "the LISTEN connection broke; it is opened again"));
    next.on("end", reopen);
    client = next;
    try {
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
      // Whatever was written while it was away is due now.
      onNotify();
    } catch (error) {
      logger?.warn({ reason: (error as Error).message, channel }, "could not LISTEN; trying again");
      await next.end().catch(() => undefined);
      reopen();
    }
  };
  await connect(250);
  return async () => {
    closed = true;
    clearTimeout(retryTimer);
    await client?.end().catch(() => undefined);
  };
}

/**
 * A pg pool that survives its connections breaking (a server restarted or failed over, a
 * backend terminated, an idle connection reaped). pg reports a connection that breaks as an
 * `error` event, and an event nobody listens to ends the process. An idle connection's error
 * reaches the pool, which drops it; one checked out reports on the client, and its statement
 * fails too, after which the pool drops it when it comes back. Either way the next statement
 * gets a new connection.
 */
function connectionPool(connectionString: string, max: number, logger: Logger | undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
  const report = (error: Error) => logger?.warn({ reason: error.message, code: (error as { code?: unknown }).code }, "a database connection broke; it is dropped and the next statement opens a new one");
  pool.on("error", report);
  const endedByServer = new WeakSet<pg.PoolClient>();
  pool.on("connect", (client) => {
    // A client reports its error on itself while it is checked out; the statement it is running fails too, and says why.
    client.on("error", () => undefined);
    // A FATAL answer ends the session (a terminated backend, a shutdown), but pg gives it to the statement it
    // answers and the pool takes the connection back as if it were fine, until its socket closes.
    (client as unknown as pg.Client).connection.on("errorMessage", (message: { severity?: string }) => {
      if (message.severity === "FATAL" || message.severity === "PANIC") endedByServer.add(client);
    });
  });
  handOutOnlyLiveConnections(pool, (client) => !endedByServer.has(client) && (client as { _queryable?: boolean })._queryable !== false);
  return pool;
}

/**
 * A connection the server ended can still be handed out: one whose statement was answered
 * with a FATAL goes back to the pool, and one that was idle may have the server's goodbye
 * waiting unread in its socket while the process was busy. One turn of the event loop reads
 * that; a connection that turns out ended is dropped and another one taken, so the next command
 * after the server dropped connections does not fail for it. (pg-pool itself reads `_queryable`.)
 */
function handOutOnlyLiveConnections(pool: pg.Pool, isLive: (client: pg.PoolClient) => boolean): void {
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const live = async (): Promise<pg.PoolClient> => {
    for (let tries = 1; ; tries += 1) {
      const client = await connect();
      await new Promise((resolve) => setImmediate(resolve));
      if (isLive(client) || tries > pool.options.max) return client;
      client.release(new Error("the server ended this connection"));
    }
  };
  pool.connect = ((callback?: unknown) => (callback === undefined ? live() : (connect as (callback: unknown) => void)(callback))) as typeof pool.connect;
}
